/** enforcement-missing (admission) and waiver-expired. */
import type { LabelCheck, LabelEnforcement } from '../admission.js';
import { globMatch, matchesAny } from '../glob.js';
import { NAME_TEMPLATE, waiverExpired, type RequiredLabel } from '../settings.js';
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
    // The audited namespaces matter only for blocking enforcements (their exclusions): listed on first use.
    let auditedNames: readonly string[] | undefined;
    const audited = (): readonly string[] =>
      (auditedNames ??= ctx.index.names.filter((n) => !matchesAny(ctx.settings.exclude, n)));
    for (const req of ctx.settings.requiredLabels) {
      const forKey = ctx.enforcements.filter((e) => e.key === req.key);
      const requiring = forKey.filter((e) => e.check.kind !== 'unchanged');
      const blocking = requiring.filter((e) => e.blocks && e.onCreate);
      const updatesCovered = forKey.some((e) => e.blocks && e.onUpdate);
      const gaps = blocking.map((e) => ({ e, gaps: enforcementGaps(e, req, audited(), updatesCovered) }));
      if (gaps.some((g) => g.gaps.length === 0)) continue;
      const named = (e: LabelEnforcement, extra = ''): string =>
        `\`${policyName(e.ref)}\` (${e.mechanism}, ${e.action}${extra})`;
      let message: string;
      if (forKey.length === 0) {
        message = `required label \`${req.key}\` (${describeRequirement(req)}) is not enforced: no Kyverno or Gatekeeper policy requires it on Namespaces`;
      } else if (blocking.length === 0) {
        const auditing = unique(
          (requiring.length > 0 ? requiring : forKey).map((e) => named(e, e.onCreate ? '' : ', not on CREATE')),
        );
        message = `required label \`${req.key}\` is only audited, not enforced: ${auditing.join(', ')} would not block a Namespace without it`;
      } else {
        const why = unique(gaps.map((g) => `${named(g.e)} ${g.gaps.join(' and ')}`));
        message = `required label \`${req.key}\` (${describeRequirement(req)}) is not fully enforced: ${why.join('; ')}`;
      }
      out.push({
        namespace: null,
        policy: (blocking[0] ?? requiring[0] ?? forKey[0])?.ref ?? null,
        message,
        fix: `labelguard policy kyverno --mode enforce | kubectl apply -f -`,
      });
    }
    return out;
  },
};

/** Why a blocking enforcement still lets a Namespace without the required label through; [] when it does not. */
function enforcementGaps(
  e: LabelEnforcement,
  req: RequiredLabel,
  audited: readonly string[],
  updatesCovered: boolean,
): string[] {
  const gaps: string[] = [];
  if (!implies(e, req)) gaps.push(`requires it ${describeCheck(e.check)}, not ${describeRequirement(req)}`);
  if (e.conditional !== undefined) gaps.push(`applies only in part (${e.conditional})`);
  const skipped = audited.filter((n) => matchesAny(e.excludedNamespaces, n));
  if (skipped.length > 0) {
    const shown = skipped
      .slice(0, 5)
      .map((n) => `\`${n}\``)
      .join(', ');
    gaps.push(
      `excludes namespace${skipped.length === 1 ? '' : 's'} ${shown}${skipped.length > 5 ? ` and ${skipped.length - 5} more` : ''}`,
    );
  }
  if (!e.onUpdate && !updatesCovered) gaps.push('does not check UPDATE, so the label can be removed later');
  return gaps;
}

/** Does every value the enforcement lets through satisfy the requirement? */
function implies(e: LabelEnforcement, req: RequiredLabel): boolean {
  const { check } = e;
  if (check.kind === 'unchanged') return false;
  if (req.value === undefined && req.allowed === undefined && req.pattern === undefined) return true;
  const values = valuesOf(check);
  if (req.value !== undefined || req.allowed !== undefined) {
    const wanted = req.value !== undefined ? [req.value] : (req.allowed ?? []);
    return values !== undefined && values.every((v) => wanted.includes(v));
  }
  const pattern = req.pattern ?? '';
  const regex =
    check.kind === 'regex'
      ? check.regex
      : check.kind === 'pattern' && e.mechanism === 'gatekeeper'
        ? check.pattern
        : undefined;
  if (regex !== undefined) return regex === `^(?:${pattern})$` || regex === `^${pattern}$`;
  return values !== undefined && values.every((v) => !v.includes(NAME_TEMPLATE) && fullMatch(pattern, v));
}

function valuesOf(check: LabelCheck): readonly string[] | undefined {
  if (check.kind === 'equals-name') return [NAME_TEMPLATE];
  if (check.kind === 'equals') return [check.value];
  if (check.kind === 'one-of') return check.values;
  return undefined;
}

function describeCheck(check: LabelCheck): string {
  const shown = (v: string): string => (v === NAME_TEMPLATE ? 'the namespace name' : JSON.stringify(v));
  switch (check.kind) {
    case 'present':
      return 'present';
    case 'non-empty':
      return 'non-empty';
    case 'equals-name':
      return 'equal to the namespace name';
    case 'equals':
      return `equal to ${shown(check.value)}`;
    case 'one-of':
      return `one of ${check.values.map(shown).join(', ')}`;
    case 'pattern':
      return `matching the pattern \`${check.pattern}\``;
    case 'regex':
      return `matching /${check.regex}/`;
    case 'unchanged':
      return 'unchanged on update';
  }
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

const compiled = new Map<string, RegExp | null>();
function fullMatch(pattern: string, value: string): boolean {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, 'u');
    } catch {
      re = null;
    }
    compiled.set(pattern, re);
  }
  return re?.test(value) ?? false;
}

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
