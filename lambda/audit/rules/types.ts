/** Rules are data (id, severity, words) with a pure check over one evaluated cluster. */
import type { LabelEnforcement } from '../admission.js';
import type { PeerAnalysis, PolicyAnalysis, SelectorIssue } from '../engines/types.js';
import type { Finding, RuleId, Severity } from '../model.js';
import type { NamespaceIndex, NsSet } from '../namespace-index.js';
import type { AuditSettings } from '../settings.js';

export interface EvaluatedPeer {
  readonly peer: PeerAnalysis;
  /** null when the peer is not a namespace selection */
  readonly selects: NsSet | null;
}

export interface EvaluatedPolicy {
  readonly analysis: PolicyAnalysis;
  readonly appliesTo: NsSet;
  readonly peers: readonly EvaluatedPeer[];
}

/** Which parts of the cluster were read completely (rules claim nothing they could not see). */
export interface Completeness {
  readonly namespaces: boolean;
  readonly networkPolicies: boolean;
  readonly admission: boolean;
}

export interface RuleContext {
  readonly cluster: string;
  readonly index: NamespaceIndex;
  readonly policies: readonly EvaluatedPolicy[];
  readonly enforcements: readonly LabelEnforcement[];
  /** Problems in admission policies, reported like selector problems. */
  readonly admissionIssues: readonly {
    readonly enforcementRef: EvaluatedPolicy['analysis']['ref'];
    readonly issue: SelectorIssue;
  }[];
  readonly settings: AuditSettings;
  readonly complete: Completeness;
}

/** What a check returns; the evaluator adds rule, cluster, severity, exclusions and waivers. */
export type FindingDraft = Omit<Finding, 'rule' | 'severity' | 'cluster' | 'waived'> & { readonly severity?: Severity };

export interface Rule {
  readonly id: RuleId;
  readonly severity: Severity;
  readonly summary: string;
  readonly explanation: string;
  readonly fix: string;
  /** A typical message, as the report shows it. */
  readonly example: string;
  /** What must have been read completely for this rule to claim anything. */
  readonly needs: readonly (keyof Completeness)[];
  check(ctx: RuleContext): FindingDraft[];
}

export function policyName(ref: { namespace: string | null; name: string }): string {
  return ref.namespace === null ? ref.name : `${ref.namespace}/${ref.name}`;
}

/** A shell-safe rendering of a label value for fix commands. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9._\-/=:]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
