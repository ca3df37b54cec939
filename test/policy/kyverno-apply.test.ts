/**
 * The generated Kyverno policies, run by the real Kyverno CLI (`kyverno apply`) against compliant
 * and non-compliant Namespace manifests, on CREATE and on UPDATE.
 *
 * The CLI is built from the Go module proxy by test/e2e/kyverno/build.sh into
 * ~/.cache/labelguard/kyverno/<version>/ (KYVERNO_BIN overrides the path). When it is absent these
 * tests are skipped, and say so; when it is present they must pass.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequiredLabel } from '../../lambda/audit/index.js';
import { generateKyvernoPolicies, type PolicyMode } from '../../lambda/policy/index.js';
import { ROOT } from '../helpers/cli.js';

const BUILD_SCRIPT = `${ROOT}test/e2e/kyverno/build.sh`;
const VERSION =
  process.env.KYVERNO_VERSION ?? /KYVERNO_VERSION:-(v[\d.]+)/.exec(readFileSync(BUILD_SCRIPT, 'utf8'))?.[1] ?? '';
const BIN =
  process.env.KYVERNO_BIN ??
  join(process.env.LABELGUARD_CACHE ?? join(homedir(), '.cache', 'labelguard'), 'kyverno', VERSION, 'kubectl-kyverno');
const PRESENT = existsSync(BIN);

if (!PRESENT) {
  console.warn(
    `kyverno apply tests skipped: no Kyverno CLI at ${BIN} (build it with \`bash test/e2e/kyverno/build.sh\`, or set KYVERNO_BIN)`,
  );
}

const REQUIRED: readonly RequiredLabel[] = [
  { key: 'ns', value: '{{name}}' },
  { key: 'tier', allowed: ['gold', 'silver', '2024-01'] },
  { key: 'owner', pattern: '[a-z][a-z0-9-]*' },
  { key: 'cost-center' },
  { key: 'app.kubernetes.io/part-of', value: 'shop-{{name}}' },
];
const EXCLUDE = ['kube-*', 'sandbox-?'];

function namespace(name: string, labels: Record<string, string> | null): string {
  return `---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n${labels ? `  labels: ${JSON.stringify(labels)}\n` : ''}`;
}

const good = (name: string, extra: Record<string, string> = {}) => ({
  ns: name,
  tier: 'gold',
  owner: 'alice',
  'cost-center': '',
  'app.kubernetes.io/part-of': `shop-${name}`,
  ...extra,
});

interface Result {
  readonly policy: string;
  readonly rule: string;
  readonly result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  readonly resources: readonly { readonly name: string }[];
  readonly message?: string;
}

/** Runs `kyverno apply` with a policy report; returns `namespace policy/rule` → result. */
function apply(
  mode: PolicyMode,
  namespaces: string,
  values?: string,
  extra: readonly string[] = [],
): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'labelguard-kyverno-'));
  writeFileSync(
    join(dir, 'policies.yaml'),
    generateKyvernoPolicies({ requiredLabels: REQUIRED, exclude: EXCLUDE }, { mode }),
  );
  writeFileSync(join(dir, 'namespaces.yaml'), namespaces);
  const args = ['apply', join(dir, 'policies.yaml'), '--resource', join(dir, 'namespaces.yaml'), '--remove-color'];
  if (values !== undefined) {
    writeFileSync(join(dir, 'values.yaml'), values);
    args.push('--values-file', join(dir, 'values.yaml'));
  }
  args.push('--policy-report', '--output-format', 'json', ...extra);
  const run = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });
  expect(run.error).toBeUndefined();
  // The report is the one JSON line; deprecation warnings and the summary surround it.
  const json = run.stdout.split('\n').find((l) => l.startsWith('{'));
  if (json === undefined)
    throw new Error(`kyverno apply printed no report (exit ${String(run.status)}):\n${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(json) as { results?: Result[] };
  const out = new Map<string, string>();
  for (const r of report.results ?? [])
    for (const res of r.resources) out.set(`${res.name} ${r.policy}/${r.rule}`, r.result);
  return out;
}

const POLICIES = {
  ns: 'labelguard-require-ns',
  tier: 'labelguard-require-tier',
  owner: 'labelguard-require-owner',
  cost: 'labelguard-require-cost-center',
};

/** Results of one namespace, policy by policy, for the require or keep rule. */
function resultsOf(
  results: Map<string, string>,
  ns: string,
  rule: 'require-label' | 'keep-label',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of results) {
    const [name, policyRule] = k.split(' ');
    if (name === ns && policyRule?.endsWith(`/${rule}`)) out[policyRule.slice(0, -rule.length - 1)] = v;
  }
  return out;
}

describe.skipIf(!PRESENT)(`kyverno apply (Kyverno CLI ${VERSION})`, () => {
  it('CREATE: compliant namespaces pass every policy; each non-compliant one fails the policy of its label', () => {
    const results = apply(
      'enforce',
      [
        namespace('team-a', good('team-a')),
        namespace('team-b', good('team-b', { tier: '2024-01', owner: 'bob-2', 'cost-center': 'cc-7' })),
        namespace('wrong-ns', good('wrong-ns', { ns: 'team-a' })),
        namespace('wrong-tier', good('wrong-tier', { tier: 'bronze' })),
        namespace('wrong-owner', good('wrong-owner', { owner: 'Alice' })),
        namespace('no-cost', Object.fromEntries(Object.entries(good('no-cost')).filter(([k]) => k !== 'cost-center'))),
        namespace('wrong-part', good('wrong-part', { 'app.kubernetes.io/part-of': 'shop-team-a' })),
        namespace('bare', null),
        namespace('kube-system', null),
        namespace('sandbox-1', null),
      ].join(''),
    );
    const partOf = [...results.keys()].map((k) => k.split(' ')[1]!.split('/')[0]!).find((p) => p.includes('part-of'))!;
    expect(partOf).toMatch(/^labelguard-require-app-kubernetes-io-part-of-[0-9a-f]{8}$/);
    const all = (result: string) => Object.fromEntries([...Object.values(POLICIES), partOf].map((p) => [p, result]));
    expect(resultsOf(results, 'team-a', 'require-label')).toEqual(all('pass'));
    expect(resultsOf(results, 'team-b', 'require-label')).toEqual(all('pass'));
    const failing: Record<string, string> = {
      'wrong-ns': POLICIES.ns,
      'wrong-tier': POLICIES.tier,
      'wrong-owner': POLICIES.owner,
      'no-cost': POLICIES.cost,
      'wrong-part': partOf,
    };
    for (const [ns, policy] of Object.entries(failing)) {
      expect(resultsOf(results, ns, 'require-label'), ns).toEqual({ ...all('pass'), [policy]: 'fail' });
    }
    expect(resultsOf(results, 'bare', 'require-label')).toEqual(all('fail'));
    // Excluded namespaces are not evaluated at all.
    expect(resultsOf(results, 'kube-system', 'require-label')).toEqual({});
    expect(resultsOf(results, 'sandbox-1', 'require-label')).toEqual({});
    // The keep rule matches UPDATE only.
    expect(resultsOf(results, 'team-a', 'keep-label')).toEqual({});
  });

  it('UPDATE: removing or changing a label that was set correctly fails; fixing a wrong one does not', () => {
    const values = `apiVersion: cli.kyverno.io/v1alpha1
kind: Values
globalValues:
  request.operation: UPDATE
policies:
  - name: ${POLICIES.tier}
    resources:
      - name: change-tier
        values:
          request.oldObject.metadata.labels.tier: gold
  - name: ${POLICIES.ns}
    resources:
      - name: fix-ns
        values:
          request.oldObject.metadata.labels.ns: wrong
  - name: ${POLICIES.cost}
    resources:
      - name: drop-cost
        values:
          request.oldObject.metadata.labels:
            cost-center: cc-1
`;
    const noCost = Object.fromEntries(Object.entries(good('drop-cost')).filter(([k]) => k !== 'cost-center'));
    const results = apply(
      'enforce',
      [
        namespace('change-tier', good('change-tier', { tier: 'silver' })),
        namespace('fix-ns', good('fix-ns')),
        namespace('drop-cost', noCost),
        namespace('same', good('same')),
      ].join(''),
      values,
    );
    expect(results.get(`change-tier ${POLICIES.tier}/keep-label`)).toBe('fail');
    expect(results.get(`change-tier ${POLICIES.tier}/require-label`)).toBe('pass');
    expect(results.get(`fix-ns ${POLICIES.ns}/keep-label`)).toBe('skip'); // the old value was wrong: fixing it is allowed
    expect(results.get(`fix-ns ${POLICIES.ns}/require-label`)).toBe('pass');
    expect(results.get(`drop-cost ${POLICIES.cost}/keep-label`)).toBe('fail');
    expect(Object.values(resultsOf(results, 'same', 'keep-label')).every((r) => r === 'pass')).toBe(true);
  });

  it('audit mode: Kyverno reads the rules as Audit (reported as warnings with --audit-warn), enforce mode as failures', () => {
    const namespaces = namespace('bare', null);
    const audit = apply('audit', namespaces, undefined, ['--audit-warn']);
    expect(new Set(Object.values(resultsOf(audit, 'bare', 'require-label')))).toEqual(new Set(['warn']));
    const enforce = apply('enforce', namespaces, undefined, ['--audit-warn']);
    expect(new Set(Object.values(resultsOf(enforce, 'bare', 'require-label')))).toEqual(new Set(['fail']));
  });
});
