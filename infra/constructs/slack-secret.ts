/**
 * The Slack bot token: the existing secret the config names (`notify.slack.tokenSecretId`, a name
 * or an ARN), or a new one whose value is set after the first deploy. The function may only read
 * its value.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface SlackSecretProps {
  /** An existing secret: its name, or its ARN (complete, with the 6-character suffix, or partial). */
  readonly secretId?: string;
}

/** A complete secret ARN ends in `-` and the six characters Secrets Manager appended to the name. */
const COMPLETE_ARN_RE = /-[A-Za-z0-9]{6}$/;

export class SlackSecret extends Construct {
  readonly secret: secretsmanager.ISecret;
  /** What the function passes to GetSecretValue: the configured name or ARN, or the new secret's ARN. */
  readonly secretId: string;
  /** True when this stack created the secret (and its value must still be set). */
  readonly created: boolean;
  private readonly policyResource: string;

  constructor(scope: Construct, id: string, props: SlackSecretProps = {}) {
    super(scope, id);
    const given = props.secretId;
    if (given === undefined) {
      const secret = new secretsmanager.Secret(this, 'Secret', {
        description:
          'labelguard: the Slack bot token (xoxb-...). Set its value after deploy; until then deliveries fail with invalid_auth and wait for the next run.',
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A Slack bot token cannot be rotated by a Secrets Manager rotation function: it is reissued in the Slack app and the secret value updated (docs/deploy.md).',
      });
      this.secret = secret;
      this.secretId = secret.secretArn;
      this.policyResource = secret.secretArn;
      this.created = true;
      return;
    }
    this.secretId = given;
    this.created = false;
    if (given.startsWith('arn:')) {
      // (A partial ARN whose name happens to end in "-" and six letters or digits is taken for complete.)
      const complete = COMPLETE_ARN_RE.test(given);
      this.secret = secretsmanager.Secret.fromSecretAttributes(
        this,
        'Secret',
        complete ? { secretCompleteArn: given } : { secretPartialArn: given },
      );
      this.policyResource = complete ? given : `${given}-??????`;
    } else {
      this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Secret', given);
      this.policyResource = Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${given}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    }
  }

  /** Lets `grantee` read the token, and nothing else about the secret. */
  grantReadToken(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SlackToken',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.policyResource],
      }),
    );
  }
}
