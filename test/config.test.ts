import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONFIGURABLE_RULE_IDS,
  DEFAULT_CONFIG,
  configJsonSchema,
  isIsoDateOrDateTime,
  loadConfig,
  parseConfig,
} from '../lambda/config.js';
import type { ConfigIssue } from '../lambda/errors.js';
import { ConfigError, LabelguardError } from '../lambda/errors.js';

const FILE = 'labelguard.config.yaml';

function issuesOf(raw: unknown): ConfigIssue[] {
  const result = parseConfig(raw);
  if (result.ok) throw new Error(`expected issues, got a valid config: ${JSON.stringify(result.config)}`);
  return result.issues;
}

function configOf(raw: unknown) {
  const result = parseConfig(raw);
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.issues)}`);
  return result.config;
}

function loadError(text: string): ConfigError {
  try {
    loadConfig(text, FILE);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected loadConfig to throw');
}

const FULL = `
requiredLabels:
  - key: ns
    value: "{{name}}"
  - key: team
    allowed: [payments, storefront, platform]
    severity: medium
  - key: example.com/cost-center
    pattern: "^cc-[0-9]{4}$"
exclude: [kube-*, default, tmp-??]
waivers:
  - rule: label-missing
    cluster: shop-prod
    namespace: legacy-*
    reason: Legacy namespaces are migrated in Q3.
    owner: platform-team
    expires: 2026-09-30
    ticket: PLAT-1234
  - rule: near-miss
    namespace: monitoring
    reason: Known rename, tracked.
    owner: sre
    expires: 2026-01-31T17:00:00+01:00
severities:
  near-miss: low
  namespace-unprotected: critical
engines:
  cilium:
    namespaceLabels: policy-namespace
  istio:
    rootNamespace: mesh-root
  kubernetes:
    synthesizeNameLabel: false
failOn: medium
clusters:
  - name: shop-prod
    kind: eks
    region: eu-west-1
    roleArn: arn:aws:iam::123456789012:role/labelguard-reader
    externalId: labelguard-prod
  - name: dev
    kind: kubeconfig
    context: kind-dev
  - name: staging-dump
    kind: manifests
    paths: [dumps/staging]
store:
  table: labelguard-scans
  region: eu-west-1
  retentionDays: 90
notify:
  slack:
    channel: "#platform-alerts"
    apiUrl: http://127.0.0.1:8080/api/
`;

describe('parseConfig defaults', () => {
  it('gives every default for an empty document', () => {
    for (const empty of [{}, null, undefined]) {
      expect(configOf(empty)).toEqual({
        requiredLabels: [{ key: 'ns', value: '{{name}}' }],
        exclude: ['kube-*'],
        waivers: [],
        severities: {},
        engines: {
          cilium: { namespaceLabels: 'cross-namespace' },
          istio: { rootNamespace: 'istio-system' },
          kubernetes: { synthesizeNameLabel: true },
        },
        failOn: 'high',
        clusters: [],
        store: { retentionDays: 400 },
        notify: {},
      });
    }
  });

  it('exports the defaults as DEFAULT_CONFIG, frozen', () => {
    expect(DEFAULT_CONFIG).toEqual(configOf({}));
    expect(Object.isFrozen(DEFAULT_CONFIG.requiredLabels)).toBe(true);
  });

  it('fills defaults inside a partly written section', () => {
    const config = configOf({ engines: { istio: {} }, store: { dir: '.labelguard' } });
    expect(config.engines.istio.rootNamespace).toBe('istio-system');
    expect(config.engines.cilium.namespaceLabels).toBe('cross-namespace');
    expect(config.store).toEqual({ dir: '.labelguard', retentionDays: 400 });
  });

  it('gives each parse its own default lists', () => {
    const a = configOf({});
    a.requiredLabels.push({ key: 'team' });
    expect(configOf({}).requiredLabels).toEqual([{ key: 'ns', value: '{{name}}' }]);
  });

  it('treats an explicit empty list as empty, not as the default', () => {
    expect(configOf({ requiredLabels: [], exclude: [] })).toMatchObject({ requiredLabels: [], exclude: [] });
  });
});

describe('loadConfig', () => {
  it('reads every field', () => {
    const config = loadConfig(FULL, FILE);
    expect(config.requiredLabels).toEqual([
      { key: 'ns', value: '{{name}}' },
      { key: 'team', allowed: ['payments', 'storefront', 'platform'], severity: 'medium' },
      { key: 'example.com/cost-center', pattern: '^cc-[0-9]{4}$' },
    ]);
    expect(config.exclude).toEqual(['kube-*', 'default', 'tmp-??']);
    expect(config.waivers).toEqual([
      {
        rule: 'label-missing',
        cluster: 'shop-prod',
        namespace: 'legacy-*',
        reason: 'Legacy namespaces are migrated in Q3.',
        owner: 'platform-team',
        expires: '2026-09-30', // YAML 1.2: an unquoted date stays a string
        ticket: 'PLAT-1234',
      },
      {
        rule: 'near-miss',
        namespace: 'monitoring',
        reason: 'Known rename, tracked.',
        owner: 'sre',
        expires: '2026-01-31T17:00:00+01:00',
      },
    ]);
    expect(config.severities).toEqual({ 'near-miss': 'low', 'namespace-unprotected': 'critical' });
    expect(config.engines).toEqual({
      cilium: { namespaceLabels: 'policy-namespace' },
      istio: { rootNamespace: 'mesh-root' },
      kubernetes: { synthesizeNameLabel: false },
    });
    expect(config.failOn).toBe('medium');
    expect(config.clusters).toEqual([
      {
        name: 'shop-prod',
        kind: 'eks',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::123456789012:role/labelguard-reader',
        externalId: 'labelguard-prod',
      },
      { name: 'dev', kind: 'kubeconfig', context: 'kind-dev' },
      { name: 'staging-dump', kind: 'manifests', paths: ['dumps/staging'] },
    ]);
    expect(config.store).toEqual({ table: 'labelguard-scans', region: 'eu-west-1', retentionDays: 90 });
    expect(config.notify).toEqual({ slack: { channel: '#platform-alerts', apiUrl: 'http://127.0.0.1:8080/api/' } });
  });

  it('gives the defaults for an empty file or one with only comments', () => {
    expect(loadConfig('', FILE)).toEqual(DEFAULT_CONFIG);
    expect(loadConfig('# nothing configured yet\n', FILE)).toEqual(DEFAULT_CONFIG);
  });

  it('throws a ConfigError whose message names the file and the path', () => {
    const error = loadError('requiredLabels:\n  - key: 5\n');
    expect(error).toBeInstanceOf(LabelguardError);
    expect(error.code).toBe('config-invalid');
    expect(error.file).toBe(FILE);
    expect(error.issues).toEqual([{ path: 'requiredLabels[0].key', message: 'expected string, received number' }]);
    expect(error.message).toBe('labelguard.config.yaml: requiredLabels[0].key: expected string, received number');
  });

  it('lists every issue, one a line', () => {
    const error = loadError('failOn: never\nexclude: [Payments]\nrequiredLabel: []\n');
    expect(error.message.split('\n')).toEqual([
      'labelguard.config.yaml: exclude[0]: expected a namespace name or glob: lowercase letters, digits, "-", and the wildcards * and ?',
      'labelguard.config.yaml: failOn: expected one of "info", "low", "medium", "high", "critical", received "never"',
      'labelguard.config.yaml: requiredLabel: unknown key (did you mean "requiredLabels"?)',
    ]);
  });

  it('names the file and line of a YAML syntax error', () => {
    const error = loadError('failOn: high\nexclude: [kube-*\nwaivers: []\n');
    expect(error.issues[0]?.line).toBe(3);
    expect(error.message).toMatch(/^labelguard\.config\.yaml:3: invalid YAML/);
  });

  it('rejects duplicate keys in the YAML', () => {
    const error = loadError('failOn: high\nfailOn: low\n');
    expect(error.message).toMatch(/^labelguard\.config\.yaml:2: invalid YAML.*unique/);
  });

  it('rejects a file with more than one document', () => {
    expect(loadError('failOn: high\n---\nfailOn: low\n').message).toMatch(
      /^labelguard\.config\.yaml:\d+: invalid YAML/,
    );
  });

  it('rejects a document that is not a mapping', () => {
    expect(loadError('- requiredLabels\n').issues).toEqual([{ path: '', message: 'expected object, received array' }]);
  });
});

describe('parseConfig issues', () => {
  it('names unknown keys at every level, with a suggestion when one is near', () => {
    expect(
      issuesOf({
        requiredLabel: [],
        colour: 'blue',
        engines: { cilium: { namespaceLabel: 'cross-namespace' } },
        waivers: [{ rule: 'near-miss', namespace: 'a', reason: 'r', owner: 'o', expires: '2030-01-01', expiry: 'x' }],
        severities: { 'label-misisng': 'low' },
      }),
    ).toEqual([
      { path: 'waivers[0].expiry', message: 'unknown key (did you mean "expires"?)' },
      { path: 'severities.label-misisng', message: 'unknown key (did you mean "label-missing"?)' },
      { path: 'engines.cilium.namespaceLabel', message: 'unknown key (did you mean "namespaceLabels"?)' },
      { path: 'requiredLabel', message: 'unknown key (did you mean "requiredLabels"?)' },
      { path: 'colour', message: 'unknown key' },
    ]);
  });

  it('reports every problem in one pass', () => {
    const issues = issuesOf({
      requiredLabels: [{ key: 'Team Name' }, { value: 'x' }],
      exclude: 'kube-*',
      failOn: 'urgent',
      store: { retentionDays: 0 },
    });
    expect(issues.map((i) => i.path)).toEqual([
      'requiredLabels[0].key',
      'requiredLabels[1].key',
      'exclude',
      'failOn',
      'store.retentionDays',
    ]);
    expect(issues[1]?.message).toBe('required (expected string)');
  });

  describe('requiredLabels', () => {
    it.each([
      ['ns'],
      ['team'],
      ['app.kubernetes.io/name'],
      ['kubernetes.io/metadata.name'],
      ['example.com/Cost_Center.v2'],
      ['a'.repeat(63)],
      [`${'a'.repeat(253)}/x`],
    ])('accepts the label key %s', (key) => {
      expect(parseConfig({ requiredLabels: [{ key }] }).ok).toBe(true);
    });

    it.each([
      ['', 'the name part must not be empty'],
      ['Team Name', 'the name part must be 63 characters or less, consist of alphanumeric characters'],
      ['-team', 'start and end with an alphanumeric character'],
      ['team-', 'start and end with an alphanumeric character'],
      ['a'.repeat(64), 'the name part must be no more than 63 characters'],
      ['Example.com/team', 'the prefix must be a lower-case DNS subdomain'],
      ['/team', "the prefix before '/' must not be empty"],
      ['example.com/', 'the name part must not be empty'],
      ['a/b/c', "may contain at most one '/'"],
      [`${'a'.repeat(254)}/x`, 'the prefix must be no more than 253 characters'],
    ])('rejects the label key %j', (key, why) => {
      const issues = issuesOf({ requiredLabels: [{ key }] });
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe('requiredLabels[0].key');
      expect(issues[0]?.message).toMatch(/^label key "/);
      expect(issues[0]?.message).toContain(why);
    });

    it('rejects a pattern that is not a regular expression', () => {
      expect(issuesOf({ requiredLabels: [{ key: 'team', pattern: '(payments' }] })).toEqual([
        { path: 'requiredLabels[0].pattern', message: 'Invalid regular expression: /(payments/u: Unterminated group' },
      ]);
    });

    it('checks a pattern in Unicode mode, as the audit compiles it', () => {
      expect(issuesOf({ requiredLabels: [{ key: 'team', pattern: 'a\\-b' }] })[0]?.path).toBe(
        'requiredLabels[0].pattern',
      );
      expect(parseConfig({ requiredLabels: [{ key: 'team', pattern: '\\p{Ll}+(-[0-9]+)?' }] }).ok).toBe(true);
    });

    it('accepts at most one of value, allowed and pattern', () => {
      expect(issuesOf({ requiredLabels: [{ key: 'team', value: 'a', allowed: ['a'], pattern: 'a' }] })).toEqual([
        {
          path: 'requiredLabels[0].allowed',
          message: 'give at most one of value, allowed and pattern (found value and allowed and pattern)',
        },
      ]);
    });

    it('accepts {{name}} in a value and no other template', () => {
      for (const value of ['{{name}}', 'team-{{name}}', '{{name}}.v1']) {
        expect(parseConfig({ requiredLabels: [{ key: 'ns', value }] }).ok).toBe(true);
      }
      expect(issuesOf({ requiredLabels: [{ key: 'ns', value: '{{namespace}}' }] })).toEqual([
        { path: 'requiredLabels[0].value', message: 'the only template is "{{name}}"' },
      ]);
      expect(issuesOf({ requiredLabels: [{ key: 'ns', allowed: [`${'a'.repeat(63)}{{name}}`] }] })[0]?.message).toMatch(
        /^with \{\{name\}\} filled in, label value .* must be no more than 63 characters$/,
      );
    });

    it('rejects values no label can hold', () => {
      expect(
        issuesOf({
          requiredLabels: [
            { key: 'a', value: 'has space' },
            { key: 'b', allowed: ['ok', 'x'.repeat(64)] },
            { key: 'c', allowed: [] },
          ],
        }).map((i) => i.path),
      ).toEqual(['requiredLabels[0].value', 'requiredLabels[1].allowed[1]', 'requiredLabels[2].allowed']);
      expect(parseConfig({ requiredLabels: [{ key: 'a', value: '' }] }).ok).toBe(true);
    });

    it('rejects the same key twice', () => {
      expect(issuesOf({ requiredLabels: [{ key: 'ns' }, { key: 'team' }, { key: 'ns' }] })).toEqual([
        { path: 'requiredLabels[2].key', message: 'duplicate of requiredLabels[0].key' },
      ]);
    });

    it('rejects an unknown severity', () => {
      expect(issuesOf({ requiredLabels: [{ key: 'ns', severity: 'urgent' }] })[0]?.path).toBe(
        'requiredLabels[0].severity',
      );
    });
  });

  describe('waivers', () => {
    const waiver = {
      rule: 'label-missing',
      namespace: 'legacy-*',
      reason: 'migrating',
      owner: 'platform',
      expires: '2026-06-30',
    };

    it.each(['2026-06-30', '2024-02-29', '2026-06-30T12:00:00Z', '2026-06-30T12:00Z', '2026-06-30T12:00:00.123-05:30'])(
      'accepts the expiry %s',
      (expires) => {
        expect(parseConfig({ waivers: [{ ...waiver, expires }] }).ok).toBe(true);
      },
    );

    it.each([
      '2026-02-30',
      '2025-02-29',
      '30/06/2026',
      '2026-6-30',
      '2026-06-30T12:00:00',
      '2026-06-30T25:00:00Z',
      'soon',
      '',
    ])('rejects the expiry %j', (expires) => {
      expect(issuesOf({ waivers: [{ ...waiver, expires }] })).toEqual([
        {
          path: 'waivers[0].expires',
          message: 'expected an ISO date (2026-01-31) or date-time with zone (2026-01-31T12:00:00Z)',
        },
      ]);
    });

    it('rejects an expiry YAML did not leave as a string', () => {
      expect(issuesOf({ waivers: [{ ...waiver, expires: 20260630 }] })[0]).toEqual({
        path: 'waivers[0].expires',
        message: 'expected string, received number',
      });
    });

    it('accepts every configurable rule id and nothing else', () => {
      for (const rule of CONFIGURABLE_RULE_IDS) expect(parseConfig({ waivers: [{ ...waiver, rule }] }).ok).toBe(true);
      for (const rule of ['rule-error', 'label-mising', 'LABEL-MISSING']) {
        expect(issuesOf({ waivers: [{ ...waiver, rule }] })[0]?.path).toBe('waivers[0].rule');
      }
    });

    it('names each missing field', () => {
      expect(issuesOf({ waivers: [{ rule: 'near-miss' }] })).toEqual([
        { path: 'waivers[0].namespace', message: 'required (expected string)' },
        { path: 'waivers[0].reason', message: 'required (expected string)' },
        { path: 'waivers[0].owner', message: 'required (expected string)' },
        { path: 'waivers[0].expires', message: 'required (expected string)' },
      ]);
    });

    it('rejects an empty reason or owner and a namespace glob no namespace can match', () => {
      expect(issuesOf({ waivers: [{ ...waiver, reason: '', owner: '', namespace: 'Legacy_*' }] })).toEqual([
        {
          path: 'waivers[0].namespace',
          message: 'expected a namespace name or glob: lowercase letters, digits, "-", and the wildcards * and ?',
        },
        { path: 'waivers[0].reason', message: 'expected a reason' },
        { path: 'waivers[0].owner', message: 'expected an owner' },
      ]);
    });
  });

  describe('severities, engines and failOn', () => {
    it('rejects an unknown severity value', () => {
      expect(issuesOf({ severities: { 'near-miss': 'hihg' } })).toEqual([
        {
          path: 'severities.near-miss',
          message: 'expected one of "info", "low", "medium", "high", "critical", received "hihg"',
        },
      ]);
    });

    it('rejects bad engine settings', () => {
      expect(
        issuesOf({
          engines: {
            cilium: { namespaceLabels: 'global' },
            istio: { rootNamespace: 'Istio System' },
            kubernetes: { synthesizeNameLabel: 'yes' },
          },
        }),
      ).toEqual([
        {
          path: 'engines.cilium.namespaceLabels',
          message: 'expected one of "cross-namespace", "policy-namespace", received "global"',
        },
        { path: 'engines.istio.rootNamespace', message: 'expected a namespace name' },
        { path: 'engines.kubernetes.synthesizeNameLabel', message: 'expected boolean, received string' },
      ]);
    });

    it('rejects an unknown failOn', () => {
      expect(issuesOf({ failOn: 'none' })[0]?.path).toBe('failOn');
    });
  });

  describe('clusters, store and notify', () => {
    it('requires paths for a manifests cluster and rejects fields of other kinds', () => {
      expect(
        issuesOf({
          clusters: [
            { name: 'dump', kind: 'manifests', region: 'eu-west-1' },
            { name: 'dev', kind: 'kubeconfig', paths: ['x'], externalId: 'abc' },
          ],
        }),
      ).toEqual([
        { path: 'clusters[0].region', message: 'not used by clusters of kind manifests' },
        { path: 'clusters[0].paths', message: 'required for clusters of kind manifests' },
        { path: 'clusters[1].externalId', message: 'not used by clusters of kind kubeconfig' },
        { path: 'clusters[1].paths', message: 'not used by clusters of kind kubeconfig' },
        { path: 'clusters[1].externalId', message: 'needs roleArn' },
      ]);
    });

    it('rejects an unknown kind, a malformed role ARN and a repeated name', () => {
      expect(
        issuesOf({
          clusters: [
            { name: 'prod', kind: 'gke' },
            { name: 'prod', kind: 'eks', roleArn: 'labelguard-reader' },
          ],
        }).map((i) => i.path),
      ).toEqual(['clusters[0].kind', 'clusters[1].roleArn']);
      expect(
        issuesOf({
          clusters: [
            { name: 'prod', kind: 'eks' },
            { name: 'prod', kind: 'kubeconfig' },
          ],
        }),
      ).toEqual([{ path: 'clusters[1].name', message: 'duplicate of clusters[0].name' }]);
    });

    it('validates the store and notify sections', () => {
      expect(
        issuesOf({
          store: { table: 'x', retentionDays: 1.5 },
          notify: { slack: { apiUrl: 'ftp://slack.example.com', channel: '' } },
        }),
      ).toEqual([
        { path: 'store.table', message: 'expected a DynamoDB table name' },
        { path: 'store.retentionDays', message: 'expected a whole number of days' },
        { path: 'notify.slack.channel', message: 'Too small: expected string to have >=1 characters' },
        { path: 'notify.slack.apiUrl', message: 'expected an http or https URL' },
      ]);
    });
  });

  it('never throws, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const result = parseConfig(raw);
        if (!result.ok) {
          expect(result.issues.length).toBeGreaterThan(0);
          for (const issue of result.issues) {
            expect(typeof issue.path).toBe('string');
            expect(issue.message).not.toBe('');
          }
        }
      }),
    );
  });

  it('accepts every key built from the Kubernetes grammar (property)', () => {
    const alnum = fc.constantFrom(...'abcXYZ019');
    const middle = fc.constantFrom(...'abcXYZ019-_.');
    const name = fc
      .tuple(alnum, fc.array(middle, { maxLength: 61 }), fc.option(alnum, { nil: undefined }))
      .map(([a, m, z]) => (z === undefined ? a : a + m.join('') + z));
    const dnsLabel = fc
      .tuple(
        fc.constantFrom(...'abz09'),
        fc.array(fc.constantFrom(...'abz09-'), { maxLength: 10 }),
        fc.constantFrom(...'az9'),
      )
      .map(([a, m, z]) => a + m.join('') + z);
    const prefix = fc.array(dnsLabel, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
    const key = fc
      .tuple(fc.option(prefix, { nil: undefined }), name)
      .map(([p, n]) => (p === undefined ? n : `${p}/${n}`));
    fc.assert(fc.property(key, (k) => parseConfig({ requiredLabels: [{ key: k }] }).ok));
  });
});

describe('isIsoDateOrDateTime', () => {
  it('checks the calendar, not just the shape', () => {
    expect(isIsoDateOrDateTime('2028-02-29')).toBe(true);
    expect(isIsoDateOrDateTime('2100-02-29')).toBe(false);
    expect(isIsoDateOrDateTime('2026-04-31')).toBe(false);
  });
});

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as {
    type: string;
    additionalProperties: boolean;
    properties: Record<string, { default?: unknown; items?: { properties?: Record<string, { enum?: string[] }> } }>;
  };

  it('describes every top-level field, with its default, and forbids others', () => {
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'clusters',
        'deploy',
        'engines',
        'exclude',
        'failOn',
        'notify',
        'requiredLabels',
        'severities',
        'store',
        'waivers',
      ].sort(),
    );
    expect(schema.properties.failOn?.default).toBe('high');
    expect(schema.properties.exclude?.default).toEqual(['kube-*']);
    expect(schema.properties.waivers?.items?.properties?.rule?.enum).toEqual([...CONFIGURABLE_RULE_IDS]);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
