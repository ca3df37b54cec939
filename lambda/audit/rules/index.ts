import { enforcementMissing, waiverExpiredRule } from './enforcement-rules.js';
import { labelInvalid, labelMissing } from './label-rules.js';
import { namespaceUnprotected, nearMiss, peerSelectsNothing, selectorInvalid } from './policy-rules.js';
import type { Rule } from './types.js';

/** Every rule, in report order. Rule ids are stable: changing one is a breaking change. */
export const RULES: readonly Rule[] = [
  labelMissing,
  labelInvalid,
  nearMiss,
  namespaceUnprotected,
  selectorInvalid,
  peerSelectsNothing,
  enforcementMissing,
  waiverExpiredRule,
];
