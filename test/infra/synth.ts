/**
 * Synthesizes the app for a config written inline, without bundling the function (the one test
 * that bundles for real is test/handler.test.ts): what `cdk synth -c config=FILE` builds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/app.js';
import type { LabelguardStack } from '../../infra/labelguard-stack.js';

export interface Synthesized {
  readonly stack: LabelguardStack;
  readonly template: Template;
  readonly json: {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;
  };
}

const dirs: string[] = [];

/** A temporary file holding `text`, removed by `cleanUpSynth`. */
export function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'labelguard-infra-'));
  dirs.push(dir);
  const file = join(dir, 'labelguard.config.yaml');
  writeFileSync(file, text);
  return file;
}

export function synth(configText: string, env: Record<string, string | undefined> = {}): Synthesized {
  const file = configFile(configText);
  const outdir = mkdtempSync(join(tmpdir(), 'labelguard-cdk-'));
  dirs.push(outdir);
  const { stack } = createApp({ context: { config: file, 'aws:cdk:bundling-stacks': [] }, outdir, env });
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as Synthesized['json'] };
}

export function cleanUpSynth(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The resources of a type, by logical id. */
export function resourcesOf(s: Synthesized, type: string): [string, Record<string, unknown>][] {
  return Object.entries(s.json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

/** Every statement of every IAM policy attached to the role with this logical id. */
export function statementsOfRole(
  s: Synthesized,
  roleId: string,
): { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return resourcesOf(s, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.PolicyDocument as { Statement: never[] }).Statement);
}

export const EXAMPLE_CONFIG = `
requiredLabels:
  - key: ns
    value: '{{name}}'
clusters:
  - name: shop-prod
    kind: eks
    region: eu-west-1
  - name: payments-prod
    kind: eks
    region: eu-west-1
    roleArn: arn:aws:iam::210987654321:role/labelguard-reader
    externalId: labelguard-payments
notify:
  slack:
    channel: '#platform-security'
deploy:
  region: eu-west-1
  account: '123456789012'
  schedule:
    expression: cron(0 6 ? * MON-FRI *)
    timeZone: Europe/Berlin
  memoryMb: 1536
  timeoutSeconds: 300
  logRetentionDays: 365
  alarms:
    email: platform-security@example.com
  accessEntries: [shop-prod]
`;
