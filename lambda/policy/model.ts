/** What the generators take: the config's required labels and exclusions, and the mode. */
import { NAME_TEMPLATE, type RequiredLabel } from '../audit/index.js';

export type PolicyMode = 'audit' | 'enforce';

export const POLICY_MODES: readonly PolicyMode[] = ['audit', 'enforce'];

/** The part of the configuration a policy is made from (a parsed `Config` is one). */
export interface PolicyInput {
  readonly requiredLabels: readonly RequiredLabel[];
  /** Namespace name globs (`*`, `?`) the audit skips; the policies skip them too. */
  readonly exclude: readonly string[];
}

export interface PolicyOptions {
  /** `enforce` (default) denies violating requests; `audit` only reports them. */
  readonly mode?: PolicyMode;
}

/** A required label's value rule, one of four shapes. */
export type ValueRule =
  | { readonly kind: 'present' }
  /** Exact values; `{{name}}` inside a value stands for the namespace's own name. */
  | { readonly kind: 'values'; readonly values: readonly string[] }
  /** A regular expression the whole value must match. */
  | { readonly kind: 'pattern'; readonly pattern: string };

export function valueRuleOf(req: RequiredLabel): ValueRule {
  if (req.value !== undefined) return { kind: 'values', values: [req.value] };
  if (req.allowed !== undefined) return { kind: 'values', values: [...req.allowed] };
  if (req.pattern !== undefined) return { kind: 'pattern', pattern: req.pattern };
  return { kind: 'present' };
}

/** "equal to the namespace name", `one of "a", "team-<name>"`, "matching ^(?:x)$", "present (any value)". */
export function describeValueRule(rule: ValueRule): string {
  switch (rule.kind) {
    case 'present':
      return 'present (any value)';
    case 'pattern':
      return `matching ^(?:${rule.pattern})$`;
    case 'values': {
      const shown = rule.values.map((v) =>
        v === NAME_TEMPLATE ? 'the namespace name' : JSON.stringify(v.split(NAME_TEMPLATE).join('<name>')),
      );
      return rule.values.length === 1 ? `equal to ${shown[0] ?? ''}` : `one of ${shown.join(', ')}`;
    }
  }
}

/** The anchored form in which both Gatekeeper and Kyverno test a `pattern` (RE2, like the audit's ^(?:p)$). */
export function anchored(pattern: string): string {
  return `^(?:${pattern})$`;
}
