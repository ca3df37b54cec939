/** label-missing and label-invalid: the generalised `select(.metadata.labels.ns == null)` audit. */
import { NAME_TEMPLATE, type RequiredLabel } from '../settings.js';
import { shellQuote, type FindingDraft, type Rule, type RuleContext } from './types.js';

/** The value a fix should set, or a placeholder when the rule allows several. */
export function wantedValue(req: RequiredLabel, namespace: string): string | undefined {
  if (req.value === NAME_TEMPLATE) return namespace;
  if (req.value !== undefined) return req.value.split(NAME_TEMPLATE).join(namespace);
  if (req.allowed && req.allowed.length === 1) return req.allowed[0];
  return undefined;
}

export function describeRequirement(req: RequiredLabel): string {
  if (req.value === NAME_TEMPLATE) return 'equal to the namespace name';
  if (req.value !== undefined) return `equal to ${JSON.stringify(req.value)}`;
  if (req.allowed) return `one of ${req.allowed.map((a) => JSON.stringify(a)).join(', ')}`;
  if (req.pattern !== undefined) return `matching /${req.pattern}/`;
  return 'present';
}

/** Why a present value breaks the requirement, or null when it satisfies it. */
export function valueProblem(req: RequiredLabel, namespace: string, value: string): string | null {
  const wanted = req.value !== undefined ? wantedValue(req, namespace) : undefined;
  if (wanted !== undefined && value !== wanted) return `should be ${JSON.stringify(wanted)}`;
  if (req.allowed && !req.allowed.includes(value))
    return `is not one of ${req.allowed.map((a) => JSON.stringify(a)).join(', ')}`;
  if (req.pattern !== undefined && !fullMatch(req.pattern, value)) return `does not match /${req.pattern}/`;
  return null;
}

const patterns = new Map<string, RegExp>();
function fullMatch(pattern: string, value: string): boolean {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(`^(?:${pattern})$`, 'u')));
  return re.test(value);
}

function fixCommand(req: RequiredLabel, namespace: string, overwrite: boolean): string {
  const v = wantedValue(req, namespace);
  const value = v !== undefined ? shellQuote(v) : `<${describeRequirement(req).replace(/"/g, '')}>`;
  return `kubectl label namespace ${shellQuote(namespace)} ${req.key}=${value}${overwrite ? ' --overwrite' : ''}`;
}

function eachLabel(
  ctx: RuleContext,
  visit: (ns: string, req: RequiredLabel, value: string | undefined) => FindingDraft | null,
): FindingDraft[] {
  const out: FindingDraft[] = [];
  const { index } = ctx;
  const required = ctx.settings.requiredLabels;
  for (let i = 0; i < index.size; i++) {
    const ns = index.names[i]!;
    for (let r = 0; r < required.length; r++) {
      const req = required[r]!;
      const value = index.labelOf(i, req.key);
      const f = visit(ns, req, value);
      if (f) out.push(f);
    }
  }
  return out;
}

export const labelMissing: Rule = {
  id: 'label-missing',
  severity: 'high',
  summary: 'A namespace lacks a required label.',
  explanation:
    'Network policies select namespaces by label. A namespace created without the label, or whose label was removed, is matched by no policy that names it: traffic those policies allow is silently denied, and policies meant to cover it do not.',
  fix: 'Add the label: `kubectl label namespace <ns> <key>=<value>`; then enforce it at admission (see enforcement-missing).',
  example: 'namespace `team-b` has no `ns` label (required: equal to the namespace name)',
  needs: ['namespaces'],
  check: (ctx) =>
    eachLabel(ctx, (ns, req, value) =>
      value !== undefined
        ? null
        : {
            namespace: ns,
            policy: null,
            severity: req.severity,
            message: `namespace \`${ns}\` has no \`${req.key}\` label (required: ${describeRequirement(req)})`,
            fix: fixCommand(req, ns, false),
          },
    ),
};

export const labelInvalid: Rule = {
  id: 'label-invalid',
  severity: 'high',
  summary: 'A required namespace label is present but has the wrong value.',
  explanation:
    'The label exists but does not carry the value the rule requires (equal to the namespace name, one of an allowed set, or matching a pattern), so policies that select the expected value do not match the namespace.',
  fix: 'Correct the value: `kubectl label namespace <ns> <key>=<value> --overwrite`.',
  example: 'namespace `ingress` has `ns=ingress-nginx`, which should be "ingress"',
  needs: ['namespaces'],
  check: (ctx) =>
    eachLabel(ctx, (ns, req, value) => {
      if (value === undefined) return null;
      const problem = valueProblem(req, ns, value);
      return problem === null
        ? null
        : {
            namespace: ns,
            policy: null,
            severity: req.severity,
            message: `namespace \`${ns}\` has \`${req.key}=${value}\`, which ${problem}`,
            fix: fixCommand(req, ns, true),
          };
    }),
};
