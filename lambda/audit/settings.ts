/** What the audit core needs from the configuration, as plain data (time included). */
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from './engines/types.js';
import type { RuleId, Severity } from './model.js';

/** `{{name}}` as a required value means "equal to the namespace's own name". */
export const NAME_TEMPLATE = '{{name}}';

export interface RequiredLabel {
  readonly key: string;
  /** An exact value, or the template `{{name}}`. */
  readonly value?: string;
  readonly allowed?: readonly string[];
  /** A regular expression the whole value must match. */
  readonly pattern?: string;
  readonly severity?: Severity;
}

export interface Waiver {
  readonly rule: RuleId;
  /** Cluster name glob; absent = every cluster. */
  readonly cluster?: string;
  /** Namespace name glob. */
  readonly namespace: string;
  readonly reason: string;
  readonly owner: string;
  /** ISO date or date-time; the waiver stops applying after it. */
  readonly expires: string;
  readonly ticket?: string;
}

export interface AuditSettings {
  readonly requiredLabels: readonly RequiredLabel[];
  /** Namespace globs whose findings are not reported (they never change what a selector selects). */
  readonly exclude: readonly string[];
  readonly waivers: readonly Waiver[];
  readonly severities: Readonly<Partial<Record<RuleId, Severity>>>;
  readonly engines: EngineSettings;
  /** Synthesize kubernetes.io/metadata.name on every namespace (clusters >= 1.21). */
  readonly synthesizeNameLabel: boolean;
  /** The scan's time (ISO 8601), for waiver expiry. */
  readonly now: string;
}

export const DEFAULT_AUDIT_SETTINGS: Omit<AuditSettings, 'now'> = {
  requiredLabels: [{ key: 'ns', value: NAME_TEMPLATE }],
  exclude: ['kube-*'],
  waivers: [],
  severities: {},
  engines: DEFAULT_ENGINE_SETTINGS,
  synthesizeNameLabel: true,
};

/** A date-only expiry lasts through the end of that day (UTC). */
export function waiverExpired(w: Waiver, now: string): boolean {
  const end = /^\d{4}-\d{2}-\d{2}$/.test(w.expires) ? `${w.expires}T23:59:59.999Z` : w.expires;
  const t = Date.parse(end);
  return Number.isNaN(t) || t < Date.parse(now);
}
