/**
 * The configuration an empty file yields (`DEFAULT_CONFIG` in ../config.ts), written out so that a
 * command run without a config file never loads the schema parser (zod) or the YAML parser.
 * test/cli/default-config.test.ts keeps it equal to `configSchema.parse({})`.
 */
import type { Config } from '../config.js';

export const DEFAULT_CONFIG: Readonly<Config> = deepFreeze({
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
} satisfies Config);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
