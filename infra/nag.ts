/**
 * Helpers for cdk-nag 3 acknowledgements. A finding about a wildcard resource names it as cdk-nag
 * flattens it (`<LogicalId.Arn>:*`), so an acknowledgement needs that exact text: these compute it
 * with cdk-nag's own flattening instead of copying it by hand.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** The IAM5 finding id for `<arn>:*`: a Lambda function's versions and aliases, as `grantInvoke` grants them. */
export function arnWildcardFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}:*]`;
}

/**
 * Acknowledges, on `policy`, the IAM5 finding of each wildcard resource its statements grant
 * `actions` on: one acknowledgement per resource, only for those actions' statements.
 */
export function acknowledgeWildcardResources(policy: iam.Policy, actions: readonly string[], reason: string): void {
  const document = Stack.of(policy).resolve(policy.document.toJSON()) as {
    Statement?: { Action: string | string[]; Resource: unknown }[];
  } | null;
  const ids = new Set<string>();
  for (const statement of document?.Statement ?? []) {
    const statementActions = [statement.Action].flat();
    if (!statementActions.every((a) => actions.includes(a))) continue;
    for (const resource of [statement.Resource].flat()) {
      const flat = flattenCfnReference(resource);
      if (flat.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${flat}]`);
    }
  }
  for (const id of ids) Validations.of(policy).acknowledge({ id, reason });
}
