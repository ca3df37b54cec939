/**
 * Drift: what changed in a cluster between the state labelguard knew and a new read. Pure.
 *
 * A read that is partial or failed is unknown where it could not see, never empty. `nextState`
 * therefore keeps every item as the last read that saw it: a namespace the read could not list, a
 * policy of a kind it could not read and a finding whose rule could not run all keep their last
 * known state, so nothing unread looks removed, deleted or resolved, and the next complete read
 * diffs against the last state that was known for each item. `diffStates` compares two such
 * states and names the impact of every change: which policy stopped (or started) selecting which
 * namespace, in which direction.
 */
import { apiGroup, type EngineSettings } from './engines/types.js';
import { ENGINES, evaluateCluster, readCategory } from './evaluate.js';
import {
  DRIFT_EVENT_TYPES,
  type ClusterResult,
  type ClusterSnapshot,
  type ClusterStatus,
  type Direction,
  type DriftEvent,
  type DriftEventType,
  type Finding,
  type KindRead,
  type Labels,
  type Namespace,
  type PolicyRef,
  type ResourceObject,
} from './model.js';
import { compareFindings } from './report.js';
import { RULES } from './rules/index.js';
import type { Completeness } from './rules/types.js';

/** What labelguard knows of a cluster after a run: every item as the last read that saw it. */
export interface ClusterState {
  readonly cluster: string;
  /** Sorted by name. */
  readonly namespaces: readonly Namespace[];
  /** The objects a policy engine reads (without their source), in `comparePolicyObjects` order. */
  readonly policies: readonly ResourceObject[];
  /** Every open finding, waived ones included, in `compareFindingsFully` order. */
  readonly findings: readonly Finding[];
}

/** What one read of a cluster saw, and how completely. */
export interface ClusterObservation {
  readonly cluster: string;
  readonly status: ClusterStatus;
  readonly complete: Completeness;
  /** null when the namespace list could not be read at all. */
  readonly namespaces: readonly Namespace[] | null;
  readonly policies: readonly ResourceObject[];
  /** Every object the read returned (policies, admission policies, ...), by reference. */
  readonly objects: readonly PolicyRef[];
  readonly findings: readonly Finding[];
}

/** The settings that decide what a policy selects (and so what a label change breaks). */
export interface SelectionSettings {
  readonly engines: EngineSettings;
  readonly synthesizeNameLabel: boolean;
}

// ---------------------------------------------------------------------------------------------
// Identities and orders

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `group|Kind|namespace|name`: unique per object in a cluster (the empty group is the core API). */
export function policyKey(obj: Pick<ResourceObject, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  return `${apiGroup(obj.apiVersion)}|${obj.kind}|${obj.namespace ?? ''}|${obj.name}`;
}

/** Cluster-scoped objects first, then by namespace, kind, name and API group. */
export function comparePolicyObjects(a: ResourceObject, b: ResourceObject): number {
  return (
    cmp(a.namespace ?? '', b.namespace ?? '') ||
    cmp(a.kind, b.kind) ||
    cmp(a.name, b.name) ||
    cmp(apiGroup(a.apiVersion), apiGroup(b.apiVersion))
  );
}

/** A finding's identity across runs: its rule, where it points and what it says. */
export function findingKey(f: Finding): string {
  return JSON.stringify([
    f.rule,
    f.namespace,
    f.policy?.kind ?? null,
    f.policy?.namespace ?? null,
    f.policy?.name ?? null,
    f.message,
  ]);
}

/** The report's order (`compareFindings`), then every other field: a total order, so equal sets print alike. */
export function compareFindingsFully(a: Finding, b: Finding): number {
  return (
    compareFindings(a, b) ||
    cmp(describeRef(a.policy), describeRef(b.policy)) ||
    cmp(a.fix ?? '', b.fix ?? '') ||
    cmp(
      a.source ? `${a.source.file}:${a.source.line ?? ''}` : '',
      b.source ? `${b.source.file}:${b.source.line ?? ''}` : '',
    ) ||
    cmp(
      a.waived ? JSON.stringify([a.waived.reason, a.waived.owner, a.waived.expires]) : '',
      b.waived ? JSON.stringify([b.waived.reason, b.waived.owner, b.waived.expires]) : '',
    )
  );
}

/**
 * Findings keyed by identity; a finding that occurs twice (the same words twice) keeps both,
 * the second keyed `<key>#2`.
 */
export function keyFindings(findings: readonly Finding[]): Map<string, Finding> {
  const out = new Map<string, Finding>();
  for (const f of findings) {
    const key = findingKey(f);
    let k = key;
    for (let n = 2; out.has(k); n++) k = `${key}#${n}`;
    out.set(k, f);
  }
  return out;
}

function describeRef(ref: PolicyRef | null): string {
  return ref === null ? '' : `${ref.kind}|${ref.namespace ?? ''}|${ref.name}`;
}

/** Labels as `k=v,k2=v2`, keys sorted. */
export function describeLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort(cmp)
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** Same keys and values, whatever their order. */
export function labelsEqual(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** Deep equality of JSON values, object key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return (
    ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && jsonEqual(ra[k], rb[k]))
  );
}

// ---------------------------------------------------------------------------------------------
// Observation and the next known state

const isComplete = (r: KindRead): boolean => r.status === 'complete' || r.status === 'not-installed';

/** A policy object as stored: everything but where it was read from. */
export function withoutSource(obj: ResourceObject): ResourceObject {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.name, namespace: obj.namespace, body: obj.body };
}

/** True when some policy engine reads this object (its selections are part of the cluster's state). */
export function isPolicyObject(obj: ResourceObject): boolean {
  return ENGINES.some((e) => e.handles(obj));
}

/** What a read saw: the snapshot's namespaces and policy objects, the result's findings, and what was complete. */
export function observeCluster(snapshot: ClusterSnapshot, result: ClusterResult): ClusterObservation {
  const category = (c: keyof Completeness): boolean =>
    snapshot.reads.filter((r) => readCategory(r.resource) === c).every(isComplete);
  return {
    cluster: snapshot.cluster,
    status: result.status,
    complete: {
      namespaces: snapshot.namespaces !== null && category('namespaces'),
      networkPolicies: category('networkPolicies'),
      admission: category('admission'),
    },
    namespaces: snapshot.namespaces === null ? null : [...snapshot.namespaces].sort((a, b) => cmp(a.name, b.name)),
    policies: snapshot.objects.filter(isPolicyObject).map(withoutSource).sort(comparePolicyObjects),
    objects: snapshot.objects.map((o) => ({ kind: o.kind, namespace: o.namespace, name: o.name })),
    findings: [...result.findings].sort(compareFindingsFully),
  };
}

/**
 * The state after a read: what the read saw replaces what was known; what it could not see keeps
 * its last known state. A read that could not list namespaces changes nothing (null stays null:
 * a cluster never read has no state, not an empty one).
 */
export function nextState(previous: ClusterState | null, observation: ClusterObservation): ClusterState | null {
  if (observation.namespaces === null) return previous;
  const namespaces = observation.complete.namespaces
    ? observation.namespaces
    : mergeBy(previous?.namespaces ?? [], observation.namespaces, (n) => n.name).sort((a, b) => cmp(a.name, b.name));
  const policies = observation.complete.networkPolicies
    ? observation.policies
    : mergeBy(previous?.policies ?? [], observation.policies, policyKey).sort(comparePolicyObjects);

  const seen = keyFindings(observation.findings);
  const readRefs = new Set(observation.objects.map(describeRef));
  const kept: Finding[] = [];
  for (const [key, f] of keyFindings(previous?.findings ?? [])) {
    if (!seen.has(key) && !resolvable(f, observation, readRefs)) kept.push(f);
  }
  return {
    cluster: observation.cluster,
    namespaces,
    policies,
    findings: [...observation.findings, ...kept].sort(compareFindingsFully),
  };
}

function mergeBy<T>(previous: readonly T[], seen: readonly T[], key: (item: T) => string): T[] {
  const out = new Map<string, T>();
  for (const item of previous) out.set(key(item), item);
  for (const item of seen) out.set(key(item), item);
  return [...out.values()];
}

/** Whether a read that did not report a finding proves it gone: its rule ran on complete input. */
function resolvable(f: Finding, observation: ClusterObservation, readRefs: ReadonlySet<string>): boolean {
  if (observation.status === 'complete') return true;
  const rule = RULES.find((r) => r.id === f.rule);
  if (rule === undefined) return false;
  if (!rule.needs.every((c) => observation.complete[c])) return false;
  return f.policy === null || readRefs.has(describeRef(f.policy));
}

// ---------------------------------------------------------------------------------------------
// The diff

/**
 * Every change from `previous` to `next`, in a stable order: namespace and label changes with the
 * selections they changed, by namespace; then the findings opened and resolved, by namespace.
 * With no previous state (a cluster's first run) the only events are the findings it opened: the
 * namespaces and selections it found are the baseline, not changes.
 */
export function diffStates(
  previous: ClusterState | null,
  next: ClusterState | null,
  settings: SelectionSettings,
): DriftEvent[] {
  if (next === null) return [];
  const cluster = next.cluster;
  const events: DriftEvent[] = [];
  const event = (e: EventDraft): void => {
    events.push({
      cluster,
      namespace: null,
      key: null,
      before: null,
      after: null,
      policy: null,
      direction: null,
      ...e,
    });
  };

  if (previous !== null) {
    const before = new Map(previous.namespaces.map((n) => [n.name, n]));
    const after = new Map(next.namespaces.map((n) => [n.name, n]));
    const changed = new Set<string>();
    const deleted = new Set<string>();
    for (const [name, ns] of after) {
      const old = before.get(name);
      if (old === undefined) {
        event({ type: 'namespace-created', namespace: name, after: describeLabels(ns.labels) });
        changed.add(name);
        continue;
      }
      if (labelsEqual(old.labels, ns.labels)) continue;
      changed.add(name);
      for (const key of new Set([...Object.keys(old.labels), ...Object.keys(ns.labels)])) {
        const b = own(old.labels, key);
        const a = own(ns.labels, key);
        if (b === a) continue;
        const type = a === undefined ? 'label-removed' : b === undefined ? 'label-added' : 'label-changed';
        event({ type, namespace: name, key, before: b ?? null, after: a ?? null });
      }
    }
    for (const [name, ns] of before) {
      if (after.has(name)) continue;
      deleted.add(name);
      event({ type: 'namespace-deleted', namespace: name, before: describeLabels(ns.labels) });
    }
    for (const e of selectionChanges(previous, next, changed, deleted, settings)) event(e);
  }

  const opened = keyFindings(next.findings);
  const resolved = keyFindings(previous?.findings ?? []);
  for (const [key, f] of opened) {
    if (!resolved.has(key))
      event({ type: 'finding-opened', namespace: f.namespace, key: f.rule, after: f.message, policy: f.policy });
  }
  for (const [key, f] of resolved) {
    if (!opened.has(key))
      event({ type: 'finding-resolved', namespace: f.namespace, key: f.rule, before: f.message, policy: f.policy });
  }
  return events.sort(compareEvents);
}

type EventDraft = Partial<DriftEvent> & { readonly type: DriftEventType };

const own = (labels: Labels, key: string): string | undefined =>
  Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;

const TYPE_ORDER = new Map(DRIFT_EVENT_TYPES.map((t, i) => [t, i]));

/** Changes and their impact first, by namespace (a label change, then what it broke); then findings, by namespace. */
function compareEvents(a: DriftEvent, b: DriftEvent): number {
  return (
    (a.type.startsWith('finding-') ? 1 : 0) - (b.type.startsWith('finding-') ? 1 : 0) ||
    (a.namespace === null ? 1 : 0) - (b.namespace === null ? 1 : 0) ||
    cmp(a.namespace ?? '', b.namespace ?? '') ||
    TYPE_ORDER.get(a.type)! - TYPE_ORDER.get(b.type)! ||
    cmp(a.key ?? '', b.key ?? '') ||
    cmp(describeRef(a.policy), describeRef(b.policy)) ||
    cmp(a.direction ?? '', b.direction ?? '') ||
    cmp(a.before ?? '', b.before ?? '') ||
    cmp(a.after ?? '', b.after ?? '')
  );
}

type Selection = Map<string, { readonly ref: PolicyRef; readonly sides: Map<Side, Set<string>> }>;
/** `subject` is the namespaces a policy applies to; the directions are the union of its peers. */
type Side = 'subject' | Direction;
const SIDES: readonly Side[] = ['subject', 'ingress', 'egress'];

/**
 * Which policies gained or lost which namespaces. A policy present in both states selects the
 * same way wherever nothing changed, so an unchanged policy is evaluated only over the namespaces
 * that were created or relabelled; a changed policy over every namespace. Policies that were added
 * or removed, and namespaces that were deleted, are changes of their own, not selection changes.
 */
function selectionChanges(
  previous: ClusterState,
  next: ClusterState,
  changed: ReadonlySet<string>,
  deleted: ReadonlySet<string>,
  settings: SelectionSettings,
): EventDraft[] {
  const before = new Map(previous.policies.map((p) => [policyKey(p), p]));
  const same: ResourceObject[] = [];
  const editedBefore: ResourceObject[] = [];
  const editedAfter: ResourceObject[] = [];
  for (const p of next.policies) {
    const old = before.get(policyKey(p));
    if (old === undefined) continue;
    if (jsonEqual(old.body, p.body) && old.apiVersion === p.apiVersion) same.push(p);
    else {
      editedBefore.push(old);
      editedAfter.push(p);
    }
  }
  const out: EventDraft[] = [];
  const compare = (a: Selection, b: Selection): void => {
    for (const [key, { ref, sides }] of b) {
      const old = a.get(key);
      if (old === undefined) continue;
      for (const side of SIDES) {
        const was = old.sides.get(side) ?? new Set<string>();
        const is = sides.get(side) ?? new Set<string>();
        const direction = side === 'subject' ? null : side;
        for (const ns of was) {
          if (!is.has(ns) && !deleted.has(ns))
            out.push({ type: 'selection-lost', namespace: ns, policy: ref, direction });
        }
        for (const ns of is)
          if (!was.has(ns)) out.push({ type: 'selection-gained', namespace: ns, policy: ref, direction });
      }
    }
  };
  if (changed.size > 0 && same.length > 0) {
    const subset = (s: ClusterState): Namespace[] => s.namespaces.filter((n) => changed.has(n.name));
    compare(select(next.cluster, subset(previous), same, settings), select(next.cluster, subset(next), same, settings));
  }
  if (editedAfter.length > 0) {
    compare(
      select(next.cluster, previous.namespaces, editedBefore, settings),
      select(next.cluster, next.namespaces, editedAfter, settings),
    );
  }
  return out;
}

/** What each policy selects among these namespaces, evaluated exactly as a scan would. */
function select(
  cluster: string,
  namespaces: readonly Namespace[],
  policies: readonly ResourceObject[],
  settings: SelectionSettings,
): Selection {
  const result = evaluateCluster(
    { cluster, namespaces, objects: policies, reads: [], problems: [] },
    {
      requiredLabels: [],
      exclude: [],
      waivers: [],
      severities: {},
      engines: settings.engines,
      synthesizeNameLabel: settings.synthesizeNameLabel,
      now: '1970-01-01T00:00:00.000Z',
    },
  );
  const out: Selection = new Map();
  for (const p of result.policyReports()) {
    const ref: PolicyRef = { kind: p.kind, namespace: p.namespace, name: p.name };
    const key = describeRef(ref);
    let entry = out.get(key);
    if (entry === undefined) out.set(key, (entry = { ref, sides: new Map(SIDES.map((s) => [s, new Set<string>()])) }));
    for (const ns of p.appliesTo) entry.sides.get('subject')!.add(ns);
    for (const peer of p.peers) for (const ns of peer.selects ?? []) entry.sides.get(peer.direction)!.add(ns);
  }
  return out;
}
