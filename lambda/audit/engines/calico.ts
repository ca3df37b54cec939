/**
 * Calico NetworkPolicy and GlobalNetworkPolicy (projectcalico.org/v3 and the crd.projectcalico.org/v1
 * storage form), plus their Staged variants, which are recognised but never enforce.
 *
 * Semantics (selector-semantics.md §5.3, §5.5; libcalico-go updateprocessors/{networkpolicyprocessor,
 * globalnetworkpolicyprocessor,rules}.go):
 * - NetworkPolicy subject: `selector` (empty = every endpoint) in the policy namespace only.
 * - GlobalNetworkPolicy subject: `selector` in every namespace, ANDed with the policy-level
 *   `namespaceSelector` when set.
 * - Rule peer (the side that names other endpoints: `source` for ingress, `destination` for egress):
 *   with a `namespaceSelector`, the namespaces it selects; without one, a namespaced policy's peer is
 *   pinned to the policy namespace as soon as `selector`, `serviceAccounts` or `notSelector` is set,
 *   a global policy's peer is cluster-wide when `selector` or `serviceAccounts` is set; otherwise
 *   (nets, ports, nothing) the peer is not a namespace selection at all.
 * - `types` default: [Ingress] without egress rules, [Egress] with only egress rules, both with both.
 */
import type { ResourceObject } from '../model.js';
import {
  CALICO_NAMESPACE_NAME_LABEL,
  calicoNamespaceQuery,
  calicoToQuery,
  parseCalicoSelector,
  positiveEqualityTerms,
  type CalicoNode,
  type CalicoSelector,
} from '../selectors/calico.js';
import { SelectorSyntaxError } from '../selectors/errors.js';
import { ALL, NONE, namedNamespaces, not, type LabelQuery } from '../selectors/query.js';
import { isUnsatisfiable } from '../selectors/satisfiable.js';
import {
  apiGroup,
  refOf,
  type NamespaceTerm,
  type PeerAnalysis,
  type PolicyAnalysis,
  type PolicyEngine,
  type SelectorIssue,
} from './types.js';
import { fieldPath, isObject, specOf, type Json } from './util.js';

const CALICO_GROUPS: ReadonlySet<string> = new Set(['projectcalico.org', 'crd.projectcalico.org']);

type CalicoKind = 'NetworkPolicy' | 'GlobalNetworkPolicy' | 'StagedNetworkPolicy' | 'StagedGlobalNetworkPolicy';

const KINDS: Readonly<Record<CalicoKind, { readonly namespaced: boolean; readonly staged: boolean }>> = {
  NetworkPolicy: { namespaced: true, staged: false },
  GlobalNetworkPolicy: { namespaced: false, staged: false },
  StagedNetworkPolicy: { namespaced: true, staged: true },
  StagedGlobalNetworkPolicy: { namespaced: false, staged: true },
};

function isCalicoKind(kind: string): kind is CalicoKind {
  return Object.prototype.hasOwnProperty.call(KINDS, kind);
}

type CalicoPolicyType = 'Ingress' | 'Egress';

/** A selector field as Calico reads it: a Go string, where "" means "not set". */
type SelectorField =
  | { readonly state: 'unset' }
  | { readonly state: 'invalid' }
  | { readonly state: 'set'; readonly selector: CalicoSelector };

const UNSET: SelectorField = { state: 'unset' };
const INVALID: SelectorField = { state: 'invalid' };

/** Collects issues while one policy is analysed. */
class Issues {
  readonly list: SelectorIssue[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** `field` is `path` + `suffix`, joined only for a message. */
  selector(value: unknown, path: string, suffix = ''): SelectorField {
    if (value === undefined || value === null || value === '') return UNSET;
    const field = (): string => path + suffix;
    if (typeof value !== 'string') {
      this.add(field(), `must be a Calico selector string, not ${describeJson(value)}`);
      return INVALID;
    }
    try {
      return { state: 'set', selector: parseCalicoSelector(value) };
    } catch (e) {
      if (!(e instanceof SelectorSyntaxError)) throw e;
      const at = e.position === undefined ? '' : ` at character ${e.position}`;
      this.add(field(), `invalid Calico selector ${JSON.stringify(value)}: ${e.message}${at}`);
      return INVALID;
    }
  }
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Default and validation of `spec.types` (§5.5: Calico's default differs from Kubernetes'). */
function policyTypes(spec: Json, issues: Issues): ReadonlySet<CalicoPolicyType> {
  const raw = spec.types;
  if (Array.isArray(raw) && raw.length > 0) {
    const types = new Set<CalicoPolicyType>();
    raw.forEach((t: unknown, i) => {
      if (t === 'Ingress' || t === 'Egress') types.add(t);
      else issues.add(`spec.types[${i}]`, `unknown policy type ${JSON.stringify(t)} (expected Ingress or Egress)`);
    });
    return types;
  }
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) issues.add('spec.types', 'must be a list');
  const hasIngress = Array.isArray(spec.ingress) && spec.ingress.length > 0;
  const hasEgress = Array.isArray(spec.egress) && spec.egress.length > 0;
  if (hasEgress && !hasIngress) return new Set(['Egress']);
  if (hasEgress && hasIngress) return new Set(['Ingress', 'Egress']);
  return new Set(['Ingress']);
}

interface Context {
  readonly namespaced: boolean;
  /** The policy namespace as a namespace query. */
  readonly policyNamespace: LabelQuery;
  readonly issues: Issues;
}

/** An endpoint selector over endpoint labels, where global() selects everything like all(). */
function endpointQuery(sel: CalicoSelector): LabelQuery {
  return calicoToQuery(sel, { global: ALL });
}

// Parsed selectors are immutable and shared by every policy that repeats one (parseCalicoSelector
// memoises them), so what is derived from one is computed once.
const satisfiable = new WeakMap<CalicoSelector, boolean>();
const tautology = new WeakMap<CalicoSelector, boolean>();
const namespaceQueries = new WeakMap<CalicoSelector, LabelQuery>();
const namespaceTerms = new WeakMap<CalicoSelector, readonly NamespaceTerm[]>();

/** False when an endpoint selector (policy or rule `selector`) is set and no labels can satisfy it. */
function canMatch(field: SelectorField): boolean {
  if (field.state !== 'set') return true;
  let ok = satisfiable.get(field.selector);
  if (ok === undefined) satisfiable.set(field.selector, (ok = !isUnsatisfiable(endpointQuery(field.selector))));
  return ok;
}

/** True when a notSelector is set and every endpoint matches it, so nothing is left. */
function excludesEverything(field: SelectorField): boolean {
  if (field.state !== 'set') return false;
  let all = tautology.get(field.selector);
  if (all === undefined) tautology.set(field.selector, (all = isUnsatisfiable(not(endpointQuery(field.selector)))));
  return all;
}

/** A rule namespaceSelector as a namespace query (global() selects no namespace). */
function ruleNamespaceQuery(sel: CalicoSelector): LabelQuery {
  let q = namespaceQueries.get(sel);
  if (q === undefined) namespaceQueries.set(sel, (q = calicoNamespaceQuery(sel)));
  return q;
}

/** The near-miss terms of a rule namespaceSelector. */
function ruleNamespaceTerms(sel: CalicoSelector): readonly NamespaceTerm[] {
  let terms = namespaceTerms.get(sel);
  if (terms === undefined)
    namespaceTerms.set(sel, (terms = positiveEqualityTerms(sel).filter((t) => t.key !== CALICO_NAMESPACE_NAME_LABEL)));
  return terms;
}

interface EntityResult {
  readonly namespaces: LabelQuery | null;
  readonly valid: boolean;
  readonly terms: readonly NamespaceTerm[];
}

/** One EntityRule (`source` or `destination`), following rules.go getEndpointSelector. */
function analyzeEntity(entity: unknown, path: string, ctx: Context): EntityResult {
  const { issues } = ctx;
  if (entity === undefined || entity === null) return { namespaces: null, valid: true, terms: [] };
  if (!isObject(entity)) {
    issues.add(path, `must be an object, not ${describeJson(entity)}`);
    return { namespaces: NONE, valid: false, terms: [] };
  }
  const nsSel = issues.selector(entity.namespaceSelector, path, '.namespaceSelector');
  const sel = issues.selector(entity.selector, path, '.selector');
  const notSel = issues.selector(entity.notSelector, path, '.notSelector');

  // serviceAccounts counts only when it names accounts or has a selector (parseServiceAccounts).
  let saSet = false;
  let saSel: SelectorField = UNSET;
  let saValid = true;
  const sa = entity.serviceAccounts;
  if (sa !== undefined && sa !== null) {
    if (!isObject(sa)) {
      issues.add(`${path}.serviceAccounts`, `must be an object, not ${describeJson(sa)}`);
      saValid = false;
    } else {
      saSel = issues.selector(sa.selector, path, '.serviceAccounts.selector');
      const names = sa.names;
      if (
        names !== undefined &&
        names !== null &&
        !(Array.isArray(names) && names.every((n) => typeof n === 'string'))
      ) {
        issues.add(`${path}.serviceAccounts.names`, 'must be a list of service account names');
        saValid = false;
      }
      saSet = saSel.state !== 'unset' || (Array.isArray(names) && names.length > 0);
    }
  }

  const valid =
    saValid &&
    nsSel.state !== 'invalid' &&
    sel.state !== 'invalid' &&
    notSel.state !== 'invalid' &&
    saSel.state !== 'invalid';
  if (!valid) return { namespaces: NONE, valid: false, terms: [] };

  // The endpoint part selects nothing: an unsatisfiable selector, or a notSelector everything matches.
  const endpointsEmpty = !canMatch(sel) || !canMatch(saSel) || excludesEverything(notSel);

  if (nsSel.state === 'set') {
    // A namespaceSelector that is exactly global() deliberately selects host endpoints and global
    // network sets: it is not a namespace selection, so it can never be a dead rule.
    if (nsSel.selector.ast.kind === 'global') return { namespaces: null, valid: true, terms: [] };
    if (endpointsEmpty) return { namespaces: NONE, valid: true, terms: [] };
    return { namespaces: ruleNamespaceQuery(nsSel.selector), valid: true, terms: ruleNamespaceTerms(nsSel.selector) };
  }
  const restricted = ctx.namespaced
    ? sel.state === 'set' || saSet || notSel.state === 'set'
    : sel.state === 'set' || saSet;
  if (!restricted) return { namespaces: null, valid: true, terms: [] };
  if (endpointsEmpty) return { namespaces: NONE, valid: true, terms: [] };
  return { namespaces: ctx.namespaced ? ctx.policyNamespace : ALL, valid: true, terms: [] };
}

const DIRECTIONS = [
  { direction: 'ingress', type: 'Ingress', peer: 'source', local: 'destination' },
  { direction: 'egress', type: 'Egress', peer: 'destination', local: 'source' },
] as const;

function analyzeRules(spec: Json, types: ReadonlySet<CalicoPolicyType>, ctx: Context): PeerAnalysis[] {
  const peers: PeerAnalysis[] = [];
  for (const { direction, type, peer, local } of DIRECTIONS) {
    const rules = spec[direction];
    if (rules === undefined || rules === null) continue;
    if (!Array.isArray(rules)) {
      ctx.issues.add(`spec.${direction}`, `must be a list of rules, not ${describeJson(rules)}`);
      continue;
    }
    // Rules of a direction the policy does not apply to are never evaluated: check them, report no peer.
    const active = types.has(type);
    rules.forEach((rule: unknown, i) => {
      const path = `spec.${direction}[${i}]`;
      if (!isObject(rule)) {
        ctx.issues.add(path, `must be an object, not ${describeJson(rule)}`);
        if (active) peers.push({ direction, rule: i, peer: 0, field: path, namespaces: NONE, valid: false, terms: [] });
        return;
      }
      // The local side narrows the policy's own endpoints; only its selectors' validity matters here.
      analyzeEntity(rule[local], `${path}.${local}`, ctx);
      const field = fieldPath(`${path}.${peer}`);
      const result = analyzeEntity(rule[peer], field, ctx);
      if (active)
        peers.push({
          direction,
          rule: i,
          peer: 0,
          field,
          namespaces: result.namespaces,
          valid: result.valid,
          terms: result.terms,
        });
    });
  }
  return peers;
}

function usesGlobal(node: CalicoNode): boolean {
  switch (node.kind) {
    case 'global':
      return true;
    case 'not':
      return usesGlobal(node.operand);
    case 'and':
    case 'or':
      return node.operands.some(usesGlobal);
    default:
      return false;
  }
}

interface Subject {
  readonly appliesTo: LabelQuery;
  readonly valid: boolean;
}

function analyzeSubject(spec: Json, ctx: Context): Subject {
  const { issues } = ctx;
  const sel = issues.selector(spec.selector, 'spec.selector');
  const saSel = issues.selector(spec.serviceAccountSelector, 'spec.serviceAccountSelector');
  let namespaces = ctx.policyNamespace;
  let valid = sel.state !== 'invalid' && saSel.state !== 'invalid';
  if (!ctx.namespaced) {
    namespaces = ALL;
    const nsSel = issues.selector(spec.namespaceSelector, 'spec.namespaceSelector');
    if (nsSel.state === 'invalid') valid = false;
    if (nsSel.state === 'set') {
      if (usesGlobal(nsSel.selector.ast)) {
        issues.add(
          'spec.namespaceSelector',
          'global() can only be used in a rule namespaceSelector; Felix evaluates it here as true (every endpoint)',
        );
      }
      // Felix rewrites all() but leaves global() alone here, where it evaluates as true.
      namespaces = calicoNamespaceQuery(nsSel.selector, ALL);
    }
  }
  if (!valid) return { appliesTo: NONE, valid };
  return { appliesTo: canMatch(sel) && canMatch(saSel) ? namespaces : NONE, valid };
}

function analyzeCalicoPolicy(obj: ResourceObject, kind: CalicoKind): PolicyAnalysis {
  const { namespaced, staged } = KINDS[kind];
  const issues = new Issues();
  // A manifest without metadata.namespace is applied to the default namespace (as the kubernetes engine reads it).
  const policyNamespace = namedNamespaces(obj.namespace || 'default');
  const ctx: Context = { namespaced, policyNamespace, issues };
  let spec = specOf(obj);
  if (!spec) {
    const raw: unknown = isObject(obj.body) ? obj.body.spec : undefined;
    if (raw !== undefined && raw !== null) issues.add('spec', `must be an object, not ${describeJson(raw)}`);
    spec = {};
  }
  const subject = analyzeSubject(spec, ctx);
  const types = policyTypes(spec, issues);
  const peers = analyzeRules(spec, types, ctx);
  return {
    engine: 'calico',
    ref: refOf(obj),
    ...(obj.source ? { source: obj.source } : {}),
    appliesTo: subject.appliesTo,
    protects: !staged && subject.valid && subject.appliesTo.op !== 'none',
    peers,
    issues: issues.list,
  };
}

export const calicoEngine: PolicyEngine = {
  engine: 'calico',
  handles(obj) {
    return typeof obj.apiVersion === 'string' && CALICO_GROUPS.has(apiGroup(obj.apiVersion)) && isCalicoKind(obj.kind);
  },
  analyze(obj) {
    const kind = isCalicoKind(obj.kind) ? obj.kind : obj.namespace ? 'NetworkPolicy' : 'GlobalNetworkPolicy';
    return analyzeCalicoPolicy(obj, kind);
  },
};
