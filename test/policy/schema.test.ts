/** The generated YAML validates against the published CRD schemas (the subsets in test/fixtures/crd-schemas/). */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lambda/config.js';
import { generateGatekeeperPolicies, generateKyvernoPolicies } from '../../lambda/policy/index.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { validateAgainstSchema, type Schema } from '../helpers/schema-validate.js';
import { FULL_INPUT } from './inputs.js';

const schema = (name: string): Schema =>
  JSON.parse(readFileSync(`${FIXTURES}crd-schemas/${name}.json`, 'utf8')) as Schema;
const CLUSTER_POLICY = schema('kyverno-clusterpolicy');
const CONSTRAINT_TEMPLATE = schema('gatekeeper-constrainttemplate');
const CONSTRAINT = schema('gatekeeper-constraint');

/** Every document of a YAML stream, read as YAML 1.1 like kubectl does. */
function documents(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text, { version: '1.1' }).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, unknown>;
  });
}

/** The constraint CRD Gatekeeper creates: the common schema with the template's parameters schema. */
function constraintSchemaOf(template: Record<string, unknown>): Schema {
  const t = template as { spec: { crd: { spec: { validation: { openAPIV3Schema: Schema } } } } };
  const spec = CONSTRAINT.properties?.spec ?? {};
  return {
    ...CONSTRAINT,
    properties: {
      ...CONSTRAINT.properties,
      spec: { ...spec, properties: { ...spec.properties, parameters: t.spec.crd.spec.validation.openAPIV3Schema } },
    },
  };
}

describe.each([
  ['the default config', DEFAULT_CONFIG],
  ['every kind of value rule', FULL_INPUT],
])('%s', (_, input) => {
  for (const mode of ['enforce', 'audit'] as const) {
    it(`Kyverno ClusterPolicies (${mode}) validate against the clusterpolicies.kyverno.io v1 schema`, () => {
      const docs = documents(generateKyvernoPolicies(input, { mode }));
      expect(docs).toHaveLength(input.requiredLabels.length);
      for (const doc of docs) expect(validateAgainstSchema(doc, CLUSTER_POLICY)).toEqual([]);
    });

    it(`the Gatekeeper ConstraintTemplate and constraint (${mode}) validate against their schemas`, () => {
      const [template, constraint, ...rest] = documents(generateGatekeeperPolicies(input, { mode }));
      expect(rest).toEqual([]);
      expect(validateAgainstSchema(template, CONSTRAINT_TEMPLATE)).toEqual([]);
      expect(validateAgainstSchema(constraint, constraintSchemaOf(template!))).toEqual([]);
    });
  }
});

describe('the schemas catch what they should (so a pass means something)', () => {
  const [policy] = documents(generateKyvernoPolicies(DEFAULT_CONFIG));
  const withRule = (patch: (rule: Record<string, unknown>) => void): unknown => {
    const copy = structuredClone(policy) as { spec: { rules: Record<string, unknown>[] } };
    patch(copy.spec.rules[0]!);
    return copy;
  };

  it('a misspelt field, a wrong enum value, a missing required field, an over-long rule name', () => {
    expect(
      validateAgainstSchema(
        withRule((r) => {
          (r.validate as Record<string, unknown>).failureActon = 'Enforce';
        }),
        CLUSTER_POLICY,
      ),
    ).toEqual([{ path: 'spec.rules[0].validate.failureActon', message: 'unknown field' }]);
    expect(
      validateAgainstSchema(
        withRule((r) => {
          (r.validate as Record<string, unknown>).failureAction = 'Deny';
        }),
        CLUSTER_POLICY,
      ),
    ).toEqual([
      { path: 'spec.rules[0].validate.failureAction', message: 'expected one of "Audit", "Enforce", found "Deny"' },
    ]);
    expect(
      validateAgainstSchema(
        withRule((r) => {
          delete r.match;
          r.name = 'x'.repeat(64);
        }),
        CLUSTER_POLICY,
      ),
    ).toEqual([
      { path: 'spec.rules[0].match', message: 'required' },
      { path: 'spec.rules[0].name', message: 'longer than 63 characters' },
    ]);
  });

  it('an operation Kyverno does not know, a Gatekeeper wildcard it cannot read', () => {
    expect(
      validateAgainstSchema(
        withRule((r) => {
          (r.match as { any: { resources: { operations: string[] } }[] }).any[0]!.resources.operations = ['PATCH'];
        }),
        CLUSTER_POLICY,
      ),
    ).toEqual([
      {
        path: 'spec.rules[0].match.any[0].resources.operations[0]',
        message: 'expected one of "CREATE", "CONNECT", "UPDATE", "DELETE", found "PATCH"',
      },
    ]);
    const [template, constraint] = documents(generateGatekeeperPolicies(DEFAULT_CONFIG));
    const bad = structuredClone(constraint) as { spec: { match: { excludedNamespaces: string[] } } };
    bad.spec.match.excludedNamespaces = ['sandbox-?'];
    expect(validateAgainstSchema(bad, constraintSchemaOf(template!))).toEqual([
      { path: 'spec.match.excludedNamespaces[0]', message: 'does not match ^\\*?[-:a-z0-9]*\\*?$' },
    ]);
  });

  it('parameters the template does not declare', () => {
    const [template, constraint] = documents(generateGatekeeperPolicies(DEFAULT_CONFIG));
    const bad = structuredClone(constraint) as { spec: { parameters: { labels: Record<string, unknown>[] } } };
    bad.spec.parameters.labels[0]!.allowedRegex = '^x$';
    expect(validateAgainstSchema(bad, constraintSchemaOf(template!))).toEqual([
      { path: 'spec.parameters.labels[0].allowedRegex', message: 'unknown field' },
    ]);
  });
});

describe('validateAgainstSchema', () => {
  const s: Schema = {
    type: 'object',
    required: ['a'],
    properties: {
      a: { type: 'integer' },
      m: { type: 'object', additionalProperties: { type: 'string' } },
      free: { 'x-kubernetes-preserve-unknown-fields': true },
      list: { type: 'array', items: { type: 'boolean' } },
    },
  };
  it('types, additionalProperties and preserved fields', () => {
    expect(validateAgainstSchema({ a: 1, m: { x: 'y' }, free: { any: [1, { b: null }] }, list: [true] }, s)).toEqual(
      [],
    );
    expect(validateAgainstSchema({ a: 1.5, m: { x: 2 }, list: [true, 'no'] }, s)).toEqual([
      { path: 'a', message: 'expected integer, found number' },
      { path: 'm.x', message: 'expected string, found number' },
      { path: 'list[1]', message: 'expected boolean, found string' },
    ]);
    expect(validateAgainstSchema([], s)).toEqual([{ path: '', message: 'expected object, found array' }]);
    expect(validateAgainstSchema({ 'odd key': 1 }, s)).toEqual([
      { path: 'a', message: 'required' },
      { path: '["odd key"]', message: 'unknown field' },
    ]);
  });
});
