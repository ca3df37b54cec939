/** Policy inputs shared by the policy tests. */
import type { PolicyInput } from '../../lambda/policy/index.js';

/** Every kind of value rule, a key that is not a DNS label, YAML 1.1 traps, and globs Gatekeeper cannot express. */
export const FULL_INPUT: PolicyInput = {
  requiredLabels: [
    { key: 'ns', value: '{{name}}' },
    { key: 'tier', allowed: ['gold', 'silver', '2024-01'] },
    { key: 'owner', pattern: "[a-z][a-z0-9-]{1,30}|team-'x'" },
    { key: 'cost-center' },
    { key: 'app.kubernetes.io/part-of', value: 'shop-{{name}}', severity: 'high' },
    { key: 'zone', value: 'yes' },
  ],
  exclude: ['kube-*', '*-system', 'sandbox-?', 'tmp*x'],
};
