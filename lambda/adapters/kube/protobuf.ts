/**
 * The Kubernetes protobuf encoding, as far as labelguard reads it: a NamespaceList (each item's name
 * and labels, the list's continue token) and a Status (an error's message, reason and continue
 * token). The API server sends built-in types this way to clients that ask for it, as kubectl does.
 *
 * Everything else in a namespace (managedFields, annotations, spec, status) is skipped by its length
 * without being decoded: that is the point. A namespace list costs a fraction of parsing its JSON,
 * however much the namespaces carry.
 *
 * The wire: the magic `k8s\0`, then a `runtime.Unknown` (1: typeMeta, 2: raw, 3: contentEncoding,
 * 4: contentType) whose `raw` is the object. NamespaceList: 1 metadata (ListMeta: 3 continue),
 * 2 items. Namespace: 1 metadata (ObjectMeta: 1 name, 11 labels as map entries 1 key, 2 value).
 * Status: 1 metadata (ListMeta), 3 message, 4 reason, 6 code. Malformed input throws
 * `ProtobufError`; nothing is ever read outside the body.
 */
import type { EarlyToken } from './list-head.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

export interface ProtobufNamespace {
  readonly name: string;
  readonly labels: Record<string, string> | undefined;
}

export interface ProtobufNamespaceList {
  readonly continueToken: string | undefined;
  readonly items: ProtobufNamespace[];
}

export interface ProtobufStatus {
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly continueToken?: string;
}

/** True when `body` starts with the protobuf magic. */
export function isProtobuf(body: Uint8Array): boolean {
  return body.length >= 4 && MAGIC.every((b, i) => body[i] === b);
}

/** A NamespaceList's items (name and labels) and continue token. Throws ProtobufError. */
export function decodeNamespaceList(body: Buffer): ProtobufNamespaceList {
  return whole(() => namespaceList(body));
}

function namespaceList(body: Buffer): ProtobufNamespaceList {
  const raw = unknownRaw(body);
  const items: ProtobufNamespace[] = [];
  let continueToken: string | undefined;
  const r = new Reader(body, raw.start, raw.end);
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const meta = r.message();
      continueToken = listMetaContinue(body, meta.start, meta.end) ?? continueToken;
    } else if (field === 2 && wire === 2) {
      const item = r.message();
      items.push(namespace(body, item.start, item.end));
    } else r.skip(wire);
  }
  return { continueToken, items };
}

/** A Status's message, reason, code and continue token. Throws ProtobufError. */
export function decodeStatus(body: Buffer): ProtobufStatus {
  return whole(() => status(body));
}

function status(body: Buffer): ProtobufStatus {
  const raw = unknownRaw(body);
  const r = new Reader(body, raw.start, raw.end);
  let message: string | undefined;
  let reason: string | undefined;
  let code: number | undefined;
  let continueToken: string | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const meta = r.message();
      continueToken = listMetaContinue(body, meta.start, meta.end) ?? continueToken;
    } else if (field === 3 && wire === 2) message = r.string();
    else if (field === 4 && wire === 2) reason = r.string();
    else if (field === 6 && wire === 0) code = r.varint();
    else r.skip(wire);
  }
  return {
    ...(message === undefined ? {} : { message }),
    ...(reason === undefined ? {} : { reason }),
    ...(code === undefined ? {} : { code }),
    ...(continueToken === undefined ? {} : { continueToken }),
  };
}

/**
 * The continue token of a NamespaceList from the head of its body, as `continueTokenFromHead`
 * does for JSON: the list's metadata comes before its items. MORE when more bytes are needed,
 * NONE when there is no token (or the head is not laid out so).
 */
export function continueTokenFromProtobufHead(head: Buffer): EarlyToken | 'more' | 'none' {
  try {
    if (head.length < 4) return 'more';
    if (!isProtobuf(head)) return 'none';
    const r = new Reader(head, 4, head.length);
    for (;;) {
      if (!r.more()) return 'more';
      const { field, wire } = r.tag();
      if (field === 2 && wire === 2) {
        r.varint(); // the object's length: it goes past this head
        if (!r.more()) return 'more';
        const first = r.tag();
        if (first.field !== 1 || first.wire !== 2) return 'none';
        const meta = r.message();
        const token = listMetaContinue(head, meta.start, meta.end);
        return token === undefined || token === '' ? 'none' : { token };
      }
      r.skip(wire);
    }
  } catch (e) {
    if (e instanceof Incomplete) return 'more';
    return 'none';
  }
}

/** `decode()`, with a field cut short reported as the body ending early. */
function whole<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof Incomplete) throw new ProtobufError('the protobuf body ends early');
    throw e;
  }
}

/** Where `runtime.Unknown.raw` lies in `body`. */
function unknownRaw(body: Buffer): { start: number; end: number } {
  if (!isProtobuf(body)) throw new ProtobufError('not a Kubernetes protobuf body (no k8s magic)');
  const r = new Reader(body, 4, body.length);
  let raw: { start: number; end: number } | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 2 && wire === 2) raw = r.message();
    else r.skip(wire);
  }
  if (raw === undefined) throw new ProtobufError('the protobuf body has no object');
  return raw;
}

function listMetaContinue(buf: Buffer, start: number, end: number): string | undefined {
  const r = new Reader(buf, start, end);
  let token: string | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 3 && wire === 2) token = r.string();
    else r.skip(wire);
  }
  return token;
}

function namespace(buf: Buffer, start: number, end: number): ProtobufNamespace {
  const r = new Reader(buf, start, end);
  let name = '';
  let labels: Record<string, string> | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const meta = r.message();
    const m = new Reader(buf, meta.start, meta.end);
    while (m.more()) {
      const t = m.tag();
      if (t.field === 1 && t.wire === 2) name = m.string();
      else if (t.field === 11 && t.wire === 2) {
        const entry = m.message();
        const e = new Reader(buf, entry.start, entry.end);
        let key = '';
        let value = '';
        while (e.more()) {
          const x = e.tag();
          if (x.field === 1 && x.wire === 2) key = e.string();
          else if (x.field === 2 && x.wire === 2) value = e.string();
          else e.skip(x.wire);
        }
        labels ??= {};
        // As JSON.parse would have it: an own property, even for "__proto__".
        if (key === '__proto__')
          Object.defineProperty(labels, key, { value, enumerable: true, writable: true, configurable: true });
        else labels[key] = value;
      } else m.skip(t.wire);
    }
  }
  return { name, labels };
}

/** The bytes ran out in the middle of a field. */
class Incomplete extends Error {}

class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.pos < this.end;
  }

  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new ProtobufError('a protobuf field numbered 0');
    return { field, wire: key % 8 };
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Incomplete();
      const b = this.buf[this.pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new ProtobufError('a protobuf varint longer than 10 bytes');
  }

  message(): { start: number; end: number } {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new Incomplete();
    this.pos = start + length;
    return { start, end: this.pos };
  }

  string(): string {
    const { start, end } = this.message();
    return this.buf.toString('utf8', start, end);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.message();
    else if (wire === 1) this.advance(8);
    else if (wire === 5) this.advance(4);
    else throw new ProtobufError(`a protobuf field of wire type ${wire}`);
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new Incomplete();
    this.pos += n;
  }
}
