/**
 * Client objects → the audit's model, at the edge. List items from the API server carry no
 * apiVersion/kind for built-in types, so both come from what was listed. The bulky parts of
 * metadata (managedFields, the last-applied annotation) are dropped: the audit never reads them and
 * they can be most of an object's size. Items are completed in place: they are fresh from the
 * response and nothing else holds them.
 */
import type { InputProblem, Namespace, ResourceObject } from '../../audit/index.js';
import type { NamespaceItem } from './client.js';

export interface ListedKind {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function toNamespace(item: NamespaceItem): Namespace | InputProblem {
  if (item.name === '') return { message: 'namespaces: an item without metadata.name was skipped' };
  const raw = item.labels;
  if (raw === undefined) return { name: item.name, labels: {} };
  // Labels from the API server are strings: keep the item as it is (it is ours), unless not.
  let strings = true;
  for (const k in raw) {
    if (typeof raw[k] !== 'string') {
      strings = false;
      break;
    }
  }
  if (strings) return item as Namespace;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  return { name: item.name, labels };
}

export function toResourceObject(item: unknown, listed: ListedKind): ResourceObject | InputProblem {
  const resource = listed.group === '' ? listed.plural : `${listed.plural}.${listed.group}`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { message: `${resource}: an item that is not an object was skipped` };
  }
  const obj = item as Record<string, unknown>;
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    return { message: `${resource}: an item without metadata.name was skipped` };
  }
  const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : null;
  const apiVersion =
    typeof obj.apiVersion === 'string' && obj.apiVersion !== '' ? obj.apiVersion : groupVersion(listed);
  const kind = typeof obj.kind === 'string' && obj.kind !== '' ? obj.kind : listed.kind;
  // The item is ours (fresh from the response's JSON): complete and slim it in place, no copies.
  obj.apiVersion = apiVersion;
  obj.kind = kind;
  slimMetadata(metadata);
  return { apiVersion, kind, name, namespace, body: obj, source: { file: apiPath(listed, namespace, name) } };
}

export function isProblem<T extends object>(value: T | InputProblem): value is InputProblem {
  return 'message' in value && !('name' in value);
}

/** `/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies/allow-dns`: where the object lives in the API. */
export function apiPath(listed: ListedKind, namespace: string | null, name: string): string {
  const base = listed.group === '' ? `/api/${listed.version}` : `/apis/${listed.group}/${listed.version}`;
  return `${base}${namespace === null ? '' : `/namespaces/${namespace}`}/${listed.plural}/${name}`;
}

function groupVersion(listed: ListedKind): string {
  return listed.group === '' ? listed.version : `${listed.group}/${listed.version}`;
}

function slimMetadata(metadata: Record<string, unknown>): void {
  delete metadata.managedFields;
  if (isRecord(metadata.annotations)) delete metadata.annotations[LAST_APPLIED];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
