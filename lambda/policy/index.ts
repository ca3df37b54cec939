/** Admission policies generated from the configuration's required labels. Pure: config in, YAML text out. */
export { PolicyGenerationError } from './errors.js';
export {
  POLICY_MODES,
  describeValueRule,
  valueRuleOf,
  type PolicyInput,
  type PolicyMode,
  type PolicyOptions,
  type ValueRule,
} from './model.js';
export {
  KYVERNO_KEEP_RULE,
  KYVERNO_POLICY_PREFIX,
  KYVERNO_REQUIRE_RULE,
  generateKyvernoPolicies,
  kyvernoPolicies,
} from './kyverno.js';
export {
  GATEKEEPER_CONSTRAINT_KIND,
  GATEKEEPER_CONSTRAINT_NAME,
  GATEKEEPER_REGO,
  GATEKEEPER_TEMPLATE_NAME,
  gatekeeperPolicies,
  generateGatekeeperPolicies,
} from './gatekeeper.js';
export { re2Incompatibility } from './re2.js';
export { dnsNameFor } from './names.js';
