/** The scenario vectors of ../shared/reference/vectors/ through the public functions. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adminSelectionMatches } from '../../lambda/audit/engines/adminnetworkpolicy.js';
import { namePattern } from '../../lambda/audit/engines/istio.js';
import { defaultPolicyTypes, networkPolicyPeerMatches } from '../../lambda/audit/engines/kubernetes.js';
import { ambientEnrolled, sidecarInjection } from '../../lambda/audit/mesh.js';
import { and, matchLabels, NAME_KEY, not, or } from '../../lambda/audit/selectors/query.js';
import { SHARED_VECTORS } from '../helpers/fixtures.js';

interface Vector {
  id: string;
  selector: unknown;
  labels: Record<string, unknown> | null;
  expect: unknown;
  policy_namespace?: string;
  field?: string;
}
const load = (name: string): Vector[] => JSON.parse(readFileSync(`${SHARED_VECTORS}${name}`, 'utf8')) as Vector[];

interface PodLabels {
  namespace: string;
  namespace_labels: Record<string, string>;
  pod_labels: Record<string, string>;
  pod_annotations?: Record<string, string>;
  hostNetwork?: boolean;
}
const pod = (l: PodLabels) => ({
  namespace: l.namespace,
  namespaceLabels: l.namespace_labels,
  podLabels: l.pod_labels,
  podAnnotations: l.pod_annotations,
  hostNetwork: l.hostNetwork,
});

describe('networkpolicy-peers.json', () => {
  for (const v of load('networkpolicy-peers.json')) {
    it(v.id, () => {
      if (v.field?.startsWith('spec.policyTypes')) expect(defaultPolicyTypes(v.selector)).toEqual(v.expect);
      else
        expect(
          networkPolicyPeerMatches(v.selector, v.policy_namespace ?? 'default', pod(v.labels as unknown as PodLabels)),
        ).toBe(v.expect);
    });
  }
});

describe('adminnetworkpolicy.json', () => {
  for (const v of load('adminnetworkpolicy.json')) {
    it(v.id, () => expect(adminSelectionMatches(v.selector, pod(v.labels as unknown as PodLabels))).toBe(v.expect));
  }
});

describe('istio.json', () => {
  for (const v of load('istio.json')) {
    it(v.id, () => {
      const e = v.expect as Record<string, unknown>;
      const l = v.labels as unknown as PodLabels & { peer_namespace_from_mtls_cert?: string | null };
      if ('injected' in e)
        expect(sidecarInjection(pod(l))).toEqual({ injected: e.injected, webhookInvoked: e.webhook_invoked });
      else if ('ambient' in e) expect(ambientEnrolled(pod(l))).toBe(e.ambient);
      else {
        const s = v.selector as { namespaces?: string[]; notNamespaces?: string[] };
        const q = and(
          s.namespaces ? or(...s.namespaces.map(namePattern)) : { op: 'all' },
          s.notNamespaces ? not(or(...s.notNamespaces.map(namePattern))) : { op: 'all' },
        );
        // Without an mTLS peer identity the source namespace is unknown: nothing can match.
        const peer = l.peer_namespace_from_mtls_cert;
        expect(peer === null || peer === undefined ? false : matchLabels(q, { [NAME_KEY]: peer })).toBe(
          e.source_matches,
        );
      }
    });
  }
});
