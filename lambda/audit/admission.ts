/**
 * Admission policies that require namespace labels: Kyverno ClusterPolicy/Policy validate rules on
 * Namespace objects and Gatekeeper K8sRequiredLabels constraints. The audit learns which label keys
 * are enforced at admission (blocked when violated) and which are only audited (selector-semantics §7).
 */
import { apiGroup, refOf, type SelectorIssue } from './engines/types.js';
import { arrayAt, isObject, objectAt, specOf, type Json } from './engines/util.js';
import { globMatch } from './glob.js';
import type { PolicyRef, ResourceObject, SourceRef } from './model.js';

export type LabelCheck =
  | { readonly kind: 'present' }
  | { readonly kind: 'non-empty' }
  | { readonly kind: 'equals-name' }
  | { readonly kind: 'equals'; readonly value: string }
  | { readonly kind: 'pattern'; readonly pattern: string };

export interface LabelEnforcement {
  readonly mechanism: 'kyverno' | 'gatekeeper';
  readonly ref: PolicyRef;
  readonly source?: SourceRef;
  readonly key: string;
  readonly check: LabelCheck;
  /** True when a violating Namespace create/update is denied. */
  readonly blocks: boolean;
  /** The effective action as written: Enforce, Audit, deny, dryrun, warn, ... */
  readonly action: string;
  readonly onCreate: boolean;
  readonly onUpdate: boolean;
  /** Namespace name globs the policy does not apply to. */
  readonly excludedNamespaces: readonly string[];
}

export interface AdmissionAnalysis {
  readonly enforcements: readonly LabelEnforcement[];
  readonly issues: readonly SelectorIssue[];
}

export function isAdmissionObject(obj: ResourceObject): boolean {
  const group = apiGroup(obj.apiVersion);
  return (
    (group === 'kyverno.io' && (obj.kind === 'ClusterPolicy' || obj.kind === 'Policy')) ||
    (group === 'constraints.gatekeeper.sh' && obj.kind === 'K8sRequiredLabels')
  );
}

export function analyzeAdmission(obj: ResourceObject): AdmissionAnalysis {
  return apiGroup(obj.apiVersion) === 'kyverno.io' ? analyzeKyverno(obj) : analyzeGatekeeper(obj);
}

// ---------------------------------------------------------------- Kyverno

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Kyverno's effective failure action for one rule and resource namespace (§7.1). */
export function kyvernoEffectiveAction(spec: unknown, rule: unknown, resourceNamespace: string): string {
  const validate = objectAt(rule, 'validate');
  const fromOverrides = (overrides: unknown): string | undefined => {
    for (const o of arrayAt({ o: overrides }, 'o') ?? []) {
      if (
        isObject(o) &&
        typeof o.action === 'string' &&
        strings(o.namespaces).some((g) => globMatch(g, resourceNamespace))
      )
        return o.action;
    }
    return undefined;
  };
  const s = isObject(spec) ? spec : {};
  return (
    fromOverrides(validate?.failureActionOverrides) ??
    (typeof validate?.failureAction === 'string' ? validate.failureAction : undefined) ??
    fromOverrides(s.validationFailureActionOverrides) ??
    (typeof s.validationFailureAction === 'string' ? s.validationFailureAction : undefined) ??
    'Audit'
  );
}

export function kyvernoBlocks(action: string): boolean {
  return action === 'Enforce' || action === 'enforce';
}

/** Kyverno's pattern check of one scalar field: a missing field fails; `*`/`?` wildcards; `|` alternatives; `!` negation. */
export function kyvernoPatternPasses(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern.split('|').some((alt) => {
    const p = alt.trim();
    if (p.startsWith('!')) return !globMatch(p.slice(1), value);
    return globMatch(p, value);
  });
}

const NAME_VARIABLE = /^\{\{\s*request\.object\.metadata\.name\s*\}\}$/;

function kyvernoCheck(pattern: unknown): LabelCheck | undefined {
  if (typeof pattern !== 'string') return undefined;
  if (pattern === '*') return { kind: 'present' };
  if (pattern === '?*') return { kind: 'non-empty' };
  if (NAME_VARIABLE.test(pattern.trim())) return { kind: 'equals-name' };
  if (/[*?|!]/.test(pattern)) return { kind: 'pattern', pattern };
  return { kind: 'equals', value: pattern };
}

function matchesNamespaceKind(resources: unknown): boolean {
  return strings(objectAt({ r: resources }, 'r')?.kinds).some(
    (k) => k === 'Namespace' || k === '*' || k === 'v1/Namespace' || k.endsWith('/v1/Namespace'),
  );
}

function analyzeKyverno(obj: ResourceObject): AdmissionAnalysis {
  const issues: SelectorIssue[] = [];
  const enforcements: LabelEnforcement[] = [];
  // A namespaced Policy cannot match cluster-scoped Namespace objects.
  const spec = specOf(obj);
  if (obj.kind !== 'ClusterPolicy' || !spec) return { enforcements, issues };
  const admission = spec.admission !== false;
  const rules = arrayAt(spec, 'rules') ?? [];
  rules.forEach((rule, r) => {
    if (!isObject(rule)) return;
    const match = objectAt(rule, 'match') ?? {};
    const blocks = [match, ...(arrayAt(match, 'any') ?? []), ...(arrayAt(match, 'all') ?? [])];
    const matching = blocks.filter((b) => matchesNamespaceKind(objectAt(b, 'resources')));
    if (matching.length === 0) return;
    const operations = matching.flatMap((b) => strings(objectAt(b, 'resources')?.operations));
    const onCreate = operations.length === 0 || operations.includes('CREATE');
    const onUpdate = operations.length === 0 || operations.includes('UPDATE');
    const exclude = objectAt(rule, 'exclude') ?? {};
    const excludedNamespaces = [exclude, ...(arrayAt(exclude, 'any') ?? [])].flatMap((b) =>
      strings(objectAt(b, 'resources')?.names),
    );
    const validate = objectAt(rule, 'validate');
    const alternatives: Json[] = [];
    const pattern = objectAt(validate, 'pattern');
    if (pattern) alternatives.push(pattern);
    const anyPattern = arrayAt(validate, 'anyPattern') ?? [];
    anyPattern.forEach((p) => isObject(p) && alternatives.push(p));
    const labelMaps = alternatives.map((p) => objectAt(objectAt(p, 'metadata'), 'labels') ?? {});
    if (labelMaps.length === 0) return;
    // With anyPattern a key is required only when every alternative requires it.
    const keys = Object.keys(labelMaps[0]!).filter((k) => labelMaps.every((m) => m[k] !== undefined));
    const action = kyvernoEffectiveAction(spec, rule, '');
    for (const key of keys) {
      const check = kyvernoCheck(labelMaps[0]![key]);
      if (!check) {
        issues.push({
          field: `spec.rules[${r}].validate.pattern.metadata.labels.${key}`,
          message: 'pattern must be a string',
        });
        continue;
      }
      enforcements.push({
        mechanism: 'kyverno',
        ref: refOf(obj),
        source: obj.source,
        key,
        check,
        blocks: admission && kyvernoBlocks(action),
        action: admission ? action : `${action} (admission: false)`,
        onCreate,
        onUpdate,
        excludedNamespaces,
      });
    }
  });
  return { enforcements, issues };
}

// ---------------------------------------------------------------- Gatekeeper

/** The k8srequiredlabels template: a missing key (empty counts as present) or a value failing allowedRegex (unanchored). */
export function gatekeeperViolates(parameters: unknown, labels: Readonly<Record<string, string>>): boolean {
  for (const l of arrayAt(parameters, 'labels') ?? []) {
    if (!isObject(l) || typeof l.key !== 'string') continue;
    const value = Object.prototype.hasOwnProperty.call(labels, l.key) ? labels[l.key] : undefined;
    if (value === undefined) return true;
    if (typeof l.allowedRegex === 'string' && l.allowedRegex !== '' && !safeRegExp(l.allowedRegex)?.test(value))
      return true;
  }
  return false;
}

function gatekeeperBlocks(spec: Json): { blocks: boolean; action: string } {
  const action = typeof spec.enforcementAction === 'string' ? spec.enforcementAction : 'deny';
  if (action === 'deny') return { blocks: true, action };
  if (action === 'scoped') {
    const scoped = arrayAt(spec, 'scopedEnforcementActions') ?? [];
    const blocks = scoped.some(
      (s) =>
        isObject(s) &&
        s.action === 'deny' &&
        (arrayAt(s, 'enforcementPoints') ?? []).some(
          (p) => isObject(p) && (p.name === 'validation.gatekeeper.sh' || p.name === '*'),
        ),
    );
    return { blocks, action: blocks ? 'scoped (deny at admission)' : 'scoped (no deny at admission)' };
  }
  return { blocks: false, action };
}

function analyzeGatekeeper(obj: ResourceObject): AdmissionAnalysis {
  const issues: SelectorIssue[] = [];
  const enforcements: LabelEnforcement[] = [];
  const spec = specOf(obj);
  if (!spec) return { enforcements, issues: [{ field: 'spec', message: 'a constraint needs a spec' }] };
  const match = objectAt(spec, 'match') ?? {};
  const kinds = arrayAt(match, 'kinds') ?? [];
  const coversNamespaces =
    kinds.length === 0 ||
    kinds.some((k) => {
      if (!isObject(k)) return false;
      const groups = strings(k.apiGroups);
      const ks = strings(k.kinds);
      return (
        (groups.length === 0 || groups.includes('') || groups.includes('*')) &&
        (ks.includes('Namespace') || ks.includes('*'))
      );
    });
  if (!coversNamespaces) return { enforcements, issues };
  const { blocks, action } = gatekeeperBlocks(spec);
  const params = objectAt(spec, 'parameters');
  (arrayAt(params, 'labels') ?? []).forEach((l, i) => {
    if (!isObject(l) || typeof l.key !== 'string') {
      issues.push({ field: `spec.parameters.labels[${i}]`, message: 'each label needs a string key' });
      return;
    }
    const regex = typeof l.allowedRegex === 'string' && l.allowedRegex !== '' ? l.allowedRegex : undefined;
    if (regex !== undefined && !safeRegExp(regex)) {
      issues.push({
        field: `spec.parameters.labels[${i}].allowedRegex`,
        message: `invalid regular expression ${JSON.stringify(regex)}`,
      });
    }
    enforcements.push({
      mechanism: 'gatekeeper',
      ref: refOf(obj),
      source: obj.source,
      key: l.key,
      check: regex !== undefined ? { kind: 'pattern', pattern: regex } : { kind: 'present' },
      blocks,
      action,
      onCreate: true,
      onUpdate: true,
      excludedNamespaces: strings(match.excludedNamespaces),
    });
  });
  return { enforcements, issues };
}

// ---------------------------------------------------------------- shared

function safeRegExp(source: string): RegExp | undefined {
  try {
    return new RegExp(source, 'u');
  } catch {
    return undefined;
  }
}
