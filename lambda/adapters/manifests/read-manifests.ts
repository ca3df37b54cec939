/**
 * A ClusterSource over files: manifest folders, multi-document YAML, JSON, and `kubectl get -o json|yaml`
 * dumps (`kind: List` / `*List`). Every Namespace becomes a model Namespace; every other object is kept
 * as a ResourceObject with the file and line it came from, so engines decide what they read.
 *
 * A file that cannot be decoded or parsed is an InputError (the whole read fails: the input is not what
 * the user thinks it is); an object that is merely malformed is an InputProblem and the read goes on.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { ClusterSnapshot, InputProblem, Namespace, ResourceObject, SourceRef } from '../../audit/index.js';
import { InputError, UsageError } from '../../errors.js';
import type { ClusterSource } from '../../ports.js';

export interface ManifestSourceOptions {
  /** Files or folders; folders are walked recursively for .yaml, .yml and .json files. */
  readonly paths: readonly string[];
  /** The cluster name; defaults to the base name of the first path, without its extension. */
  readonly cluster?: string;
}

/** One object as read, before it is mapped into the model. */
export interface ManifestItem {
  readonly obj: unknown;
  readonly source: SourceRef;
  /** Where inside its document the object sits when it came out of a List, e.g. "items[3]". */
  readonly where?: string;
}

export interface ManifestParseResult {
  readonly objects: ManifestItem[];
  readonly problems: InputProblem[];
}

const MANIFEST_FILE_RE = /\.(ya?ml|json)$/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function createManifestSource(options: ManifestSourceOptions): ClusterSource {
  const first = options.paths[0];
  if (first === undefined) throw new UsageError('the manifest source needs at least one file or folder');
  const cluster = options.cluster ?? defaultClusterName(first);

  return {
    cluster,
    async read(): Promise<ClusterSnapshot> {
      const problems: InputProblem[] = [];
      const files = await listManifestFiles(options.paths, problems);
      if (files.length === 0) {
        throw new InputError(options.paths.join(', '), 'no .yaml, .yml or .json files found');
      }
      const items: ManifestItem[] = [];
      for (const file of files) {
        const parsed = parseManifestText(await readText(file), file);
        items.push(...parsed.objects);
        problems.push(...parsed.problems);
      }
      const snapshot = snapshotFromObjects(cluster, items);
      return { ...snapshot, problems: [...problems, ...snapshot.problems] };
    },
  };
}

/** `dumps/prod-eu.json` -> "prod-eu"; `clusters/staging/` -> "staging"; `.` -> the current folder's name. */
export function defaultClusterName(path: string): string {
  const base = basename(resolve(path));
  return MANIFEST_FILE_RE.test(base) ? base.slice(0, -extname(base).length) : base;
}

// ---------------------------------------------------------------------------------------------
// Files

async function listManifestFiles(paths: readonly string[], problems: InputProblem[]): Promise<string[]> {
  const files: string[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const add = (file: string): void => {
    const key = resolve(file);
    if (!seenFiles.has(key)) {
      seenFiles.add(key);
      files.push(file);
    }
  };

  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const entries = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          problems.push({ message: 'broken symbolic link skipped', source: { file: full } });
          continue;
        }
      }
      if (isDir) await walk(full);
      else if (isFile && MANIFEST_FILE_RE.test(entry.name)) add(full);
    }
  };

  for (const path of paths) {
    try {
      const info = await stat(path);
      // A file named explicitly is read whatever its extension.
      if (info.isDirectory()) await walk(path);
      else add(path);
    } catch (e) {
      throw asInputError(path, e);
    }
  }
  return files;
}

async function readText(file: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw asInputError(file, e);
  }
  return decodeUtf8(bytes, file);
}

function asInputError(file: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : `cannot read: ${e instanceof Error ? e.message : String(e)}`;
  return new InputError(file, message, { cause: e });
}

/** Decodes strict UTF-8 (a BOM is dropped); anything else is an InputError naming the byte offset. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (e) {
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
      throw new InputError(file, 'not UTF-8: the file is UTF-16 (byte-order mark at byte offset 0); save it as UTF-8', {
        line: 1,
        cause: e,
      });
    }
    const offset = invalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
    throw new InputError(file, `not valid UTF-8: byte 0x${byte} at byte offset ${offset}`, { line, cause: e });
  }
}

/** The offset of the first byte that starts an invalid UTF-8 sequence (bytes.length when none does). */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    const extra = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (extra === 0) return i;
    // The second byte's range is narrower after E0, ED, F0 and F4 (no overlongs, surrogates or > U+10FFFF).
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += extra + 1;
  }
  return bytes.length;
}

// ---------------------------------------------------------------------------------------------
// Text -> objects

/**
 * Parses one file's text into objects, flattening Lists. Pure. JSON goes through JSON.parse (fast
 * enough for a 100,000-namespace dump), where all items of a List share the line the List starts on;
 * YAML (possibly multi-document) gives every document and List item its own line.
 * A `.json` file is JSON unless it does not start with `{` or `[` (YAML saved as .json); any other
 * file is YAML, tried as JSON first when it starts with `{`.
 * Throws InputError (file:line) when the text is not valid YAML or JSON.
 */
export function parseManifestText(text: string, file: string): ManifestParseResult {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: ManifestParseResult = { objects: [], problems: [] };
  const start = firstNonSpace(source);
  const first = source[start];
  const isJsonFile = file.toLowerCase().endsWith('.json');
  if ((isJsonFile && (first === '{' || first === '[')) || first === '{') {
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (e) {
      if (isJsonFile) throw jsonSyntaxError(source, file, e);
      parseYaml(source, file, out); // YAML flow style: `{apiVersion: v1, ...}`
      return out;
    }
    collect(value, { file, line: lineAt(source, start) }, '', undefined, () => 0, out);
    return out;
  }
  parseYaml(source, file, out);
  return out;
}

function jsonSyntaxError(text: string, file: string, e: unknown): InputError {
  const message = e instanceof Error ? e.message : String(e);
  // V8 names the position for most errors ("... in JSON at position 46"), not for all.
  const position = /at position (\d+)/.exec(message)?.[1];
  const line = position === undefined ? undefined : lineAt(text, Number(position));
  return new InputError(file, `invalid JSON: ${message}`, line === undefined ? { cause: e } : { line, cause: e });
}

function parseYaml(text: string, file: string, out: ManifestParseResult): void {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(docs)) return; // an empty stream: only comments or nothing
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) {
      throw new InputError(file, `invalid YAML: ${error.message}`, { line: lineOf(error.pos[0]), cause: error });
    }
    const node = doc.contents;
    const line = lineOf(node?.range?.[0] ?? 0);
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (e) {
      throw new InputError(file, `invalid YAML: ${e instanceof Error ? e.message : String(e)}`, { line, cause: e });
    }
    if (value === null || value === undefined) continue; // an empty document (`---` with nothing after it)
    collect(value, { file, line }, '', node, lineOf, out);
  }
}

/** Adds an object, or the items of a List (recursively), to `out`. `node` is the YAML node when there is one. */
function collect(
  value: unknown,
  source: SourceRef,
  where: string,
  node: unknown,
  lineOf: (offset: number) => number,
  out: ManifestParseResult,
): void {
  if (!isList(value)) {
    out.objects.push(where === '' ? { obj: value, source } : { obj: value, source, where });
    return;
  }
  const items = value.items;
  if (items === undefined || items === null) return; // an empty List as Go marshals it
  if (!Array.isArray(items)) {
    out.problems.push({ message: `${prefix(where)}a ${String(value.kind)} whose items is not an array`, source });
    return;
  }
  const itemsNode = isMap(node) ? node.get('items', true) : undefined;
  const itemNodes = isSeq(itemsNode) ? itemsNode.items : [];
  items.forEach((item: unknown, i) => {
    const itemNode = itemNodes[i] as { range?: [number, number, number] | null } | undefined;
    const start = itemNode?.range?.[0];
    const itemSource = start === undefined ? source : { file: source.file, line: lineOf(start) };
    collect(item, itemSource, `${where === '' ? '' : `${where}.`}items[${i}]`, itemNode, lineOf, out);
  });
}

/** `kind: List`, or a `*List` kind without a name of its own (`NamespaceList`, `NetworkPolicyList`). */
function isList(value: unknown): value is Record<string, unknown> & { items?: unknown } {
  if (!isRecord(value) || typeof value.kind !== 'string') return false;
  if (value.kind === 'List') return true;
  return value.kind.endsWith('List') && !(isRecord(value.metadata) && typeof value.metadata.name === 'string');
}

function firstNonSpace(text: string): number {
  let i = 0;
  while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  return i;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

// ---------------------------------------------------------------------------------------------
// Objects -> snapshot

/**
 * Maps parsed objects into a snapshot. Pure. Malformed objects become problems and are left out;
 * a name seen twice (a namespace, or an object of the same group, kind and namespace) is a problem
 * and the last one wins, as it would when applied to a cluster.
 */
export function snapshotFromObjects(cluster: string, items: readonly ManifestItem[]): ClusterSnapshot {
  const problems: InputProblem[] = [];
  const namespaces = new Map<string, { ns: Namespace; source: SourceRef }>();
  const objects = new Map<string, ResourceObject>();
  const problem = (item: ManifestItem, message: string): void => {
    problems.push({ message: `${prefix(item.where ?? '')}${message}`, source: item.source });
  };

  for (const item of items) {
    const obj = item.obj;
    if (!isRecord(obj)) {
      problem(item, `expected a Kubernetes object, found ${describe(obj)}`);
      continue;
    }
    const { apiVersion, kind } = obj;
    const metadata = isRecord(obj.metadata) ? obj.metadata : undefined;
    const name = metadata?.name;
    if (!nonEmptyString(apiVersion) || !nonEmptyString(kind) || metadata === undefined || !nonEmptyString(name)) {
      const missing = [
        nonEmptyString(apiVersion) ? undefined : 'apiVersion',
        nonEmptyString(kind) ? undefined : 'kind',
        nonEmptyString(name) ? undefined : 'metadata.name',
      ].filter((x) => x !== undefined);
      problem(item, `not a Kubernetes object: missing ${missing.join(', ')}`);
      continue;
    }

    if (kind === 'Namespace' && apiVersion === 'v1') {
      const ns: Namespace = {
        name,
        labels: namespaceLabels(metadata.labels, (m) => problem(item, `namespace "${name}": ${m}`)),
      };
      const previous = namespaces.get(name);
      if (previous !== undefined) {
        problem(
          item,
          `namespace "${name}" is defined again (first at ${formatSource(previous.source)}); the last one wins`,
        );
        namespaces.delete(name); // keep the order of the winning definition
      }
      namespaces.set(name, { ns, source: item.source });
      continue;
    }

    const rawNamespace = metadata.namespace;
    if (rawNamespace !== undefined && rawNamespace !== null && !nonEmptyString(rawNamespace)) {
      problem(item, `${kind} "${name}": metadata.namespace must be a non-empty string`);
      continue;
    }
    const namespace = rawNamespace ?? null;
    const key = [apiGroup(apiVersion), kind, namespace ?? '', name].join('\u0000');
    const previous = objects.get(key);
    if (previous !== undefined) {
      const at = previous.source === undefined ? '' : ` (first at ${formatSource(previous.source)})`;
      problem(item, `${kind} "${qualified(namespace, name)}" is defined again${at}; the last one wins`);
      objects.delete(key); // keep the order of the winning definition
    }
    objects.set(key, { apiVersion, kind, name, namespace, body: obj, source: item.source });
  }

  if (namespaces.size === 0) {
    problems.push({ message: 'no Namespace objects found: the audit sees a cluster without namespaces' });
  }
  return {
    cluster,
    namespaces: [...namespaces.values()].map((entry) => entry.ns),
    objects: [...objects.values()],
    reads: [
      { resource: 'namespaces', status: 'complete' },
      { resource: 'policies', status: 'complete' },
    ],
    problems,
  };
}

/** A namespace's labels as a string map; other values are reported and dropped (the API server rejects them). */
function namespaceLabels(raw: unknown, report: (message: string) => void): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) {
    report(`metadata.labels must be a map of strings, found ${describe(raw)}; labels ignored`);
    return {};
  }
  const entries = Object.entries(raw);
  const strings = entries.filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (strings.length < entries.length) {
    for (const [key, value] of entries) {
      if (typeof value !== 'string')
        report(`label "${key}" is ${describe(value)}, not a string (quote it); label ignored`);
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays a plain (invalid) label.
  return Object.fromEntries(strings);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function apiGroup(apiVersion: string): string {
  return apiVersion.slice(0, Math.max(0, apiVersion.lastIndexOf('/')));
}

function qualified(namespace: string | null, name: string): string {
  return namespace === null ? name : `${namespace}/${name}`;
}

function formatSource(source: SourceRef): string {
  return source.line === undefined ? source.file : `${source.file}:${source.line}`;
}

function prefix(where: string): string {
  return where === '' ? '' : `${where}: `;
}
