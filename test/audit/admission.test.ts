import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  analyzeAdmission,
  gatekeeperViolates,
  isAdmissionObject,
  kyvernoBlocks,
  kyvernoEffectiveAction,
  kyvernoPatternPasses,
  LABELGUARD_CONSTRAINT_KIND,
  type LabelEnforcement,
} from '../../lambda/audit/admission.js';
import type { ResourceObject } from '../../lambda/audit/index.js';
import { GATEKEEPER_CONSTRAINT_KIND, gatekeeperPolicies, kyvernoPolicies } from '../../lambda/policy/index.js';
import { SHARED_VECTORS } from '../helpers/fixtures.js';

interface Vector {
  readonly id: string;
  readonly mechanism: string;
  readonly selector: Record<string, unknown>;
  readonly labels: Record<string, string>;
  readonly expect: { violation?: boolean; blocks_admission?: boolean; pattern_passes?: boolean };
  readonly note?: string;
}

const VECTORS = JSON.parse(readFileSync(`${SHARED_VECTORS}admission-kyverno-gatekeeper.json`, 'utf8')) as Vector[];

describe('upstream vectors (selector-semantics §7)', () => {
  it('covers every mechanism in the file', () => {
    const kinds = new Set(VECTORS.map((v) => Object.keys(v.expect)[0]));
    expect([...kinds].sort()).toEqual(['blocks_admission', 'pattern_passes', 'violation']);
  });

  for (const v of VECTORS) {
    const title = `${v.id}: ${v.mechanism}${v.note ? ` (${v.note})` : ''}`;
    if (v.expect.violation !== undefined) {
      it(`${title} -> gatekeeperViolates ${v.expect.violation}`, () => {
        expect(gatekeeperViolates(v.selector.parameters, v.labels)).toBe(v.expect.violation);
      });
    } else if (v.expect.blocks_admission !== undefined) {
      it(`${title} -> blocks ${v.expect.blocks_admission}`, () => {
        const action = kyvernoEffectiveAction(v.selector.spec, v.selector.rule, v.labels.resource_namespace ?? '');
        expect(kyvernoBlocks(action)).toBe(v.expect.blocks_admission);
      });
    } else {
      it(`${title} -> pattern passes ${String(v.expect.pattern_passes)}`, () => {
        for (const [key, pattern] of Object.entries(v.selector)) {
          expect(kyvernoPatternPasses(String(pattern), v.labels[key])).toBe(v.expect.pattern_passes);
        }
      });
    }
  }
});

describe('kyvernoPatternPasses beyond the vectors', () => {
  it.each([
    ['a | b', 'b', true],
    ['a | b', 'c', false],
    ['!prod', 'dev', true],
    ['!prod', 'prod', false],
    ['team-* & !team-x', 'team-a', true],
    ['team-* & !team-x', 'team-x', false],
    ['*', '', true],
    ['2024-01', '2024-01', true], // equal to the whole pattern: passes before any operator is read
  ])('%j against %j: %s', (pattern, value, passes) => {
    expect(kyvernoPatternPasses(pattern, value)).toBe(passes);
  });
  it('a missing field fails every pattern, even "*"', () => {
    expect(kyvernoPatternPasses('*', undefined)).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------

function object(yamlText: string): ResourceObject {
  const body = parse(yamlText) as Record<string, unknown> & { metadata: { name: string; namespace?: string } };
  return {
    apiVersion: String(body.apiVersion),
    kind: String(body.kind),
    name: body.metadata.name,
    namespace: body.metadata.namespace ?? null,
    body,
  };
}

const summary = (es: readonly LabelEnforcement[]) =>
  es.map((e) => ({
    key: e.key,
    check: e.check,
    blocks: e.blocks,
    onCreate: e.onCreate,
    onUpdate: e.onUpdate,
    ...(e.conditional ? { conditional: e.conditional } : {}),
  }));

function kyvernoRule(rule: string, spec = ''): ResourceObject {
  const indented = rule
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return object(`apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: p }
spec:
${spec}
  rules:
    - name: r
      match: { any: [{ resources: { kinds: [Namespace] } }] }
${indented}
`);
}

describe('Kyverno: hand-written rules that require namespace labels', () => {
  it('pattern with a literal, the name variable, "*" and "?*"', () => {
    const a = analyzeAdmission(
      kyvernoRule(`validate:
  failureAction: Enforce
  pattern:
    metadata:
      labels:
        istio-injection: enabled
        ns: "{{request.object.metadata.name}}"
        owner: "*"
        team: "?*"
        env: "team-{{ request.object.metadata.name }}"`),
    );
    expect(a.issues).toEqual([]);
    expect(a.enforcements.map((e) => [e.key, e.check])).toEqual([
      ['istio-injection', { kind: 'equals', value: 'enabled' }],
      ['ns', { kind: 'equals-name' }],
      ['owner', { kind: 'present' }],
      ['team', { kind: 'non-empty' }],
      ['env', { kind: 'equals', value: 'team-{{name}}' }],
    ]);
    expect(a.enforcements.every((e) => e.blocks && e.onCreate && e.onUpdate)).toBe(true);
  });

  it('a value set as `a | b`, and as anyPattern alternatives', () => {
    const bar = analyzeAdmission(
      kyvernoRule(`validate: { failureAction: Enforce, pattern: { metadata: { labels: { tier: "gold | silver" } } } }`),
    );
    expect(bar.enforcements[0]?.check).toEqual({ kind: 'one-of', values: ['gold', 'silver'] });
    const any = analyzeAdmission(
      kyvernoRule(`validate:
  failureAction: Enforce
  anyPattern:
    - metadata: { labels: { tier: gold } }
    - metadata: { labels: { tier: silver } }
    - metadata: { labels: { tier: "{{ request.object.metadata.name }}" } }`),
    );
    expect(any.enforcements.map((e) => e.check)).toEqual([{ kind: 'one-of', values: ['gold', 'silver', '{{name}}'] }]);
  });

  it('anyPattern: a key only some alternatives require is not required', () => {
    const a = analyzeAdmission(
      kyvernoRule(`validate:
  failureAction: Enforce
  anyPattern:
    - metadata: { labels: { tier: gold, owner: "?*" } }
    - metadata: { labels: { tier: silver } }`),
    );
    expect(a.enforcements.map((e) => e.key)).toEqual(['tier']);
  });

  it('wildcards and range-like alternatives stay a pattern', () => {
    const a = analyzeAdmission(
      kyvernoRule(`validate: { failureAction: Enforce, pattern: { metadata: { labels: { t: "team-* | 2024-01" } } } }`),
    );
    expect(a.enforcements[0]?.check).toEqual({ kind: 'pattern', pattern: 'team-* | 2024-01' });
  });

  it('deny.conditions: a missing key (keys() or an empty default), a value set, a regex', () => {
    const a = analyzeAdmission(
      kyvernoRule(`validate:
  failureAction: Enforce
  deny:
    conditions:
      any:
        - key: owner
          operator: AnyNotIn
          value: "{{ request.object.metadata.labels | keys(@) }}"
        - key: "{{ request.object.metadata.labels.team || '' }}"
          operator: Equals
          value: ""
        - key: "{{ request.object.metadata.labels.\\"app.kubernetes.io/part-of\\" || '' }}"
          operator: AnyNotIn
          value: [web, "{{ request.object.metadata.name }}"]
        - key: "{{ regex_match('^[a-z]{2}$', request.object.metadata.labels.region || '') }}"
          operator: Equals
          value: false
        - key: "{{ request.object.metadata.labels.env }}"
          operator: NotEquals
          value: prod`),
    );
    expect(a.enforcements.map((e) => [e.key, e.check])).toEqual([
      ['owner', { kind: 'present' }],
      ['team', { kind: 'non-empty' }],
      ['app.kubernetes.io/part-of', { kind: 'one-of', values: ['web', '{{name}}'] }],
      ['region', { kind: 'regex', regex: '^[a-z]{2}$' }],
      ['env', { kind: 'equals', value: 'prod' }],
    ]);
  });

  it('deny.conditions under `all` with several conditions deny only together: nothing is required', () => {
    const a = analyzeAdmission(
      kyvernoRule(`validate:
  failureAction: Enforce
  deny:
    conditions:
      all:
        - { key: owner, operator: AnyNotIn, value: "{{ keys(request.object.metadata.labels || \`{}\`) }}" }
        - { key: "{{ request.object.metadata.labels.team || '' }}", operator: Equals, value: "" }`),
    );
    expect(a.enforcements).toEqual([]);
  });

  it('a rule that denies changing a label on UPDATE is recognised as keeping it, not as requiring it', () => {
    const a = analyzeAdmission(
      object(`apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: keep }
spec:
  rules:
    - name: keep
      match: { any: [{ resources: { kinds: [Namespace], operations: [UPDATE] } }] }
      preconditions: { all: [{ key: ns, operator: AnyIn, value: "{{ keys(request.oldObject.metadata.labels || \`{}\`) }}" }] }
      validate:
        failureAction: Enforce
        deny:
          conditions:
            any:
              - { key: "{{ request.object.metadata.labels.ns || '' }}", operator: NotEquals, value: "{{ request.oldObject.metadata.labels.ns || '' }}" }`),
    );
    expect(summary(a.enforcements)).toEqual([
      { key: 'ns', check: { kind: 'unchanged' }, blocks: true, onCreate: false, onUpdate: true },
    ]);
  });

  it('preconditions other than on the operation, and match by name or selector, make a rule conditional', () => {
    const pre = analyzeAdmission(
      kyvernoRule(`preconditions:
  all: [{ key: "{{ request.object.metadata.labels.managed || '' }}", operator: Equals, value: "true" }]
validate: { failureAction: Enforce, pattern: { metadata: { labels: { ns: "?*" } } } }`),
    );
    expect(pre.enforcements[0]?.conditional).toBe('preconditions');
    const ops = analyzeAdmission(
      kyvernoRule(`preconditions:
  any: [{ key: "{{ request.operation }}", operator: Equals, value: CREATE }]
validate: { failureAction: Enforce, pattern: { metadata: { labels: { ns: "?*" } } } }`),
    );
    expect(summary(ops.enforcements)).toEqual([
      { key: 'ns', check: { kind: 'non-empty' }, blocks: true, onCreate: true, onUpdate: false },
    ]);
    const selected = analyzeAdmission(
      object(`apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: p }
spec:
  rules:
    - name: r
      match: { any: [{ resources: { kinds: [Namespace], selector: { matchLabels: { managed: "true" } } } }] }
      validate: { failureAction: Enforce, pattern: { metadata: { labels: { ns: "?*" } } } }`),
    );
    expect(selected.enforcements[0]?.conditional).toBe('match limited by resources.selector');
  });

  it('keeps the existing reading: spec-level action, admission: false, a namespaced Policy, a non-string pattern', () => {
    const audit = analyzeAdmission(
      kyvernoRule(
        `validate: { pattern: { metadata: { labels: { ns: "?*" } } } }`,
        '  validationFailureAction: Enforce',
      ),
    );
    expect(audit.enforcements[0]?.blocks).toBe(true);
    const off = analyzeAdmission(
      kyvernoRule(
        `validate: { failureAction: Enforce, pattern: { metadata: { labels: { ns: "?*" } } } }`,
        '  admission: false',
      ),
    );
    expect(off.enforcements[0]).toMatchObject({ blocks: false, action: 'Enforce (admission: false)' });
    const namespaced = object(`apiVersion: kyverno.io/v1
kind: Policy
metadata: { name: p, namespace: team-a }
spec: { rules: [{ name: r, match: { resources: { kinds: [Namespace] } }, validate: { pattern: { metadata: { labels: { ns: "?*" } } } } }] }`);
    expect(isAdmissionObject(namespaced)).toBe(true);
    expect(analyzeAdmission(namespaced).enforcements).toEqual([]);
    const bad = analyzeAdmission(
      kyvernoRule(`validate: { failureAction: Enforce, pattern: { metadata: { labels: { ns: 3 } } } }`),
    );
    expect(bad.issues).toEqual([
      { field: 'spec.rules[0].validate.pattern.metadata.labels.ns', message: 'pattern must be a string' },
    ]);
  });
});

describe('the generated policies read back', () => {
  const input = {
    requiredLabels: [
      { key: 'ns', value: '{{name}}' },
      { key: 'tier', allowed: ['gold', 'silver'] },
      { key: 'owner', pattern: '[a-z]+' },
      { key: 'cost-center' },
      { key: 'app.kubernetes.io/part-of', value: 'shop' },
    ],
    exclude: ['kube-*', 'sandbox-?'],
  };

  const resource = (obj: Record<string, unknown>): ResourceObject => {
    const metadata = obj.metadata as { name: string };
    return {
      apiVersion: String(obj.apiVersion),
      kind: String(obj.kind),
      name: metadata.name,
      namespace: null,
      body: obj,
    };
  };

  it('Kyverno: each policy requires its label on CREATE and UPDATE and keeps it on UPDATE', () => {
    const read = kyvernoPolicies(input).map((p) => analyzeAdmission(resource(p)));
    expect(read.flatMap((r) => r.issues)).toEqual([]);
    const es = read.flatMap((r) => r.enforcements);
    expect(summary(es.filter((e) => e.check.kind !== 'unchanged'))).toEqual([
      { key: 'ns', check: { kind: 'equals-name' }, blocks: true, onCreate: true, onUpdate: true },
      {
        key: 'tier',
        check: { kind: 'one-of', values: ['gold', 'silver'] },
        blocks: true,
        onCreate: true,
        onUpdate: true,
      },
      { key: 'owner', check: { kind: 'regex', regex: '^(?:[a-z]+)$' }, blocks: true, onCreate: true, onUpdate: true },
      { key: 'cost-center', check: { kind: 'present' }, blocks: true, onCreate: true, onUpdate: true },
      {
        key: 'app.kubernetes.io/part-of',
        check: { kind: 'equals', value: 'shop' },
        blocks: true,
        onCreate: true,
        onUpdate: true,
      },
    ]);
    expect(summary(es.filter((e) => e.check.kind === 'unchanged')).map((e) => [e.key, e.onCreate, e.onUpdate])).toEqual(
      input.requiredLabels.map((r) => [r.key, false, true]),
    );
    expect(es.every((e) => e.excludedNamespaces.join() === 'kube-*,sandbox-?')).toBe(true);
  });

  it('Kyverno audit mode: recognised, not blocking', () => {
    const es = kyvernoPolicies(input, { mode: 'audit' }).flatMap((p) => analyzeAdmission(resource(p)).enforcements);
    expect(es.length).toBe(10);
    expect(es.every((e) => !e.blocks && e.action === 'Audit')).toBe(true);
  });

  it('Gatekeeper: the constraint kind is the one the audit knows, and every label is read back', () => {
    expect(GATEKEEPER_CONSTRAINT_KIND).toBe(LABELGUARD_CONSTRAINT_KIND);
    const [template, constraint] = gatekeeperPolicies(input).map(resource);
    expect(isAdmissionObject(template!)).toBe(false);
    expect(isAdmissionObject(constraint!)).toBe(true);
    const a = analyzeAdmission(constraint!);
    expect(a.issues).toEqual([]);
    expect(summary(a.enforcements.filter((e) => e.check.kind !== 'unchanged')).map((e) => [e.key, e.check])).toEqual([
      ['ns', { kind: 'equals-name' }],
      ['tier', { kind: 'one-of', values: ['gold', 'silver'] }],
      ['owner', { kind: 'regex', regex: '^(?:[a-z]+)$' }],
      ['cost-center', { kind: 'present' }],
      ['app.kubernetes.io/part-of', { kind: 'equals', value: 'shop' }],
    ]);
    // kube-* is a Gatekeeper wildcard (match.excludedNamespaces); sandbox-? is checked in the Rego.
    expect(a.enforcements[0]?.excludedNamespaces).toEqual(['kube-*', 'sandbox-?']);
    expect(a.enforcements.every((e) => e.blocks && e.action === 'deny')).toBe(true);
    const dry = analyzeAdmission(gatekeeperPolicies(input, { mode: 'audit' }).map(resource)[1]!);
    expect(dry.enforcements.every((e) => !e.blocks && e.action === 'dryrun')).toBe(true);
  });
});

describe('Gatekeeper constraints', () => {
  it('K8sRequiredLabels keeps its reading: allowedRegex is a pattern, enforcementAction defaults to deny', () => {
    const a = analyzeAdmission(
      object(`apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata: { name: all-must-have-owner }
spec:
  match: { kinds: [{ apiGroups: [""], kinds: [Namespace] }], excludedNamespaces: [kube-system] }
  parameters: { labels: [{ key: owner, allowedRegex: "^[a-z]+$" }] }`),
    );
    expect(a.enforcements).toEqual([
      expect.objectContaining({
        key: 'owner',
        check: { kind: 'pattern', pattern: '^[a-z]+$' },
        blocks: true,
        action: 'deny',
        excludedNamespaces: ['kube-system'],
      }),
    ]);
  });

  it('a constraint limited by a namespace or label selector is conditional; scope Namespaced skips Namespaces', () => {
    const limited = analyzeAdmission(
      object(`apiVersion: constraints.gatekeeper.sh/v1beta1
kind: ${LABELGUARD_CONSTRAINT_KIND}
metadata: { name: c }
spec:
  match: { kinds: [{ apiGroups: [""], kinds: [Namespace] }], labelSelector: { matchLabels: { managed: "true" } } }
  parameters: { labels: [{ key: ns, value: "{{name}}" }] }`),
    );
    expect(limited.enforcements[0]?.conditional).toBe('match limited by labelSelector');
    const scoped = analyzeAdmission(
      object(`apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata: { name: c }
spec:
  match: { scope: Namespaced }
  parameters: { labels: [{ key: ns }] }`),
    );
    expect(scoped.enforcements).toEqual([]);
  });

  it('an invalid pattern parameter is an issue', () => {
    const a = analyzeAdmission(
      object(`apiVersion: constraints.gatekeeper.sh/v1beta1
kind: ${LABELGUARD_CONSTRAINT_KIND}
metadata: { name: c }
spec: { parameters: { labels: [{ key: ns, pattern: "(" }] } }`),
    );
    expect(a.issues).toEqual([
      { field: 'spec.parameters.labels[0].pattern', message: 'invalid regular expression "("' },
    ]);
  });
});
