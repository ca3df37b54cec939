/**
 * Parsing list bodies off the event loop. Reading many clusters at once is CPU-bound on decoding
 * and parsing their JSON (a 2,000-namespace cluster is about a megabyte); one event loop does it
 * one body at a time while the others wait. Large bodies are parsed on worker threads, one fewer
 * than the CPUs the process may use, and come back already slimmed (only what the reader keeps),
 * so handing them back costs a fraction of parsing them. Small bodies, and a process with one
 * CPU, parse in place. Either way the result is what `JSON.parse` gives, minus the parts the
 * reader drops anyway (`map.ts` stays the authority on those), and a body that is not JSON
 * fails with the same `SyntaxError`.
 *
 * The worker is a function of this file run from its source text: no second file to ship in the
 * CLI or the Lambda bundle. Idle workers do not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker, type MessagePort } from 'node:worker_threads';

/** What the reader keeps of a body: namespaces' name and labels, objects without managedFields and last-applied, or all. */
export type Slim = 'namespaces' | 'objects' | 'none';

/** Bodies smaller than this parse in place: handing them to a thread costs more than it saves. */
export const WORKER_MIN_BYTES = 64 * 1024;

/** Parses `body` (UTF-8 JSON) and slims it as `slim` says. Rejects with a SyntaxError when it is not JSON. */
export function parseJsonBody(body: Buffer, slim: Slim): Promise<unknown> {
  if (body.length >= WORKER_MIN_BYTES) {
    const pool = sharedPool();
    if (pool !== null) return pool.parse(body, slim);
  }
  return new Promise((resolve) => resolve(slimmed(JSON.parse(body.toString('utf8')), slim)));
}

interface Job {
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

interface Reply {
  readonly id: number;
  readonly value?: unknown;
  /**
   * A namespace list's items, flat: per item, in `shape`, its number of labels (-1: no labels; -2:
   * labels that are not an object); in `refs`, indices into `table` of its name, then of each
   * label's key and value (or of the labels value itself, for -2).
   */
  readonly shape?: Int32Array;
  readonly refs?: Int32Array;
  /** The values `refs` point at: each distinct string once (label keys, names repeated as values). */
  readonly table?: readonly unknown[];
  readonly error?: { readonly name: string; readonly message: string };
}

interface Pool {
  parse(body: Buffer, slim: Slim): Promise<unknown>;
}

let pool: Pool | null | undefined;

function sharedPool(): Pool | null {
  if (pool === undefined) {
    const threads = Math.min(3, availableParallelism() - 1);
    pool = threads >= 1 ? createPool(threads) : null;
  }
  return pool;
}

// The worker runs as a CommonJS script: its entry gets the port the only way such a script can.
// Bundlers rewrite `require` calls in code, not in strings, so it stays a string here.
const WORKER_SOURCE = `const { parentPort } = require('node:worker_threads');\n(${workerMain.toString()})(parentPort, ${slimmed.toString()});`;

function createPool(size: number): Pool {
  const workers: { worker: Worker | null; pending: Map<number, Job> }[] = Array.from({ length: size }, () => ({
    worker: null,
    pending: new Map<number, Job>(),
  }));
  let nextId = 0;

  const start = (slot: (typeof workers)[number]): Worker => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = slot.pending.get(reply.id);
      if (job === undefined) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.error === undefined)
        job.resolve(
          reply.shape === undefined || reply.refs === undefined
            ? reply.value
            : unflatten(reply.value, reply.shape, reply.refs, reply.table ?? []),
        );
      else
        job.reject(
          reply.error.name === 'SyntaxError' ? new SyntaxError(reply.error.message) : new Error(reply.error.message),
        );
    });
    // A worker that dies fails its jobs (the reader retries them) and is replaced on next use.
    const fail = (reason: unknown): void => {
      if (slot.worker === worker) slot.worker = null;
      for (const job of slot.pending.values()) job.reject(reason instanceof Error ? reason : new Error(String(reason)));
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the JSON parser thread exited (${code})`)));
    slot.worker = worker;
    return worker;
  };

  return {
    parse(body, slim) {
      // The least busy thread; ties to the first.
      let slot = workers[0]!;
      for (const w of workers) if (w.pending.size < slot.pending.size) slot = w;
      const worker = slot.worker ?? start(slot);
      const id = nextId++;
      // Hand over the bytes without copying when the buffer owns its memory; else a copy.
      const own =
        body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer
          ? body
          : Buffer.from(body);
      const bytes = new Uint8Array(own.buffer as ArrayBuffer, own.byteOffset, own.byteLength);
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, bytes, slim }, [bytes.buffer]);
      });
    },
  };
}

/** A namespace list back from its flat form. */
function unflatten(value: unknown, shape: Int32Array, refs: Int32Array, table: readonly unknown[]): unknown {
  const items: unknown[] = [];
  let r = 0;
  for (let n = 0; n < shape.length; n++) {
    const name = table[refs[r++] as number];
    const count = shape[n] as number;
    if (count === -2) {
      items.push({ metadata: { name, labels: table[refs[r++] as number] } });
      continue;
    }
    if (count === -1) {
      items.push({ metadata: { name } });
      continue;
    }
    const labels: Record<string, unknown> = {};
    for (let j = 0; j < count; j++) {
      const key = table[refs[r++] as number] as string;
      const v = table[refs[r++] as number];
      // As JSON.parse makes it: an own property, even for "__proto__".
      if (key === '__proto__')
        Object.defineProperty(labels, key, { value: v, enumerable: true, writable: true, configurable: true });
      else labels[key] = v;
    }
    items.push({ metadata: { name, labels } });
  }
  (value as { items?: unknown }).items = items;
  return value;
}

/**
 * What the reader keeps of a parsed body. Runs on both sides, so it uses nothing but its arguments
 * (it is also sent to the worker as source text).
 */
function slimmed(value: unknown, slim: Slim): unknown {
  if (slim === 'none' || typeof value !== 'object' || value === null) return value;
  const items = (value as { items?: unknown }).items;
  if (!Array.isArray(items)) return value;
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (typeof item !== 'object' || item === null) continue;
    const metadata = (item as { metadata?: unknown }).metadata;
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) continue;
    const m = metadata as Record<string, unknown>;
    if (slim === 'namespaces') {
      items[i] = { metadata: { name: m.name, labels: m.labels } };
      continue;
    }
    delete m.managedFields;
    const annotations = m.annotations;
    if (typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations)) {
      delete (annotations as Record<string, unknown>)['kubectl.kubernetes.io/last-applied-configuration'];
    }
  }
  return value;
}

/** The thread: parse, slim, send back. Source text only: it runs in the worker, not here. */
function workerMain(parentPort: MessagePort, slim: typeof slimmed): void {
  const decoder = new TextDecoder();
  parentPort.on('message', (job: { id: number; bytes: Uint8Array; slim: Slim }) => {
    try {
      const value = JSON.parse(decoder.decode(job.bytes)) as { items?: unknown } | null;
      if (job.slim === 'namespaces' && typeof value === 'object' && value !== null && Array.isArray(value.items)) {
        // Only name and labels are kept, and many small objects are slow to hand across: one array
        // of indices is not, with each distinct string (label keys, a name repeated as a label
        // value) sent once. (No functions in here: a bundler that keeps names would wrap them in
        // a helper this thread does not have.)
        const items = value.items as ({ metadata?: { name?: unknown; labels?: unknown } } | null)[];
        const values: unknown[] = [];
        const shape: number[] = [];
        for (const item of items) {
          const m = item?.metadata;
          const labels = m?.labels;
          values.push(m?.name);
          if (typeof labels === 'object' && labels !== null && !Array.isArray(labels)) {
            const keys = Object.keys(labels);
            shape.push(keys.length);
            for (const k of keys) values.push(k, (labels as Record<string, unknown>)[k]);
          } else if (labels === undefined) shape.push(-1);
          else {
            shape.push(-2);
            values.push(labels);
          }
        }
        // Strings only are shared (anything else a label could wrongly hold is sent as it is: a
        // Map would take -0 for 0).
        const table: unknown[] = [];
        const index = new Map<string, number>();
        const refs = new Int32Array(values.length);
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          if (typeof v !== 'string') {
            refs[i] = table.push(v) - 1;
            continue;
          }
          let at = index.get(v);
          if (at === undefined) {
            at = table.push(v) - 1;
            index.set(v, at);
          }
          refs[i] = at;
        }
        value.items = undefined;
        const layout = Int32Array.from(shape);
        parentPort.postMessage({ id: job.id, value, refs, shape: layout, table }, [refs.buffer, layout.buffer]);
        return;
      }
      parentPort.postMessage({ id: job.id, value: slim(value, job.slim) });
    } catch (e) {
      const error = e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
      parentPort.postMessage({ id: job.id, error });
    }
  });
}
