/** Typed errors of the EKS adapter: a stable code, a message for people that never carries a credential. */
import { LabelguardError } from '../../errors.js';
import { redactSecrets } from '../kube/redact.js';

export type EksErrorCode =
  'eks-cluster-not-found' | 'eks-access-denied' | 'eks-cluster-not-ready' | 'eks-request-failed';

export class EksError extends LabelguardError {
  override readonly name = 'EksError';
  declare readonly code: EksErrorCode;

  constructor(code: EksErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, redactSecrets(message), options);
  }
}
