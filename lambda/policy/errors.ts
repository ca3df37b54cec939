/** Why a policy cannot be generated from a configuration. */
import { LabelguardError } from '../errors.js';

/**
 * A required label uses something the target policy language cannot express faithfully (a
 * JavaScript-only regular expression feature, say). The message names the label and what to change.
 */
export class PolicyGenerationError extends LabelguardError {
  override readonly name = 'PolicyGenerationError';
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('policy-unsupported', `requiredLabels "${key}": ${message}`, options);
    this.key = key;
  }
}
