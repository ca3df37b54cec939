/**
 * CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io): every rule of `spec` and
 * `specs` applies; the subject is the endpointSelector (pinned to the policy namespace in a CNP), peers
 * come from the Endpoints/Requires lists of ingress, egress and their deny variants, scoped the way
 * Cilium scopes them (selector-semantics §4.3, §4.4, §4.6).
 */
import type { Direction } from '../model.js';
import {
  ciliumNamespaceQuery,
  ciliumNamespaceTerms,
  parseEndpointSelector,
  scopeCiliumSelector,
  selectsInit,
  type CiliumScope,
  type CiliumSelector,
  type CiliumScopeOptions,
  type CiliumSelectorRole,
} from '../selectors/cilium.js';
import { NONE, or, type LabelQuery } from '../selectors/query.js';
import {
  apiGroup,
  refOf,
  type PeerAnalysis,
  type PolicyAnalysis,
  type PolicyEngine,
  type SelectorIssue,
} from './types.js';
import { arrayAt, errorMessage, fieldPath, has, isObject, objectAt, peerPath, type Json } from './util.js';

const KINDS = new Set(['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']);

/** Rule lists per direction, and the peer lists inside a rule: selector lists and the rest (CIDRs, entities, ...). */
const SECTIONS: readonly { list: string; direction: Direction }[] = [
  { list: 'ingress', direction: 'ingress' },
  { list: 'ingressDeny', direction: 'ingress' },
  { list: 'egress', direction: 'egress' },
  { list: 'egressDeny', direction: 'egress' },
];
const PEER_LISTS: Readonly<Record<Direction, readonly (readonly [string, CiliumSelectorRole | null])[]>> = {
  ingress: [
    ['fromEndpoints', 'endpoints'],
    ['fromRequires', 'requires'],
    ['fromEntities', null],
    ['fromCIDR', null],
    ['fromCIDRSet', null],
    ['fromNodes', null],
    ['fromGroups', null],
  ],
  egress: [
    ['toEndpoints', 'endpoints'],
    ['toRequires', 'requires'],
    ['toEntities', null],
    ['toCIDR', null],
    ['toCIDRSet', null],
    ['toFQDNs', null],
    ['toServices', null],
    ['toNodes', null],
    ['toGroups', null],
  ],
};

export type CiliumEngineOptions = Omit<CiliumScopeOptions, 'namespaceLabels'>;

export function createCiliumEngine(options: CiliumEngineOptions = {}): PolicyEngine {
  return {
    engine: 'cilium',
    handles: (obj) => KINDS.has(obj.kind) && apiGroup(obj.apiVersion) === 'cilium.io',
    analyze(obj, settings): PolicyAnalysis {
      const ref = refOf(obj);
      try {
        const namespace = obj.kind === 'CiliumClusterwideNetworkPolicy' ? null : (obj.namespace ?? 'default');
        const r = analyzeRules(obj.body, namespace, { ...options, namespaceLabels: settings.ciliumNamespaceLabels });
        return {
          engine: 'cilium',
          ref,
          source: obj.source,
          appliesTo: r.appliesTo,
          protects: r.protects,
          peers: r.peers,
          issues: r.issues,
        };
      } catch (e) {
        // Never throw: an unexpected shape becomes an issue.
        const issue = { field: 'spec', message: `could not analyse the policy: ${errorMessage(e)}` };
        return {
          engine: 'cilium',
          ref,
          source: obj.source,
          appliesTo: NONE,
          protects: false,
          peers: [],
          issues: [issue],
        };
      }
    },
  };
}

/** The engine with Cilium's defaults (no cluster filter, cluster name "default"). */
export const ciliumEngine: PolicyEngine = createCiliumEngine();

function analyzeRules(
  body: Json,
  namespace: string | null,
  scopeOptions: CiliumScopeOptions,
): Pick<PolicyAnalysis, 'appliesTo' | 'protects' | 'peers' | 'issues'> {
  const issues: SelectorIssue[] = [];
  const peers: PeerAnalysis[] = [];
  const subjects: LabelQuery[] = [];
  let protects = false;
  const rules: { rule: unknown; path: string }[] = [];
  if (has(body, 'spec')) rules.push({ rule: body.spec, path: 'spec' });
  if (has(body, 'specs')) {
    const specs = arrayAt(body, 'specs');
    if (specs === undefined) issues.push({ field: 'specs', message: 'specs must be a list of rules' });
    else specs.forEach((rule, k) => rules.push({ rule, path: `specs[${k}]` }));
  }
  if (rules.length === 0)
    issues.push({ field: 'spec', message: 'the policy has neither spec nor specs; Cilium rejects it as empty' });

  for (const { rule, path } of rules) {
    if (!isObject(rule)) {
      issues.push({ field: path, message: 'a rule must be an object' });
      continue;
    }
    const policyScope: CiliumScope = { ...scopeOptions, namespace };
    const subject = analyzeSubject(rule, path, policyScope, issues);
    subjects.push(subject.query);
    if (subject.pods && (defaultDeny(rule, 'ingress') || defaultDeny(rule, 'egress'))) protects = true;
    const scope: CiliumScope = { ...policyScope, subjectSelectsInit: subject.init };
    for (let k = 0; k < SECTIONS.length; k++) {
      const { list, direction } = SECTIONS[k]!;
      const sections = arrayAt(rule, list);
      if (sections === undefined) {
        issues.push({ field: `${path}.${list}`, message: `${list} must be a list of rules` });
        continue;
      }
      sections.forEach((section, r) => {
        const at = `${path}.${list}[${r}]`;
        if (!isObject(section)) {
          issues.push({ field: at, message: 'a rule must be an object' });
          return;
        }
        const lists = PEER_LISTS[direction];
        for (let l = 0; l < lists.length; l++) {
          const name = lists[l]![0];
          const role = lists[l]![1];
          const items = arrayAt(section, name);
          if (items === undefined) {
            issues.push({ field: `${at}.${name}`, message: `${name} must be a list` });
            continue;
          }
          for (let p = 0; p < items.length; p++) {
            if (!(p in items)) continue; // a hole, as forEach skips it
            const field = path === 'spec' ? peerPath(list, r, name, p) : fieldPath(`${at}.${name}[${p}]`);
            peers.push(
              role === null
                ? { direction, rule: r, peer: p, field, namespaces: null, valid: true, terms: [] }
                : selectorPeer(items[p], role, scope, direction, r, p, field, issues),
            );
          }
        }
      });
    }
  }
  return { appliesTo: or(...subjects), protects, peers, issues };
}

function analyzeSubject(
  rule: Json,
  path: string,
  scope: CiliumScope,
  issues: SelectorIssue[],
): { query: LabelQuery; pods: boolean; init: boolean } {
  const none = { query: NONE, pods: false, init: false };
  const endpoints = has(rule, 'endpointSelector');
  const nodes = has(rule, 'nodeSelector');
  if (endpoints && nodes) {
    issues.push({
      field: path,
      message: 'a rule cannot have both endpointSelector and nodeSelector; Cilium rejects it',
    });
    return none;
  }
  if (nodes) {
    if (scope.namespace !== null)
      issues.push({
        field: `${path}.nodeSelector`,
        message: 'a CiliumNetworkPolicy cannot set nodeSelector; Cilium rejects it',
      });
    else
      try {
        parseEndpointSelector(rule.nodeSelector, `${path}.nodeSelector`);
      } catch (e) {
        issues.push({ field: `${path}.nodeSelector`, message: errorMessage(e) });
      }
    return none; // nodes, not pods in namespaces
  }
  if (!endpoints) {
    issues.push({ field: `${path}.endpointSelector`, message: 'a rule needs an endpointSelector; Cilium rejects it' });
    return none;
  }
  try {
    const sel = parseEndpointSelector(rule.endpointSelector, `${path}.endpointSelector`);
    const scoped = scopeCiliumSelector(sel, 'subject', scope);
    const query = scoped === sel ? unscopedQuery(sel) : ciliumNamespaceQuery(scoped);
    return { query: query ?? NONE, pods: true, init: selectsInit(sel) };
  } catch (e) {
    issues.push({ field: `${path}.endpointSelector`, message: errorMessage(e) });
    return none;
  }
}

function selectorPeer(
  item: unknown,
  role: CiliumSelectorRole,
  scope: CiliumScope,
  direction: Direction,
  rule: number,
  peer: number,
  field: string,
  issues: SelectorIssue[],
): PeerAnalysis {
  try {
    const sel = parseEndpointSelector(item, field);
    const scoped = scopeCiliumSelector(sel, role, scope);
    const namespaces = scoped === sel ? unscopedQuery(sel) : ciliumNamespaceQuery(scoped);
    return { direction, rule, peer, field, namespaces, valid: true, terms: ciliumNamespaceTerms(sel) };
  } catch (e) {
    issues.push({ field, message: errorMessage(e) });
    return { direction, rule, peer, field, namespaces: NONE, valid: false, terms: [] };
  }
}

/** Parsed selectors are shared (parseEndpointSelector memoises them): a peer Cilium leaves unscoped is evaluated once. */
const unscopedQueries = new WeakMap<CiliumSelector, LabelQuery | null>();

function unscopedQuery(sel: CiliumSelector): LabelQuery | null {
  let q = unscopedQueries.get(sel);
  if (q === undefined) unscopedQueries.set(sel, (q = ciliumNamespaceQuery(sel)));
  return q;
}

/**
 * Does the rule put its endpoints in default deny for this direction? Only when it has a non-empty
 * allow or deny section (`ingress: []` or none has no effect) and `enableDefaultDeny` does not turn it off.
 */
function defaultDeny(rule: Json, direction: Direction): boolean {
  const sections = [arrayAt(rule, direction), arrayAt(rule, `${direction}Deny`)];
  if (!sections.some((s) => s !== undefined && s.length > 0)) return false;
  return objectAt(rule, 'enableDefaultDeny')?.[direction] !== false;
}
