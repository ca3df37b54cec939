/**
 * EKS clients and credentials per account scope, built once and shared: one memoized credential
 * provider per role (so each role is assumed once per run), one EKS client per role and region.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import type { Clock } from '../../ports.js';
import { createAssumedRoleCredentials, type AwsCredentialsProvider } from './credentials.js';
import type { EksApi } from './describe.js';

export interface EksRoleScope {
  readonly roleArn?: string;
  readonly externalId?: string;
}

export interface EksAccessOptions {
  /** The caller's own credentials (memoized); they also assume the roles. */
  readonly baseCredentials: AwsCredentialsProvider;
  /** The RoleSessionName of every assumed role, e.g. "labelguard-scan". */
  readonly sessionName: string;
  /** For tests and private endpoints: the EKS and STS endpoint URLs. */
  readonly eksEndpoint?: string;
  readonly stsEndpoint?: string;
  readonly clock?: Clock;
}

export interface EksAccess {
  readonly credentialsFor: (scope: EksRoleScope, region: string) => AwsCredentialsProvider;
  readonly eksFor: (scope: EksRoleScope, region: string) => EksApi;
}

export function createEksAccess(options: EksAccessOptions): EksAccess {
  const credentials = new Map<string, AwsCredentialsProvider>();
  const clients = new Map<string, EKSClient>();
  const roleKey = (scope: EksRoleScope): string => `${scope.roleArn ?? ''}\u0000${scope.externalId ?? ''}`;

  const credentialsFor = (scope: EksRoleScope, region: string): AwsCredentialsProvider => {
    if (scope.roleArn === undefined) return options.baseCredentials;
    const key = roleKey(scope);
    let provider = credentials.get(key);
    if (provider === undefined) {
      provider = createAssumedRoleCredentials({
        roleArn: scope.roleArn,
        ...(scope.externalId === undefined ? {} : { externalId: scope.externalId }),
        sessionName: options.sessionName,
        region,
        baseCredentials: options.baseCredentials,
        ...(options.stsEndpoint === undefined ? {} : { stsEndpoint: options.stsEndpoint }),
        ...(options.clock ? { clock: options.clock } : {}),
      });
      credentials.set(key, provider);
    }
    return provider;
  };

  return {
    credentialsFor,
    eksFor: (scope, region) => {
      const key = `${roleKey(scope)}\u0000${region}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = new EKSClient({
          region,
          credentials: credentialsFor(scope, region),
          maxAttempts: 3,
          ...(options.eksEndpoint === undefined ? {} : { endpoint: options.eksEndpoint }),
        });
        clients.set(key, client);
      }
      return client;
    },
  };
}
