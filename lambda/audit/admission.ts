/**
 * Admission policies that require namespace labels: Kyverno ClusterPolicy validate rules on
 * Namespace objects (`pattern`, `anyPattern`, `deny.conditions`), Gatekeeper K8sRequiredLabels
 * constraints and the LabelguardNamespaceLabels constraints `labelguard policy gatekeeper`
 * generates. The audit learns which label keys are enforced at admission (blocked when violated),
 * which are only audited, and what each policy requires of the value (selector-semantics §7).
 */
import { apiGroup, refOf, type SelectorIssue } from './engines/types.js';
import { arrayAt, isObject, objectAt, specOf, type Json } from './engines/util.js';
import { globMatch } from './glob.js';
import type { PolicyRef, ResourceObject, SourceRef } from './model.js';
import { NAME_TEMPLATE } from './settings.js';

export type LabelCheck =
  | { readonly kind: 'present' }
  | { readonly kind: 'non-empty' }
  | { readonly kind: 'equals-name' }
  | { readonly kind: 'equals'; readonly value: string }
  /** A Kyverno wildcard pattern (`*`, `?`, `|`, `!`), or a Gatekeeper K8sRequiredLabels `allowedRegex` (RE2, unanchored). */
  | { readonly kind: 'pattern'; readonly pattern: string }
  /** One of these values; `{{name}}` in a value stands for the namespace's own name. */
  | { readonly kind: 'one-of'; readonly values: readonly string[] }
  /** A Go RE2 regular expression the value must match (a search: anchors are written into it). */
  | { readonly kind: 'regex'; readonly regex: string }
  /** An UPDATE may not remove or change the label once it was set (correctly). Says nothing about CREATE. */
  | { readonly kind: 'unchanged' };

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
  /**
   * Set when the rule applies only to some Namespaces or requests (preconditions, a name, label or
   * user selector in its match): why it may let a Namespace without the label through.
   */
  readonly conditional?: string;
}

export interface AdmissionAnalysis {
  readonly enforcements: readonly LabelEnforcement[];
  readonly issues: readonly SelectorIssue[];
}

/** The constraint kind of the ConstraintTemplate `labelguard policy gatekeeper` generates. */
export const LABELGUARD_CONSTRAINT_KIND = 'LabelguardNamespaceLabels';

const GATEKEEPER_CONSTRAINT_KINDS: readonly string[] = ['K8sRequiredLabels', LABELGUARD_CONSTRAINT_KIND];

export function isAdmissionObject(obj: ResourceObject): boolean {
  const group = apiGroup(obj.apiVersion);
  return (
    (group === 'kyverno.io' && (obj.kind === 'ClusterPolicy' || obj.kind === 'Policy')) ||
    (group === 'constraints.gatekeeper.sh' && GATEKEEPER_CONSTRAINT_KINDS.includes(obj.kind))
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

/**
 * Kyverno's pattern check of one scalar field: a missing field fails; a value equal to the whole
 * pattern passes; otherwise `|` separates alternatives, `&` conjuncts, `!` negates, and `*`/`?` are
 * wildcards. (Kyverno also compares numbers, quantities and durations numerically; not modelled.)
 */
export function kyvernoPatternPasses(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === pattern) return true;
  return pattern.split('|').some((alt) =>
    alt.split('&').every((part) => {
      const p = part.trim();
      if (p.startsWith('!')) return !globMatch(p.slice(1).trim(), value);
      return globMatch(p, value);
    }),
  );
}

const NAME_VARIABLE = /^\{\{\s*request\.object\.metadata\.name\s*\}\}$/;
const NAME_VARIABLE_ANYWHERE = /\{\{\s*request\.object\.metadata\.name\s*\}\}/g;
/** Kyverno's numeric range operator (`operator.InRangeRegex`): such a pattern compares numbers. */
const KYVERNO_RANGE = /^[-|+]?\d+(?:\.\d+)?[A-Za-z]*!?-[-|+]?\d+(?:\.\d+)?[A-Za-z]*$/;

/** A value with Kyverno's `{{ request.object.metadata.name }}` written as `{{name}}`; undefined for any other variable. */
function normalizeNameVariable(value: string): string | undefined {
  const filled = value.replace(NAME_VARIABLE_ANYWHERE, NAME_TEMPLATE);
  return filled.split(NAME_TEMPLATE).join('').includes('{{') ? undefined : filled;
}

/** A Kyverno pattern that compares as the literal string it is (no wildcard, operator or range). */
function literalPattern(p: string): boolean {
  return !/[*?|!&<>]/.test(p) && !KYVERNO_RANGE.test(p);
}

function valuesCheck(values: readonly string[]): LabelCheck {
  const unique = [...new Set(values)];
  if (unique.length === 1) {
    const [only = ''] = unique;
    return only === NAME_TEMPLATE ? { kind: 'equals-name' } : { kind: 'equals', value: only };
  }
  return { kind: 'one-of', values: unique };
}

function kyvernoCheck(pattern: unknown): LabelCheck | undefined {
  if (typeof pattern !== 'string') return undefined;
  if (pattern === '*') return { kind: 'present' };
  if (pattern === '?*') return { kind: 'non-empty' };
  if (NAME_VARIABLE.test(pattern.trim())) return { kind: 'equals-name' };
  // Literal alternatives (`a | b`, `team-{{ request.object.metadata.name }}`) form a value set.
  const values = pattern.split('|').map((alt) => {
    const v = normalizeNameVariable(alt.trim());
    return v !== undefined && literalPattern(v.split(NAME_TEMPLATE).join('x')) ? v : undefined;
  });
  if (values.every((v): v is string => v !== undefined)) return valuesCheck(values);
  if (/[*?|!&<>]/.test(pattern)) return { kind: 'pattern', pattern };
  return { kind: 'equals', value: pattern };
}

/** The checks of `anyPattern` alternatives combined: a value passes when it passes any of them. */
function anyOfChecks(checks: readonly LabelCheck[]): LabelCheck {
  const first = checks[0] ?? { kind: 'present' };
  if (checks.length === 1) return first;
  const values: string[] = [];
  for (const c of checks) {
    if (c.kind === 'equals') values.push(c.value);
    else if (c.kind === 'equals-name') values.push(NAME_TEMPLATE);
    else if (c.kind === 'one-of') values.push(...c.values);
    else break;
  }
  if (checks.every((c) => c.kind === 'equals' || c.kind === 'equals-name' || c.kind === 'one-of'))
    return valuesCheck(values);
  if (checks.some((c) => c.kind === 'present')) return { kind: 'present' };
  if (
    checks.every(
      (c) => c.kind === 'non-empty' || c.kind === 'equals' || c.kind === 'one-of' || c.kind === 'equals-name',
    )
  )
    return { kind: 'non-empty' };
  return { kind: 'pattern', pattern: checks.map(describeForPattern).join(' | ') };
}

function describeForPattern(c: LabelCheck): string {
  switch (c.kind) {
    case 'present':
      return '*';
    case 'non-empty':
      return '?*';
    case 'equals-name':
      return NAME_TEMPLATE;
    case 'equals':
      return c.value;
    case 'pattern':
      return c.pattern;
    case 'one-of':
      return c.values.join(' | ');
    case 'regex':
      return `/${c.regex}/`;
    case 'unchanged':
      return '(unchanged)';
  }
}

function matchesNamespaceKind(resources: unknown): boolean {
  return strings(objectAt({ r: resources }, 'r')?.kinds).some(
    (k) => k === 'Namespace' || k === '*' || k === 'v1/Namespace' || k.endsWith('/v1/Namespace'),
  );
}

/** What in one match block narrows it to some Namespaces or some users. */
function blockRestrictions(block: unknown): string[] {
  const resources = objectAt(block, 'resources') ?? {};
  const out: string[] = [];
  for (const field of ['name', 'names', 'namespaces', 'selector', 'namespaceSelector', 'annotations']) {
    if (resources[field] !== undefined && resources[field] !== null) out.push(`resources.${field}`);
  }
  for (const field of ['subjects', 'roles', 'clusterRoles']) {
    if (isObject(block) && block[field] !== undefined && block[field] !== null) out.push(field);
  }
  return out;
}

const OPERATION_KEY = /^\{\{\s*request\.operation\s*\}\}$/;
const ALL_OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

interface Preconditions {
  /** Operations the preconditions let through, when they only test `{{ request.operation }}`. */
  readonly operations: readonly string[];
  /** Other preconditions: the rule only applies when they hold. */
  readonly other: number;
}

function conditionList(conditions: unknown): { any: readonly unknown[]; all: readonly unknown[] } {
  if (Array.isArray(conditions)) return { any: [], all: conditions as unknown[] };
  return { any: arrayAt(conditions, 'any') ?? [], all: arrayAt(conditions, 'all') ?? [] };
}

function readPreconditions(preconditions: unknown): Preconditions {
  const { any, all } = conditionList(preconditions);
  let operations = ALL_OPERATIONS;
  let other = 0;
  const operationsOf = (c: unknown): string[] | undefined => {
    if (!isObject(c) || typeof c.key !== 'string' || !OPERATION_KEY.test(c.key) || typeof c.operator !== 'string')
      return undefined;
    const values = typeof c.value === 'string' ? [c.value] : strings(c.value);
    switch (c.operator.toLowerCase()) {
      case 'equals':
      case 'in':
      case 'anyin':
      case 'allin':
        return ALL_OPERATIONS.filter((o) => values.includes(o));
      case 'notequals':
      case 'notin':
      case 'anynotin':
      case 'allnotin':
        return ALL_OPERATIONS.filter((o) => !values.includes(o));
      default:
        return undefined;
    }
  };
  for (const c of all) {
    const ops = operationsOf(c);
    if (ops === undefined) other++;
    else operations = operations.filter((o) => ops.includes(o));
  }
  if (any.length > 0) {
    const each = any.map(operationsOf);
    if (each.every((ops): ops is string[] => ops !== undefined)) {
      operations = operations.filter((o) => each.some((ops) => ops.includes(o)));
    } else other++;
  }
  return { operations, other };
}

// ---- deny.conditions

const LABEL_PATH = /^request\.(object|oldObject)\.metadata\.labels\.(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*))$/;
const DEFAULT_EMPTY = String.raw`(?:\s*\|\|\s*(?:''|""|` + '`""`' + String.raw`))?`;
const LABEL_REF = new RegExp(String.raw`^\{\{\s*(request\.[^|{}]*?)\s*${DEFAULT_EMPTY}\s*\}\}$`);
const KEYS_REF = new RegExp(
  String.raw`^\{\{\s*(?:keys\(\s*request\.(object|oldObject)\.metadata\.labels\s*(?:\|\|\s*` +
    '`\\{\\}`' +
    String.raw`\s*)?\)|request\.(object|oldObject)\.metadata\.labels\s*\|\s*keys\(@\))\s*\}\}$`,
);
const REGEX_MATCH = new RegExp(
  String.raw`^\{\{\s*regex_match\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*(request\.[^|{}]*?)\s*${DEFAULT_EMPTY}\s*\)\s*\}\}$`,
);

interface LabelRef {
  readonly which: 'object' | 'oldObject';
  readonly key: string;
}

function labelPath(path: string): LabelRef | undefined {
  const m = LABEL_PATH.exec(path.trim());
  if (!m) return undefined;
  const key = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  return { which: m[1] === 'oldObject' ? 'oldObject' : 'object', key };
}

function labelRef(v: unknown): LabelRef | undefined {
  if (typeof v !== 'string') return undefined;
  const m = LABEL_REF.exec(v);
  return m?.[1] === undefined ? undefined : labelPath(m[1]);
}

function keysOf(v: unknown): 'object' | 'oldObject' | undefined {
  if (typeof v !== 'string') return undefined;
  const m = KEYS_REF.exec(v);
  if (!m) return undefined;
  return (m[1] ?? m[2]) === 'oldObject' ? 'oldObject' : 'object';
}

function regexTest(v: unknown): { regex: string; ref: LabelRef } | undefined {
  if (typeof v !== 'string') return undefined;
  const m = REGEX_MATCH.exec(v);
  const ref = m?.[2] === undefined ? undefined : labelPath(m[2]);
  if (m?.[1] === undefined || ref === undefined) return undefined;
  return { regex: m[1].replace(/\\'/g, "'"), ref };
}

const isTrue = (v: unknown): boolean => v === true || v === 'true';
const isFalse = (v: unknown): boolean => v === false || v === 'false';

/** What one deny condition denies, about one label of the new object; undefined when it is not recognised. */
type Denial =
  | { readonly key: string; readonly when: 'missing' | 'empty' | 'changed' }
  | { readonly key: string; readonly when: 'not-in'; readonly values: readonly string[] }
  | { readonly key: string; readonly when: 'regex-fails'; readonly regex: string };

function denialOf(c: unknown): Denial | undefined {
  if (!isObject(c) || typeof c.operator !== 'string') return undefined;
  const op = c.operator.toLowerCase();
  const { key, value } = c;
  const ref = labelRef(key);
  const onObject = ref?.which === 'object' ? ref : undefined;
  if (op === 'anynotin' || op === 'allnotin' || op === 'notin') {
    if (typeof key === 'string' && !key.includes('{{') && keysOf(value) === 'object') return { key, when: 'missing' };
    if (onObject && Array.isArray(value)) {
      const values = value.map((v) => (typeof v === 'string' ? normalizeNameVariable(v) : undefined));
      if (values.every((v): v is string => v !== undefined)) return { key: onObject.key, when: 'not-in', values };
    }
    return undefined;
  }
  if (op === 'notequals') {
    const other = labelRef(value);
    if (ref && other && ref.key === other.key && ref.which !== other.which) return { key: ref.key, when: 'changed' };
    if (onObject && typeof value === 'string') {
      const v = normalizeNameVariable(value);
      return v === undefined ? undefined : { key: onObject.key, when: 'not-in', values: [v] };
    }
    const test = regexTest(key);
    if (test?.ref.which === 'object' && isTrue(value))
      return { key: test.ref.key, when: 'regex-fails', regex: test.regex };
    return undefined;
  }
  if (op === 'equals') {
    if (onObject && (value === '' || value === null)) return { key: onObject.key, when: 'empty' };
    const test = regexTest(key);
    if (test?.ref.which === 'object' && isFalse(value))
      return { key: test.ref.key, when: 'regex-fails', regex: test.regex };
  }
  return undefined;
}

/** The label checks a `deny.conditions` block implies: each recognised `any` condition denies on its own. */
function denyChecks(conditions: unknown): Map<string, LabelCheck> {
  const { any, all } = conditionList(conditions);
  let independent: readonly unknown[] = [];
  if (all.length === 0) independent = any;
  else if (any.length === 0 && all.length === 1) independent = all;
  const byKey = new Map<string, Denial[]>();
  for (const c of independent) {
    const d = denialOf(c);
    if (d) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  }
  const out = new Map<string, LabelCheck>();
  for (const [key, denials] of byKey) {
    const value = denials.find((d) => d.when === 'not-in' || d.when === 'regex-fails');
    if (denials.some((d) => d.when === 'changed')) out.set(key, { kind: 'unchanged' });
    else if (value?.when === 'not-in') out.set(key, valuesCheck(value.values));
    else if (value?.when === 'regex-fails') out.set(key, { kind: 'regex', regex: value.regex });
    else if (denials.some((d) => d.when === 'missing')) out.set(key, { kind: 'present' });
    else out.set(key, { kind: 'non-empty' });
  }
  return out;
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
    const anyBlocks = [match, ...(arrayAt(match, 'any') ?? [])];
    const allBlocks = arrayAt(match, 'all') ?? [];
    const matching = [...anyBlocks, ...allBlocks].filter((b) => matchesNamespaceKind(objectAt(b, 'resources')));
    if (matching.length === 0) return;
    const operations = matching.flatMap((b) => strings(objectAt(b, 'resources')?.operations));
    const pre = readPreconditions(rule.preconditions);
    const onCreate = (operations.length === 0 || operations.includes('CREATE')) && pre.operations.includes('CREATE');
    const onUpdate = (operations.length === 0 || operations.includes('UPDATE')) && pre.operations.includes('UPDATE');
    const exclude = objectAt(rule, 'exclude') ?? {};
    const excludedNamespaces = [exclude, ...(arrayAt(exclude, 'any') ?? [])].flatMap((b) =>
      strings(objectAt(b, 'resources')?.names),
    );
    const matchingAny = anyBlocks.filter((b) => matchesNamespaceKind(objectAt(b, 'resources')));
    const restrictions = [
      ...(matchingAny.length > 0 && matchingAny.every((b) => blockRestrictions(b).length > 0)
        ? matchingAny.flatMap(blockRestrictions)
        : []),
      ...allBlocks.flatMap(blockRestrictions),
    ];
    const conditional = [
      ...(restrictions.length > 0 ? [`match limited by ${[...new Set(restrictions)].join(', ')}`] : []),
      ...(pre.other > 0 ? ['preconditions'] : []),
    ].join('; ');

    const validate = objectAt(rule, 'validate');
    const checks = new Map<string, LabelCheck>();
    const alternatives: Json[] = [];
    const pattern = objectAt(validate, 'pattern');
    if (pattern) alternatives.push(pattern);
    const anyPattern = arrayAt(validate, 'anyPattern') ?? [];
    anyPattern.forEach((p) => isObject(p) && alternatives.push(p));
    const labelMaps = alternatives.map((p) => objectAt(objectAt(p, 'metadata'), 'labels') ?? {});
    if (labelMaps.length > 0) {
      // With anyPattern a key is required only when every alternative requires it.
      const keys = Object.keys(labelMaps[0] ?? {}).filter((k) => labelMaps.every((m) => m[k] !== undefined));
      for (const key of keys) {
        const each = labelMaps.map((m) => kyvernoCheck(m[key]));
        if (each.some((c) => c === undefined)) {
          const field = pattern ? 'pattern' : 'anyPattern';
          issues.push({
            field: `spec.rules[${r}].validate.${field}.metadata.labels.${key}`,
            message: 'pattern must be a string',
          });
          continue;
        }
        checks.set(key, anyOfChecks(each as LabelCheck[]));
      }
    }
    const deny = objectAt(validate, 'deny');
    if (deny) for (const [key, check] of denyChecks(deny.conditions)) if (!checks.has(key)) checks.set(key, check);
    if (checks.size === 0) return;

    const action = kyvernoEffectiveAction(spec, rule, '');
    for (const [key, check] of checks) {
      // A rule that keeps a label unchanged is conditional by nature (on the old value): not a limit.
      const limit = check.kind === 'unchanged' ? '' : conditional;
      enforcements.push({
        mechanism: 'kyverno',
        ref: refOf(obj),
        source: obj.source,
        key,
        check,
        blocks: admission && kyvernoBlocks(action),
        action: admission ? action : `${action} (admission: false)`,
        onCreate: check.kind === 'unchanged' ? false : onCreate,
        onUpdate,
        excludedNamespaces,
        ...(limit === '' ? {} : { conditional: limit }),
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

/** What a LabelguardNamespaceLabels label parameter requires: `{key, value?, allowed?, pattern?}`. */
function labelguardCheck(l: Json): LabelCheck {
  if (typeof l.value === 'string')
    return l.value === NAME_TEMPLATE ? { kind: 'equals-name' } : { kind: 'equals', value: l.value };
  const allowed = strings(l.allowed);
  if (allowed.length > 0) return valuesCheck(allowed);
  if (typeof l.pattern === 'string') return { kind: 'regex', regex: `^(?:${l.pattern})$` };
  return { kind: 'present' };
}

function analyzeGatekeeper(obj: ResourceObject): AdmissionAnalysis {
  const issues: SelectorIssue[] = [];
  const enforcements: LabelEnforcement[] = [];
  const spec = specOf(obj);
  if (!spec) return { enforcements, issues: [{ field: 'spec', message: 'a constraint needs a spec' }] };
  const match = objectAt(spec, 'match') ?? {};
  const kinds = arrayAt(match, 'kinds') ?? [];
  const coversNamespaces =
    match.scope !== 'Namespaced' &&
    (kinds.length === 0 ||
      kinds.some((k) => {
        if (!isObject(k)) return false;
        const groups = strings(k.apiGroups);
        const ks = strings(k.kinds);
        return (
          (groups.length === 0 || groups.includes('') || groups.includes('*')) &&
          (ks.includes('Namespace') || ks.includes('*'))
        );
      }));
  if (!coversNamespaces) return { enforcements, issues };
  const { blocks, action } = gatekeeperBlocks(spec);
  const params = objectAt(spec, 'parameters');
  const ours = obj.kind === LABELGUARD_CONSTRAINT_KIND;
  const excludedNamespaces = [
    ...strings(match.excludedNamespaces),
    ...(ours ? strings(params?.excludedNamespaces) : []),
  ];
  const restrictions = ['namespaces', 'namespaceSelector', 'labelSelector', 'name'].filter(
    (f) => match[f] !== undefined && match[f] !== null,
  );
  const conditional = restrictions.length > 0 ? { conditional: `match limited by ${restrictions.join(', ')}` } : {};
  (arrayAt(params, 'labels') ?? []).forEach((l, i) => {
    if (!isObject(l) || typeof l.key !== 'string') {
      issues.push({ field: `spec.parameters.labels[${i}]`, message: 'each label needs a string key' });
      return;
    }
    const base = { mechanism: 'gatekeeper' as const, ref: refOf(obj), source: obj.source, key: l.key, blocks, action };
    if (ours) {
      if (typeof l.pattern === 'string' && !safeRegExp(`^(?:${l.pattern})$`)) {
        issues.push({
          field: `spec.parameters.labels[${i}].pattern`,
          message: `invalid regular expression ${JSON.stringify(l.pattern)}`,
        });
      }
      enforcements.push({
        ...base,
        check: labelguardCheck(l),
        onCreate: true,
        onUpdate: true,
        excludedNamespaces,
        ...conditional,
      });
      // The template's third violation: an UPDATE may not remove or change a label that was set correctly.
      enforcements.push({ ...base, check: { kind: 'unchanged' }, onCreate: false, onUpdate: true, excludedNamespaces });
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
      ...base,
      check: regex !== undefined ? { kind: 'pattern', pattern: regex } : { kind: 'present' },
      onCreate: true,
      onUpdate: true,
      excludedNamespaces,
      ...conditional,
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
