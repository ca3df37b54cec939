/**
 * Hand-made ScanReports for the report formatters: small builders with sensible defaults, and the
 * shared two-cluster fixture (one complete cluster with findings of every severity, one waived and
 * one traced to a manifest line; one cluster that could not be read at all).
 */
import type { ClusterReport, Finding, RuleId, ScanReport, Severity } from '../../lambda/audit/model.js';
import type { RuleDescriptor } from '../../lambda/report/rule-descriptor.js';
import { summarize as coreSummarize } from '../../lambda/audit/report.js';

export const GENERATED_AT = '2025-06-01T12:00:00.000Z';

export function buildFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    rule: 'label-missing',
    severity: 'medium',
    cluster: 'prod-eu',
    namespace: 'checkout',
    policy: null,
    message: 'Namespace "checkout" lacks the required label "team"',
    fix: 'kubectl label namespace checkout team=<owner>',
    ...overrides,
  };
}

export function buildCluster(overrides: Partial<ClusterReport> = {}): ClusterReport {
  return {
    cluster: 'prod-eu',
    status: 'complete',
    errors: [],
    reads: [
      { resource: 'namespaces', status: 'complete' },
      { resource: 'networkpolicies.networking.k8s.io', status: 'complete' },
    ],
    namespaces: [],
    policies: [],
    policyCount: overrides.policies?.length ?? 0,
    ...overrides,
  };
}

/** The summary the audit core computes: waived findings are counted apart, not in the totals. */
export const summarize = coreSummarize;

export function buildReport(
  parts: { clusters?: readonly ClusterReport[]; findings?: readonly Finding[]; generatedAt?: string } = {},
): ScanReport {
  const clusters = parts.clusters ?? [buildCluster()];
  const findings = parts.findings ?? [];
  return {
    schemaVersion: 1,
    generatedAt: parts.generatedAt ?? GENERATED_AT,
    clusters,
    findings,
    summary: summarize(clusters, findings),
  };
}

export const PAYMENTS_MANIFEST = 'manifests/prod-eu/payments.yaml';

export const prodEu: ClusterReport = buildCluster({
  cluster: 'prod-eu',
  namespaces: [
    { name: 'payments', labels: { 'kubernetes.io/metadata.name': 'payments', team: 'payments', tier: 'pci' } },
    { name: 'monitoring', labels: { 'kubernetes.io/metadata.name': 'monitoring', team: 'observabilty' } },
    { name: 'checkout', labels: { 'kubernetes.io/metadata.name': 'checkout' } },
    { name: 'frontend', labels: { 'kubernetes.io/metadata.name': 'frontend', team: 'web' } },
    { name: 'legacy', labels: { 'kubernetes.io/metadata.name': 'legacy' } },
    { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  ],
  policies: [
    {
      engine: 'kubernetes',
      kind: 'NetworkPolicy',
      namespace: 'payments',
      name: 'default-deny',
      appliesTo: ['payments'],
      peers: [],
    },
    {
      engine: 'kubernetes',
      kind: 'NetworkPolicy',
      namespace: 'payments',
      name: 'allow-monitoring',
      appliesTo: ['payments'],
      peers: [
        { direction: 'ingress', rule: 0, peer: 0, selects: [] },
        { direction: 'egress', rule: 0, peer: 0, selects: null },
      ],
    },
    {
      engine: 'kubernetes',
      kind: 'NetworkPolicy',
      namespace: 'checkout',
      name: 'allow-frontend',
      appliesTo: ['checkout'],
      peers: [{ direction: 'ingress', rule: 0, peer: 0, selects: ['frontend'] }],
    },
    {
      engine: 'adminnetworkpolicy',
      kind: 'AdminNetworkPolicy',
      namespace: null,
      name: 'pci-isolation',
      appliesTo: ['payments'],
      peers: [{ direction: 'ingress', rule: 0, peer: 0, selects: ['checkout', 'frontend'] }],
    },
  ],
});

export const stagingUs: ClusterReport = buildCluster({
  cluster: 'staging-us',
  status: 'failed',
  errors: ['list namespaces: Unauthorized (401): the EKS token was rejected'],
  reads: [
    { resource: 'namespaces', status: 'failed', reason: 'Unauthorized (401)' },
    { resource: 'networkpolicies.networking.k8s.io', status: 'failed', reason: 'Unauthorized (401)' },
  ],
});

export const sampleFindings: readonly Finding[] = [
  buildFinding({
    rule: 'peer-selects-nothing',
    severity: 'high',
    namespace: 'payments',
    policy: { kind: 'NetworkPolicy', namespace: 'payments', name: 'allow-monitoring' },
    message: 'Ingress rule 1, peer 1 selects no namespace: namespaceSelector team=observability matches nothing',
    fix: 'kubectl label namespace monitoring team=observability --overwrite',
    source: { file: PAYMENTS_MANIFEST, line: 14 },
  }),
  buildFinding({
    rule: 'label-missing',
    severity: 'medium',
    namespace: 'checkout',
    message: 'Namespace "checkout" lacks the required label "team"',
    fix: 'kubectl label namespace checkout team=<owner>',
  }),
  buildFinding({
    rule: 'enforcement-missing',
    severity: 'critical',
    namespace: null,
    policy: null,
    message: 'No network policy engine enforces NetworkPolicy in this cluster: all 4 policies are inert',
    fix: 'Install a CNI that enforces NetworkPolicy (Calico, Cilium) or enable it on the VPC CNI',
  }),
  buildFinding({
    rule: 'near-miss',
    severity: 'medium',
    namespace: 'monitoring',
    policy: { kind: 'NetworkPolicy', namespace: 'payments', name: 'allow-monitoring' },
    message: 'Namespace "monitoring" has team=observabilty; the peer wants team=observability (1 edit apart)',
    fix: 'kubectl label namespace monitoring team=observability --overwrite',
  }),
  buildFinding({
    rule: 'namespace-unprotected',
    severity: 'low',
    namespace: 'frontend',
    message: 'No policy applies to namespace "frontend": all ingress is allowed',
    fix: null,
  }),
  buildFinding({
    rule: 'label-missing',
    severity: 'medium',
    namespace: 'legacy',
    message: 'Namespace "legacy" lacks the required label "team"',
    fix: 'kubectl label namespace legacy team=<owner>',
    waived: { reason: 'Decommissioned in Q3; no new workloads', owner: 'team-platform', expires: '2025-09-30' },
  }),
];

/** prod-eu (complete: 5 findings + 1 waived) and staging-us (failed, unreadable). */
export function buildSampleReport(): ScanReport {
  return buildReport({ clusters: [prodEu, stagingUs], findings: sampleFindings });
}

function describeRule(id: RuleId, severity: Severity, summary: string): RuleDescriptor {
  return {
    id,
    severity,
    summary,
    explanation: `${summary}. See RULES.md#${id}.`,
    fix: `Fix the cause of ${id}.`,
  };
}

/** A stand-in rule catalogue covering every rule the sample report uses. */
export const SAMPLE_RULES: readonly RuleDescriptor[] = [
  describeRule('label-missing', 'medium', 'A namespace lacks a required label'),
  describeRule('namespace-unprotected', 'low', 'No policy applies to a namespace'),
  describeRule('peer-selects-nothing', 'high', 'A policy peer selects no namespace'),
  describeRule('near-miss', 'medium', 'A namespace almost matches a peer'),
  describeRule('enforcement-missing', 'critical', 'Nothing enforces the policies'),
];
