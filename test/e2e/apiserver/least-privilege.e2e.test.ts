/**
 * deploy/rbac/labelguard-reader.yaml is least privilege, judged by the real RBAC authorizer:
 * - as shipped, nothing labelguard reads is forbidden;
 * - it grants nothing but get/list (the manifest, and SelfSubjectRulesReview as the reader);
 * - with any one rule removed, the scan says which kind is forbidden, marks the cluster incomplete,
 *   and claims nothing it could not see (its findings are a subset of the full scan's, and none
 *   rests on a policy of a kind it could not read). A rule whose removal forbids nothing would be
 *   a grant beyond what is read.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingKey, scanJson, type JsonReport } from './cli.js';
import {
  READER_GROUP,
  READER_ROLE_FILE,
  readReaderRole,
  rulesAllow,
  startControlPlane,
  type ClusterRole,
  type ControlPlane,
  type PolicyRule,
} from './harness.js';
import { createKubeClient, type KubeClient } from './kube-client.js';
import { createObjects, shopScenario } from './scenario.js';

/** What a reader must never be granted, even read-only. */
const NEVER = new Set(['secrets', 'configmaps', 'serviceaccounts/token', 'pods/exec', '*']);
/** The kind each policy resource of the shop scenario holds (to tell which findings rest on it). */
const KIND_OF_RESOURCE: Readonly<Record<string, string>> = {
  'networkpolicies.networking.k8s.io': 'NetworkPolicy',
  'ciliumnetworkpolicies.cilium.io': 'CiliumNetworkPolicy',
  'ciliumclusterwidenetworkpolicies.cilium.io': 'CiliumClusterwideNetworkPolicy',
  'networkpolicies.crd.projectcalico.org': 'NetworkPolicy',
  'globalnetworkpolicies.crd.projectcalico.org': 'GlobalNetworkPolicy',
  'adminnetworkpolicies.policy.networking.k8s.io': 'AdminNetworkPolicy',
  'baselineadminnetworkpolicies.policy.networking.k8s.io': 'BaselineAdminNetworkPolicy',
  'authorizationpolicies.security.istio.io': 'AuthorizationPolicy',
  'clusterpolicies.kyverno.io': 'ClusterPolicy',
  'policies.kyverno.io': 'Policy',
  'k8srequiredlabels.constraints.gatekeeper.sh': 'K8sRequiredLabels',
};

const role: ClusterRole | null = await readReaderRole().catch(() => null);

describe('the shipped reader ClusterRole', () => {
  it('exists as one ClusterRole in deploy/rbac/labelguard-reader.yaml', () => {
    expect(role, `${READER_ROLE_FILE} is missing or holds no single ClusterRole`).not.toBeNull();
  });

  it('grants only get and list, on named resources, never secrets or config maps', () => {
    for (const rule of role?.rules ?? []) {
      const where = JSON.stringify(rule);
      expect(rule.nonResourceURLs ?? [], where).toEqual([]);
      expect(
        rule.verbs.filter((v) => v !== 'get' && v !== 'list'),
        where,
      ).toEqual([]);
      expect(rule.apiGroups ?? [], where).not.toContain('*');
      for (const resource of rule.resources ?? []) {
        // Gatekeeper makes one constraint kind per template: that group alone may say "every resource".
        if (resource === '*' && (rule.apiGroups ?? []).every((g) => g === 'constraints.gatekeeper.sh')) continue;
        expect(NEVER.has(resource), `${where} names ${resource}`).toBe(false);
      }
    }
    expect(role?.aggregationRule).toBeUndefined();
  });

  it('is bound to the labelguard-readers group', async () => {
    const docs = parseAllDocuments(await readFile(READER_ROLE_FILE, 'utf8')).map(
      (d) =>
        d.toJS() as {
          kind?: string;
          roleRef?: { kind?: string; name?: string };
          subjects?: { kind: string; name: string }[];
        },
    );
    const bindings = docs.filter((d) => d?.kind === 'ClusterRoleBinding' && d.roleRef?.name === role?.metadata.name);
    expect(bindings.flatMap((b) => b.subjects ?? [])).toContainEqual(
      expect.objectContaining({ kind: 'Group', name: READER_GROUP }),
    );
  });
});

describe.runIf(role !== null)('least privilege against the real RBAC authorizer', () => {
  const shipped = role as ClusterRole;
  let cp: ControlPlane;
  let full: JsonReport;
  let kubeconfigFile: string;
  let served: Set<{ group: string; plural: string }>;

  const scan = async (): Promise<JsonReport> => {
    await cp.writeKubeconfig(kubeconfigFile, { context: 'shop', token: cp.signToken() });
    return scanJson(['--kubeconfig', kubeconfigFile]);
  };

  beforeAll(async () => {
    cp = await startControlPlane();
    kubeconfigFile = join(cp.workDir, 'reader.kubeconfig');
    await createObjects(cp.admin, shopScenario());
    served = await discoverServed(cp.admin);
    full = await scan();
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('as shipped, nothing is forbidden and the cluster is complete', () => {
    const [cluster] = full.clusters;
    expect(cluster?.reads.filter((r) => r.status === 'forbidden')).toEqual([]);
    expect(cluster?.status).toBe('complete');
  });

  it('SelfSubjectRulesReview: the reader can do nothing but get/list (and ask about itself)', async () => {
    const reader = createKubeClient({ server: cp.server, caPem: cp.caPem, token: cp.signToken() });
    try {
      const review = (await reader.must('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectRulesReview',
        spec: { namespace: 'team-a' },
      })) as {
        status: {
          resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[] }[];
          nonResourceRules: { verbs: string[]; nonResourceURLs: string[] }[];
        };
      };
      // system:basic-user lets every user create reviews about itself; nothing else may be more than a read.
      const selfReviews = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews']);
      for (const rule of review.status.resourceRules) {
        if ((rule.resources ?? []).every((r) => selfReviews.has(r))) {
          expect(rule.verbs).toEqual(['create']);
          continue;
        }
        expect(
          rule.verbs.filter((v) => v !== 'get' && v !== 'list'),
          JSON.stringify(rule),
        ).toEqual([]);
        for (const resource of rule.resources ?? []) {
          if (resource === '*' && (rule.apiGroups ?? []).every((g) => g === 'constraints.gatekeeper.sh')) continue;
          expect(NEVER.has(resource), JSON.stringify(rule)).toBe(false);
        }
      }
      for (const rule of review.status.nonResourceRules) expect(rule.verbs, JSON.stringify(rule)).toEqual(['get']);
    } finally {
      reader.close();
    }
  });

  /** Whether this server serves `group/resource` (`*`: anything in the group), by API discovery. */
  const installed = (group: string, resource: string): boolean =>
    resource === '*'
      ? [...served].some((r) => r.group === group)
      : [...served].some((r) => r.group === group && r.plural === resource);

  const readName = (group: string, resource: string): string[] =>
    resource === '*'
      ? cp.crds.filter((c) => c.group === group).map((c) => `${c.plural}.${c.group}`)
      : [group === '' ? resource : `${resource}.${group}`];

  it.each(shipped.rules.map((rule, i) => [i, JSON.stringify(rule)] as const))(
    'without rule %i (%s): that kind is forbidden, the cluster incomplete, and no claim rests on it',
    async (i) => {
      const removed = shipped.rules[i] as PolicyRule;
      const remaining = shipped.rules.filter((_, k) => k !== i);
      await cp.setReaderRules(remaining);
      try {
        const report = await scan();
        const [cluster] = report.clusters;
        const lost = (removed.apiGroups ?? []).flatMap((g) =>
          (removed.resources ?? [])
            .filter((r) => installed(g, r) && !rulesAllow(remaining, 'list', g, r === '*' ? 'k8srequiredlabels' : r))
            .flatMap((r) => readName(g, r)),
        );
        // Every rule must matter: one whose removal forbids nothing on a server that serves its kinds
        // grants more than labelguard reads.
        const servedHere = (removed.apiGroups ?? []).some((g) =>
          (removed.resources ?? []).some((r) => installed(g, r)),
        );
        if (!servedHere) {
          // Kinds this server does not serve (e.g. the aggregated projectcalico.org API): discovery
          // skips them, so nothing changes.
          expect(cluster?.reads.filter((r) => r.status === 'forbidden')).toEqual([]);
          return;
        }
        expect(lost.length, `rule ${i} grants only what other rules grant`).toBeGreaterThan(0);
        const forbidden = (cluster?.reads ?? []).filter((r) => r.status === 'forbidden').map((r) => r.resource);
        expect(
          forbidden.length,
          `without rule ${i} nothing was reported forbidden: it grants what is never read`,
        ).toBeGreaterThan(0);
        // Every kind it lost that the full scan read is reported forbidden, and nothing else is.
        const readBefore = lost.filter((name) => full.clusters[0]?.reads.some((r) => r.resource === name));
        expect(forbidden.sort()).toEqual(expect.arrayContaining(readBefore));
        for (const name of forbidden) expect(lost).toContain(name);
        expect(cluster?.status).toBe(lost.includes('namespaces') ? 'failed' : 'partial');

        // No claim it could not see: nothing the full scan did not find, nothing about a policy it could not read.
        const fullKeys = new Set(full.findings.map(findingKey));
        expect(report.findings.map(findingKey).filter((k) => !fullKeys.has(k))).toEqual([]);
        const hiddenKinds = new Set(forbidden.map((r) => KIND_OF_RESOURCE[r]).filter((k) => k !== undefined));
        const hiddenGroups = new Set(forbidden.map((r) => r.slice(r.indexOf('.') + 1)));
        expect(
          report.findings.filter(
            (f) => f.policy !== null && hiddenKinds.has(f.policy.kind) && policyIsIn(full, f.policy, hiddenGroups),
          ),
        ).toEqual([]);
        expect(
          (cluster?.policies ?? []).filter((p) => hiddenKinds.has(p.kind) && policyIsIn(full, p, hiddenGroups)),
        ).toEqual([]);
        if (lost.includes('namespaces')) expect(cluster?.namespaces ?? []).toEqual([]);
      } finally {
        await cp.setReaderRules(shipped.rules);
      }
    },
  );
});

/** Every resource the server serves, in every version, by discovery (as the admin). */
async function discoverServed(admin: KubeClient): Promise<Set<{ group: string; plural: string }>> {
  const out = new Set<{ group: string; plural: string }>();
  type ResourceList = { resources: { name: string }[] };
  const add = (group: string, list: ResourceList): void => {
    for (const r of list.resources) if (!r.name.includes('/')) out.add({ group, plural: r.name });
  };
  add('', (await admin.must('GET', '/api/v1')) as ResourceList);
  const groups = (await admin.must('GET', '/apis')) as {
    groups: { name: string; versions: { groupVersion: string }[] }[];
  };
  for (const g of groups.groups) {
    for (const v of g.versions) add(g.name, (await admin.must('GET', `/apis/${v.groupVersion}`)) as ResourceList);
  }
  return out;
}

/**
 * True when the full scan has `policy` from one of `groups` (a Calico NetworkPolicy and a
 * Kubernetes one share a kind: the engine tells them apart).
 */
function policyIsIn(
  full: JsonReport,
  policy: { readonly kind: string; readonly namespace: string | null; readonly name: string },
  groups: ReadonlySet<string>,
): boolean {
  const engineOfGroup: Record<string, string> = {
    'networking.k8s.io': 'kubernetes',
    'cilium.io': 'cilium',
    'crd.projectcalico.org': 'calico',
    'policy.networking.k8s.io': 'adminnetworkpolicy',
    'security.istio.io': 'istio',
  };
  const engines = new Set([...groups].map((g) => engineOfGroup[g]).filter((e) => e !== undefined));
  // Kyverno and Gatekeeper objects are not policies of an engine: their kind alone identifies them.
  if ([...groups].some((g) => g === 'kyverno.io' || g === 'constraints.gatekeeper.sh')) return true;
  return (full.clusters[0]?.policies ?? []).some(
    (p) =>
      p.kind === policy.kind && p.namespace === policy.namespace && p.name === policy.name && engines.has(p.engine),
  );
}
