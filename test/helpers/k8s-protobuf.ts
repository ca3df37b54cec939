/**
 * The test API server's Kubernetes protobuf encoder: a NamespaceList and a Status, laid out as the
 * API server lays them out (the `k8s\0` magic, a runtime.Unknown around the object, fields in
 * number order, map entries sorted by key), with everything a namespace carries (uid,
 * resourceVersion, creationTimestamp, annotations, managedFields, spec, status) so that a decoder
 * has to skip it. Field numbers are those of k8s.io/api/core/v1 and apimachinery's generated.proto.
 */

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Part = Buffer;

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

const key = (field: number, wire: number): Buffer => varint(field * 8 + wire);
const bytes = (field: number, value: Buffer): Part => Buffer.concat([key(field, 2), varint(value.length), value]);
const str = (field: number, value: string): Part => bytes(field, Buffer.from(value, 'utf8'));
const num = (field: number, value: number): Part => Buffer.concat([key(field, 0), varint(value)]);
const msg = (field: number, parts: readonly Part[]): Part => bytes(field, Buffer.concat(parts));

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A map<string,string> field, its entries sorted by key as Go's generated marshaller writes them. */
function stringMap(field: number, map: unknown): Part[] {
  if (!isRecord(map)) return [];
  return Object.keys(map)
    .sort()
    .flatMap((k) => (isString(map[k]) ? [msg(field, [str(1, k), str(2, map[k])])] : []));
}

/** metav1.Time: 1 seconds. */
function time(field: number, iso: unknown): Part[] {
  if (!isString(iso)) return [];
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? [] : [msg(field, [num(1, Math.floor(ms / 1000))])];
}

function objectMeta(m: Record<string, unknown>): Part[] {
  const managed = Array.isArray(m.managedFields) ? m.managedFields.filter(isRecord) : [];
  return [
    ...(isString(m.name) ? [str(1, m.name)] : []),
    ...(isString(m.uid) ? [str(5, m.uid)] : []),
    ...(isString(m.resourceVersion) ? [str(6, m.resourceVersion)] : []),
    ...time(8, m.creationTimestamp),
    ...stringMap(11, m.labels),
    ...stringMap(12, m.annotations),
    // ManagedFieldsEntry: 1 manager, 2 operation, 3 apiVersion, 4 time, 6 fieldsType, 7 fieldsV1 (1 raw JSON).
    ...managed.map((e) =>
      msg(17, [
        ...(isString(e.manager) ? [str(1, e.manager)] : []),
        ...(isString(e.operation) ? [str(2, e.operation)] : []),
        ...(isString(e.apiVersion) ? [str(3, e.apiVersion)] : []),
        ...time(4, e.time),
        ...(isString(e.fieldsType) ? [str(6, e.fieldsType)] : []),
        ...(e.fieldsV1 === undefined ? [] : [msg(7, [str(1, JSON.stringify(e.fieldsV1))])]),
      ]),
    ),
  ];
}

/** runtime.Unknown: 1 typeMeta (1 apiVersion, 2 kind), 2 raw, 3 contentEncoding, 4 contentType. */
function unknown(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.concat([MAGIC, msg(1, [str(1, apiVersion), str(2, kind)]), bytes(2, raw), str(3, ''), str(4, '')]);
}

/** ListMeta: 2 resourceVersion, 3 continue, 4 remainingItemCount. */
function listMeta(meta: unknown): Part[] {
  const m = isRecord(meta) ? meta : {};
  return [
    ...(isString(m.resourceVersion) ? [str(2, m.resourceVersion)] : []),
    ...(isString(m.continue) && m.continue !== '' ? [str(3, m.continue)] : []),
    ...(typeof m.remainingItemCount === 'number' ? [num(4, m.remainingItemCount)] : []),
  ];
}

/** A NamespaceList (as the JSON value the server would send) in protobuf. */
export function encodeNamespaceList(list: { metadata?: unknown; items?: unknown }): Buffer {
  const items = Array.isArray(list.items) ? list.items.filter(isRecord) : [];
  const raw = Buffer.concat([
    msg(1, listMeta(list.metadata)),
    ...items.map((item) => {
      const spec = isRecord(item.spec) ? item.spec : {};
      const status = isRecord(item.status) ? item.status : {};
      return msg(2, [
        msg(1, objectMeta(isRecord(item.metadata) ? item.metadata : {})),
        // NamespaceSpec: 1 finalizers. NamespaceStatus: 1 phase.
        msg(
          2,
          (Array.isArray(spec.finalizers) ? spec.finalizers.filter(isString) : []).map((f) => str(1, f)),
        ),
        msg(3, isString(status.phase) ? [str(1, status.phase)] : []),
      ]);
    }),
  ]);
  return unknown('v1', 'NamespaceList', raw);
}

/** A Status (as the JSON value the server would send) in protobuf: 1 metadata, 2 status, 3 message, 4 reason, 6 code. */
export function encodeStatus(status: Record<string, unknown>): Buffer {
  const raw = Buffer.concat([
    msg(1, listMeta(status.metadata)),
    ...(isString(status.status) ? [str(2, status.status)] : []),
    ...(isString(status.message) ? [str(3, status.message)] : []),
    ...(isString(status.reason) ? [str(4, status.reason)] : []),
    ...(typeof status.code === 'number' ? [num(6, status.code)] : []),
  ]);
  return unknown('v1', 'Status', raw);
}
