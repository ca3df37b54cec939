/**
 * The generated YAML is stable: compared byte for byte with the files under test/fixtures/golden/.
 * After an intended change, regenerate them with `UPDATE_GOLDEN=1 npx vitest run test/policy/golden.test.ts`
 * and review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lambda/config.js';
import {
  generateGatekeeperPolicies,
  generateKyvernoPolicies,
  type PolicyInput,
  type PolicyOptions,
} from '../../lambda/policy/index.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { FULL_INPUT } from './inputs.js';

const CASES: readonly [
  file: string,
  generate: (input: PolicyInput, options: PolicyOptions) => string,
  input: PolicyInput,
  options: PolicyOptions,
][] = [
  ['kyverno-default.golden.yaml', generateKyvernoPolicies, DEFAULT_CONFIG, {}],
  ['kyverno-default-audit.golden.yaml', generateKyvernoPolicies, DEFAULT_CONFIG, { mode: 'audit' }],
  ['kyverno-full.golden.yaml', generateKyvernoPolicies, FULL_INPUT, { mode: 'enforce' }],
  ['gatekeeper-default.golden.yaml', generateGatekeeperPolicies, DEFAULT_CONFIG, {}],
  ['gatekeeper-default-audit.golden.yaml', generateGatekeeperPolicies, DEFAULT_CONFIG, { mode: 'audit' }],
  ['gatekeeper-full.golden.yaml', generateGatekeeperPolicies, FULL_INPUT, { mode: 'enforce' }],
];

describe('golden files', () => {
  for (const [file, generate, input, options] of CASES) {
    it(`${file} is byte for byte what the generator prints`, () => {
      const path = `${FIXTURES}golden/${file}`;
      const text = generate(input, options);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, text);
      expect(existsSync(path)).toBe(true);
      expect(Buffer.from(text, 'utf8').equals(readFileSync(path))).toBe(true);
    });
  }

  it('generating twice gives the same text (no time, no randomness)', () => {
    expect(generateKyvernoPolicies(FULL_INPUT)).toBe(generateKyvernoPolicies(FULL_INPUT));
    expect(generateGatekeeperPolicies(FULL_INPUT)).toBe(generateGatekeeperPolicies(FULL_INPUT));
  });
});
