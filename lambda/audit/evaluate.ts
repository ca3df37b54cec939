/**
 * evaluateCluster: one snapshot in, one ClusterResult out. Builds the namespace index once, asks
 * each engine about each policy, evaluates every selection on the index, runs the rules (a rule
 * that throws becomes a finding), then applies severities, exclusions and waivers.
 */
import { analyzeAdmission, isAdmissionObject, type LabelEnforcement } from './admission.js';
import { adminNetworkPolicyEngine } from './engines/adminnetworkpolicy.js';
import { calicoEngine } from './engines/calico.js';
import { ciliumEngine } from './engines/cilium.js';
import { istioEngine } from './engines/istio.js';
import { kubernetesEngine } from './engines/kubernetes.js';
import { refOf, type PolicyEngine } from './engines/types.js';
import { errorMessage } from './engines/util.js';
import { globMatch, matchesAny } from './glob.js';
import type {
  ClusterResult,
  ClusterSnapshot,
  ClusterStatus,
  Finding,
  KindRead,
  PolicyReport,
  ResourceObject,
} from './model.js';
import { createNamespaceIndex } from './namespace-index.js';
import { RULES } from './rules/index.js';
import type { Completeness, EvaluatedPeer, EvaluatedPolicy, Rule, RuleContext } from './rules/types.js';
import { waiverExpired, type AuditSettings } from './settings.js';

export const ENGINES: readonly PolicyEngine[] = [
  kubernetesEngine,
  ciliumEngine,
  calicoEngine,
  adminNetworkPolicyEngine,
  istioEngine,
];

type ReadCategory = keyof Completeness;

/** Which part of the audit a read resource feeds. */
export function readCategory(resource: string): ReadCategory {
  if (resource === 'namespaces') return 'namespaces';
  if (resource.endsWith('.kyverno.io') || resource.includes('gatekeeper.sh')) return 'admission';
  return 'networkPolicies';
}

function isComplete(r: KindRead): boolean {
  return r.status === 'complete' || r.status === 'not-installed';
}

export function clusterStatus(snapshot: ClusterSnapshot): ClusterStatus {
  if (snapshot.namespaces === null) return 'failed';
  return snapshot.reads.every(isComplete) ? 'complete' : 'partial';
}

export function evaluateCluster(snapshot: ClusterSnapshot, settings: AuditSettings): ClusterResult {
  const status = clusterStatus(snapshot);
  const errors = [
    ...snapshot.reads
      .filter((r) => !isComplete(r))
      .map((r) => `${r.resource}: ${r.status}${r.reason ? `: ${r.reason}` : ''}`),
    ...snapshot.problems.map((p) =>
      p.source ? `${p.source.file}${p.source.line ? `:${p.source.line}` : ''}: ${p.message}` : p.message,
    ),
  ];
  // A cluster whose namespaces could not be read was not seen at all: nothing about it is complete.
  const seen = snapshot.namespaces !== null;
  const categoryComplete = (c: ReadCategory): boolean =>
    seen && snapshot.reads.filter((r) => readCategory(r.resource) === c).every(isComplete);
  const complete: Completeness = {
    namespaces: categoryComplete('namespaces'),
    networkPolicies: categoryComplete('networkPolicies'),
    admission: categoryComplete('admission'),
  };
  const namespaces = snapshot.namespaces ?? [];
  const index = createNamespaceIndex(namespaces, { synthesizeNameLabel: settings.synthesizeNameLabel });

  const policies: EvaluatedPolicy[] = [];
  const enforcements: LabelEnforcement[] = [];
  const admissionIssues: RuleContext['admissionIssues'][number][] = [];
  const crashed: Finding[] = [];
  const objects = snapshot.objects;
  for (let o = 0; o < objects.length; o++) {
    const obj = objects[o]!;
    try {
      if (isAdmissionObject(obj)) {
        const a = analyzeAdmission(obj);
        enforcements.push(...a.enforcements);
        for (const issue of a.issues) admissionIssues.push({ enforcementRef: refOf(obj), issue });
        continue;
      }
      const engine = engineOf(obj);
      if (!engine) continue;
      const analysis = engine.analyze(obj, settings.engines);
      const appliesTo = index.select(analysis.appliesTo);
      const peers: EvaluatedPeer[] = new Array<EvaluatedPeer>(analysis.peers.length);
      for (let k = 0; k < peers.length; k++) {
        const peer = analysis.peers[k]!;
        peers[k] = { peer, selects: peer.namespaces === null ? null : index.select(peer.namespaces) };
      }
      policies.push({ analysis, appliesTo, peers });
    } catch (e) {
      crashed.push({
        rule: 'selector-invalid',
        severity: 'high',
        cluster: snapshot.cluster,
        namespace: obj.namespace,
        policy: refOf(obj),
        source: obj.source,
        message: `\`${obj.namespace ? `${obj.namespace}/` : ''}${obj.name}\` could not be analysed: ${errorMessage(e)}`,
        fix: null,
      });
    }
  }

  const ctx: RuleContext = {
    cluster: snapshot.cluster,
    index,
    policies,
    enforcements,
    admissionIssues,
    settings,
    complete,
  };
  const findings = [...crashed, ...RULES.flatMap((rule) => runRule(rule, ctx))].filter(
    (f) => f.namespace === null || !matchesAny(settings.exclude, f.namespace),
  );

  return {
    cluster: snapshot.cluster,
    status,
    errors,
    reads: snapshot.reads,
    namespaces: [...index.namespaces],
    policyReports: () => policies.map((p) => policyReport(p, index)),
    policyCount: policies.length,
    findings: findings.map((f) => applyWaiver(f, settings)),
  };
}

function engineOf(obj: ResourceObject): PolicyEngine | undefined {
  for (let i = 0; i < ENGINES.length; i++) if (ENGINES[i]!.handles(obj)) return ENGINES[i];
  return undefined;
}

function runRule(rule: Rule, ctx: RuleContext): Finding[] {
  if (!rule.needs.every((n) => ctx.complete[n])) return [];
  try {
    const drafts = rule.check(ctx);
    const findings: Finding[] = new Array<Finding>(drafts.length);
    const configured = ctx.settings.severities[rule.id];
    for (let i = 0; i < drafts.length; i++) {
      const d = drafts[i]!;
      const severity = configured ?? d.severity ?? rule.severity;
      // Two literals rather than a spread: the same keys in the same order, one shape each.
      findings[i] = d.source
        ? {
            rule: rule.id,
            severity,
            cluster: ctx.cluster,
            namespace: d.namespace,
            policy: d.policy,
            source: d.source,
            message: d.message,
            fix: d.fix,
          }
        : {
            rule: rule.id,
            severity,
            cluster: ctx.cluster,
            namespace: d.namespace,
            policy: d.policy,
            message: d.message,
            fix: d.fix,
          };
    }
    return findings;
  } catch (e) {
    return [
      {
        rule: 'rule-error',
        severity: 'high',
        cluster: ctx.cluster,
        namespace: null,
        policy: null,
        message: `rule ${rule.id} failed: ${errorMessage(e)}`,
        fix: null,
      },
    ];
  }
}

function applyWaiver(f: Finding, settings: AuditSettings): Finding {
  if (f.rule === 'waiver-expired') return f;
  const w = settings.waivers.find(
    (w) =>
      w.rule === f.rule &&
      (w.cluster === undefined || globMatch(w.cluster, f.cluster)) &&
      (f.namespace === null ? w.namespace === '*' : globMatch(w.namespace, f.namespace)) &&
      !waiverExpired(w, settings.now),
  );
  return w ? { ...f, waived: { reason: w.reason, owner: w.owner, expires: w.expires } } : f;
}

function policyReport(p: EvaluatedPolicy, index: ReturnType<typeof createNamespaceIndex>): PolicyReport {
  const a = p.analysis;
  return {
    engine: a.engine,
    kind: a.ref.kind,
    namespace: a.ref.namespace,
    name: a.ref.name,
    appliesTo: index.namesOf(p.appliesTo),
    peers: p.peers.map(({ peer, selects }) => ({
      direction: peer.direction,
      rule: peer.rule,
      peer: peer.peer,
      selects: selects === null ? null : index.namesOf(selects),
    })),
  };
}
