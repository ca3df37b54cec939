/** The only import surface of the pure audit core. */
export * from './model.js';
export * from './settings.js';
export { evaluateCluster, clusterStatus, readCategory, ENGINES } from './evaluate.js';
export {
  buildScanReport,
  clusterReportOf,
  failsAt,
  severityFails,
  compareFindings,
  summarize,
  type ReportOptions,
} from './report.js';
export { RULES } from './rules/index.js';
export type { Rule } from './rules/types.js';
export {
  createNamespaceIndex,
  effectiveNamespaceLabels,
  METADATA_NAME_LABEL,
  type NamespaceIndex,
} from './namespace-index.js';
export { matchLabels, type LabelQuery } from './selectors/query.js';
export { SelectorSyntaxError } from './selectors/errors.js';
export { compileLabelSelector, parseSelectorString } from './selectors/kubernetes.js';
export { validateLabelKey, validateLabelValue } from './selectors/labels.js';
export { parseCalicoSelector } from './selectors/calico.js';
export { globMatch } from './glob.js';
export { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from './engines/types.js';
export type { Completeness } from './rules/types.js';
export {
  observeCluster,
  nextState,
  diffStates,
  policyKey,
  findingKey,
  keyFindings,
  comparePolicyObjects,
  compareFindingsFully,
  describeLabels,
  labelsEqual,
  jsonEqual,
  isPolicyObject,
  withoutSource,
  type ClusterState,
  type ClusterObservation,
  type SelectionSettings,
} from './diff.js';
