/** enforcement-missing (admission) and waiver-expired. */
import { globMatch } from '../glob.js';
import { waiverExpired } from '../settings.js';
import { describeRequirement } from './label-rules.js';
import { policyName, type FindingDraft, type Rule } from './types.js';

export const enforcementMissing: Rule = {
  id: 'enforcement-missing',
  severity: 'medium',
  summary: 'A required label is not enforced by any admission policy in the cluster.',
  explanation:
    'Without a Kyverno or Gatekeeper policy that denies Namespace creates and updates lacking the label, the next namespace can be created without it, or a script can remove it, and the audit only finds out afterwards. A policy that exists but only audits does not block anything.',
  fix: 'Apply the policy `labelguard policy kyverno` (or `gatekeeper`) generates, in enforce mode.',
  example:
    'required label `ns` is only audited, not enforced: `require-ns-label` (kyverno, Audit) would not block a Namespace without it',
  needs: ['admission'],
  check(ctx) {
    const out: FindingDraft[] = [];
    for (const req of ctx.settings.requiredLabels) {
      const forKey = ctx.enforcements.filter((e) => e.key === req.key);
      if (forKey.some((e) => e.blocks && e.onCreate)) continue;
      const auditing = forKey.map(
        (e) => `\`${policyName(e.ref)}\` (${e.mechanism}, ${e.action}${e.onCreate ? '' : ', not on CREATE'})`,
      );
      out.push({
        namespace: null,
        policy: forKey[0]?.ref ?? null,
        message:
          forKey.length === 0
            ? `required label \`${req.key}\` (${describeRequirement(req)}) is not enforced: no Kyverno or Gatekeeper policy requires it on Namespaces`
            : `required label \`${req.key}\` is only audited, not enforced: ${auditing.join(', ')} would not block a Namespace without it`,
        fix: `labelguard policy kyverno --mode enforce | kubectl apply -f -`,
      });
    }
    return out;
  },
};

export const waiverExpiredRule: Rule = {
  id: 'waiver-expired',
  severity: 'low',
  summary: 'A waiver is past its expiry and no longer suppresses anything.',
  explanation:
    'Waivers carry an owner, a reason and an expiry. Once expired, the findings it covered are reported again.',
  fix: 'Fix the underlying finding, or renew the waiver with a new expiry and justification.',
  example:
    'waiver for namespace-unprotected on namespace `sandbox` (owner platform-team) expired on 2026-06-30: "migration"',
  needs: [],
  check(ctx) {
    return ctx.settings.waivers
      .filter(
        (w) => (w.cluster === undefined || globMatch(w.cluster, ctx.cluster)) && waiverExpired(w, ctx.settings.now),
      )
      .map((w) => ({
        namespace: w.namespace.includes('*') || w.namespace.includes('?') ? null : w.namespace,
        policy: null,
        message: `waiver for ${w.rule} on namespace \`${w.namespace}\` (owner ${w.owner}) expired on ${w.expires}: "${w.reason}"`,
        fix: 'renew or remove the waiver in labelguard.config.yaml',
      }));
  },
};
