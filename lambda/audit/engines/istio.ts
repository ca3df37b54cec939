/**
 * Istio AuthorizationPolicy (security.istio.io): namespaces are matched by name pattern from the
 * peer certificate (exact, `prefix*`, `*suffix`, `*`), never by labels. With no selector or
 * targetRefs a policy applies to its namespace, or to the whole mesh in the root namespace (§6.3).
 * Istio does not count as a network boundary for namespace-unprotected.
 */
import { and, ALL, namedNamespaces, NAME_KEY, NONE, not, or, type LabelQuery } from '../selectors/query.js';
import { apiGroup, refOf, type PeerAnalysis, type PolicyEngine, type SelectorIssue } from './types.js';
import { arrayAt, fieldPath, has, isObject, objectAt, specOf } from './util.js';

/** One Istio string match on a namespace name. */
export function namePattern(p: string): LabelQuery {
  if (p === '*') return { op: 'exists', key: NAME_KEY };
  if (p.endsWith('*')) return { op: 'startsWith', key: NAME_KEY, value: p.slice(0, -1) };
  if (p.startsWith('*')) return { op: 'endsWith', key: NAME_KEY, value: p.slice(1) };
  return namedNamespaces(p);
}

function patterns(v: unknown, field: string, issues: SelectorIssue[]): LabelQuery | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    issues.push({ field, message: 'must be a list of strings' });
    return undefined;
  }
  return or(...v.map(namePattern));
}

export const istioEngine: PolicyEngine = {
  engine: 'istio',
  handles: (obj) => obj.kind === 'AuthorizationPolicy' && apiGroup(obj.apiVersion) === 'security.istio.io',
  analyze(obj, settings) {
    const issues: SelectorIssue[] = [];
    const peers: PeerAnalysis[] = [];
    const ns = obj.namespace ?? 'default';
    const spec = specOf(obj) ?? {};
    const meshWide =
      ns === settings.istioRootNamespace &&
      !has(spec, 'selector') &&
      !has(spec, 'targetRef') &&
      !has(spec, 'targetRefs');
    const rules = arrayAt(spec, 'rules');
    if (rules === undefined) issues.push({ field: 'spec.rules', message: 'rules must be a list' });
    else
      rules.forEach((rule, r) => {
        const from = arrayAt(rule, 'from');
        if (!isObject(rule) || from === undefined) {
          issues.push({ field: `spec.rules[${r}]`, message: 'a rule must be an object with a from list' });
          return;
        }
        from.forEach((f, j) => {
          const field = fieldPath(`spec.rules[${r}].from[${j}].source`);
          const source = objectAt(f, 'source');
          const before = issues.length;
          const inc = patterns(source?.namespaces, `${field}.namespaces`, issues);
          const exc = patterns(source?.notNamespaces, `${field}.notNamespaces`, issues);
          const valid = issues.length === before;
          const namespaces = inc === undefined && exc === undefined ? null : and(inc ?? ALL, exc ? not(exc) : ALL);
          peers.push({
            direction: 'ingress',
            rule: r,
            peer: j,
            field,
            namespaces: valid ? namespaces : NONE,
            valid,
            terms: [],
          });
        });
      });
    return {
      engine: 'istio',
      ref: refOf(obj),
      source: obj.source,
      appliesTo: meshWide ? ALL : namedNamespaces(ns),
      protects: false,
      peers,
      issues,
    };
  },
};
