/** Rules over policy selections: unprotected namespaces, dead peers, near misses, invalid selectors. */
import { NsSet } from '../namespace-index.js';
import { policyName, shellQuote, type FindingDraft, type Rule } from './types.js';

export const namespaceUnprotected: Rule = {
  id: 'namespace-unprotected',
  severity: 'high',
  summary: 'No network policy of any engine applies to the namespace.',
  explanation:
    'No Kubernetes NetworkPolicy, Cilium, Calico or (Baseline)AdminNetworkPolicy selects pods in this namespace, so it has no zero-trust boundary: every pod accepts traffic from everywhere. Often the cause is a missing label that a cluster-wide policy selects on.',
  fix: 'Give the namespace the labels your cluster-wide policies select on, or add a default-deny NetworkPolicy to it.',
  example: 'no network policy applies to namespace `sandbox`: it has no zero-trust boundary',
  needs: ['namespaces', 'networkPolicies'],
  check(ctx) {
    const covered = NsSet.union(
      ctx.index.size,
      ctx.policies.filter((p) => p.analysis.protects).map((p) => p.appliesTo),
    );
    return ctx.index.namesOf(covered.not()).map((ns) => ({
      namespace: ns,
      policy: null,
      message: `no network policy applies to namespace \`${ns}\`: it has no zero-trust boundary`,
      fix: null,
    }));
  },
};

export const peerSelectsNothing: Rule = {
  id: 'peer-selects-nothing',
  severity: 'medium',
  summary: "A policy peer's namespace selection matches no namespace: a dead rule.",
  explanation:
    'The rule names namespaces (by label or by name) and none exists with those labels today, so the traffic it was written to allow is denied. Usually a label was never set or was removed; see near-miss for the likely namespace.',
  fix: 'Label the namespace the rule means (see the near-miss finding), or correct the selector.',
  example: '`monitoring/allow-teams` egress spec.egress[0].toEndpoints[1] selects no namespace',
  needs: ['namespaces'],
  check(ctx) {
    const out: FindingDraft[] = [];
    const { policies } = ctx;
    for (let k = 0; k < policies.length; k++) {
      const p = policies[k]!;
      for (let j = 0; j < p.peers.length; j++) {
        const { peer, selects } = p.peers[j]!;
        if (!peer.valid || selects === null || !selects.isEmpty()) continue;
        const ref = p.analysis.ref;
        out.push({
          namespace: ref.namespace,
          policy: ref,
          source: p.analysis.source,
          message: `\`${policyName(ref)}\` ${peer.direction} ${peer.field} selects no namespace`,
          fix: null,
        });
      }
    }
    return out;
  },
};

export const nearMiss: Rule = {
  id: 'near-miss',
  severity: 'high',
  summary: 'A namespace selector expects `key=<namespace name>` and that namespace lacks the label value.',
  explanation:
    'A namespace-level selector term `key=value` whose value is the name of an existing namespace almost certainly means that namespace, which does not carry the label value: the root cause of a rule that matches nothing.',
  fix: 'Label the namespace: `kubectl label namespace <value> <key>=<value> --overwrite`.',
  example: '`monitoring/allow-teams` expects `ns=team-b`; namespace `team-b` has no `ns` label',
  needs: ['namespaces'],
  check(ctx) {
    const out: FindingDraft[] = [];
    const seen = new Set<string>();
    const { policies } = ctx;
    for (let k = 0; k < policies.length; k++) {
      const p = policies[k]!;
      const ref = p.analysis.ref;
      for (let j = 0; j < p.peers.length; j++) {
        const peer = p.peers[j]!.peer;
        if (!peer.valid) continue;
        for (let t = 0; t < peer.terms.length; t++) {
          const term = peer.terms[t]!;
          const id = ctx.index.idOf(term.value);
          if (id === undefined) continue;
          const actual = ctx.index.labelOf(id, term.key);
          if (actual === term.value) continue;
          const key = `${policyName(ref)}\u0000${ref.kind}\u0000${term.value}\u0000${term.key}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const has = actual === undefined ? `has no \`${term.key}\` label` : `has \`${term.key}=${actual}\``;
          out.push({
            namespace: term.value,
            policy: ref,
            source: p.analysis.source,
            message: `\`${policyName(ref)}\` expects \`${term.key}=${term.value}\`; namespace \`${term.value}\` ${has}`,
            fix: `kubectl label namespace ${shellQuote(term.value)} ${term.key}=${shellQuote(term.value)} --overwrite`,
          });
        }
      }
    }
    return out;
  },
};

export const selectorInvalid: Rule = {
  id: 'selector-invalid',
  severity: 'high',
  summary: 'A selector the engine would reject, or that no labels can ever satisfy.',
  explanation:
    'An unknown operator, `In` without values, a Calico syntax error or a contradiction (`a=x` and `a=y`) means the policy does not select what its author intended; the engine either rejects it or it matches nothing.',
  fix: 'Correct the selector at the field named in the message.',
  example:
    '`team-a/allow-web` spec.ingress[0].from[0].namespaceSelector: matchExpressions[0]: values must be specified when operator is In',
  needs: [],
  check(ctx) {
    const out: FindingDraft[] = [];
    for (const p of ctx.policies) {
      const ref = p.analysis.ref;
      for (const issue of p.analysis.issues)
        out.push({
          namespace: ref.namespace,
          policy: ref,
          source: p.analysis.source,
          message: `\`${policyName(ref)}\` ${issue.field}: ${issue.message}`,
          fix: null,
        });
    }
    for (const { enforcementRef: ref, issue } of ctx.admissionIssues)
      out.push({
        namespace: ref.namespace,
        policy: ref,
        message: `\`${policyName(ref)}\` ${issue.field}: ${issue.message}`,
        fix: null,
      });
    return out;
  },
};
