/** Config → the audit core's settings. Imports the config only as a type: no schema parser is loaded. */
import type { AuditSettings } from './audit/index.js';
import type { Config } from './config.js';

export function auditSettingsOf(config: Config): Omit<AuditSettings, 'now'> {
  return {
    requiredLabels: config.requiredLabels,
    exclude: config.exclude,
    waivers: config.waivers,
    severities: config.severities,
    engines: {
      ciliumNamespaceLabels: config.engines.cilium.namespaceLabels,
      istioRootNamespace: config.engines.istio.rootNamespace,
    },
    synthesizeNameLabel: config.engines.kubernetes.synthesizeNameLabel,
  };
}
