import type { RuleId, Severity } from '../audit/model.js';

/**
 * What a report needs to know about a rule: the rule catalogue (supplied by the audit core) maps
 * onto this, so the formatters never import rule implementations.
 */
export interface RuleDescriptor {
  readonly id: RuleId;
  readonly severity: Severity;
  /** One line: what is wrong. */
  readonly summary: string;
  /** Why it matters and how the rule decides. */
  readonly explanation: string;
  /** How to fix it, in general terms (a finding's own `fix` is specific). */
  readonly fix: string;
}
