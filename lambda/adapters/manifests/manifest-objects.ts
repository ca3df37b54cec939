/**
 * Manifest text and parsed objects -> a ClusterSnapshot, without the YAML parser: JSON files and
 * `kubectl get -o json` dumps are parsed here; YAML goes through manifest-yaml.ts, which is loaded
 * only for YAML input. Pure.
 */
import type { ClusterSnapshot, InputProblem, Namespace, ResourceObject, SourceRef } from '../../audit/index.js';
import { InputError } from '../../errors.js';

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

// ---------------------------------------------------------------------------------------------
// Text -> objects

/** The text without a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses one file's text as JSON when it is JSON, flattening Lists; null when the text is YAML.
 * JSON goes through JSON.parse (fast enough for a 100,000-namespace dump), where all items of a
 * List share the line the List starts on. A `.json` file is JSON unless it does not start with `{`
 * or `[` (YAML saved as .json); any other file is YAML, tried as JSON first when it starts with `{`.
 * Throws InputError (file:line) when a `.json` file is not valid JSON.
 */
export function parseJsonManifest(source: string, file: string): ManifestParseResult | null {
  const out: ManifestParseResult = { objects: [], problems: [] };
  const start = firstNonSpace(source);
  const first = source[start];
  const isJsonFile = file.toLowerCase().endsWith('.json');
  if (!((isJsonFile && (first === '{' || first === '[')) || first === '{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    if (isJsonFile) throw jsonSyntaxError(source, file, e);
    return null; // YAML flow style: `{apiVersion: v1, ...}`
  }
  collect(value, { file, line: lineAt(source, start) }, '', undefined, null, out);
  return out;
}

function jsonSyntaxError(text: string, file: string, e: unknown): InputError {
  const message = e instanceof Error ? e.message : String(e);
  // V8 names the position for most errors ("... in JSON at position 46"), not for all.
  const position = /at position (\d+)/.exec(message)?.[1];
  const line = position === undefined ? undefined : lineAt(text, Number(position));
  return new InputError(file, `invalid JSON: ${message}`, line === undefined ? { cause: e } : { line, cause: e });
}

/** The YAML side of `collect`: a node's List item nodes and the line of an offset. */
export interface YamlNodes {
  itemNodes(node: unknown): readonly unknown[];
  lineOf(offset: number): number;
}

/** Adds an object, or the items of a List (recursively), to `out`. `node` is the YAML node when there is one. */
export function collect(
  value: unknown,
  source: SourceRef,
  where: string,
  node: unknown,
  yaml: YamlNodes | null,
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
  const itemNodes = yaml === null ? [] : yaml.itemNodes(node);
  items.forEach((item: unknown, i) => {
    const itemNode = itemNodes[i] as { range?: [number, number, number] | null } | undefined;
    const start = itemNode?.range?.[0];
    const itemSource = start === undefined || yaml === null ? source : { file: source.file, line: yaml.lineOf(start) };
    collect(item, itemSource, `${where === '' ? '' : `${where}.`}items[${i}]`, itemNode, yaml, out);
  });
}

/** `kind: List`, or a `*List` kind without a name of its own (`NamespaceList`, `NetworkPolicyList`). */
export function isList(value: unknown): value is Record<string, unknown> & { items?: unknown } {
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
  // The common case, a plain map of strings: used as it is (the same own keys, in the same order).
  if (Object.getPrototypeOf(raw) === Object.prototype && allStrings(raw)) return raw as Record<string, string>;
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

function allStrings(record: Record<string, unknown>): boolean {
  for (const key in record) if (typeof record[key] !== 'string') return false;
  return true;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
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

export function prefix(where: string): string {
  return where === '' ? '' : `${where}: `;
}
