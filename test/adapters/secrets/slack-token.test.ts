import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSecretTokenSource, tokenIn } from '../../../lambda/adapters/secrets/slack-token.js';
import { SecretError } from '../../../lambda/errors.js';

/** A local Secrets Manager endpoint (the JSON 1.1 protocol the SDK speaks): GetSecretValue only. */
let server: Server;
let endpoint: string;
const secrets = new Map<string, string>();
const requests: { target: string; secretId: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const target = String(req.headers['x-amz-target'] ?? '');
      requests.push({ target, secretId: body.SecretId ?? '' });
      const reply = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (target !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'UnknownOperationException', message: target });
        return;
      }
      const value = secrets.get(body.SecretId ?? '');
      if (value === undefined) {
        reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      reply(200, {
        ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${body.SecretId}-AbCdEf`,
        Name: body.SecretId,
        SecretString: value,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  secrets.clear();
  requests.length = 0;
});

function client(): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

let now = 0;
const clock = { now: () => new Date(now) };

describe('the Slack token from Secrets Manager', () => {
  it('reads the secret once and reuses the token until its time is up', async () => {
    secrets.set('labelguard/slack', 'xoxb-1');
    const source = createSecretTokenSource({ client: client(), secretId: 'labelguard/slack', clock, ttlMs: 60_000 });
    const [a, b] = await Promise.all([source.get(), source.get()]);
    expect([a, b, await source.get()]).toEqual(['xoxb-1', 'xoxb-1', 'xoxb-1']);
    expect(requests).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: 'labelguard/slack' }]);

    secrets.set('labelguard/slack', 'xoxb-2');
    now += 60_001;
    expect(await source.get()).toBe('xoxb-2');
    expect(requests).toHaveLength(2);
  });

  it('reads the secret again at once after the token was rejected (rotation)', async () => {
    secrets.set('s', 'xoxb-old');
    const source = createSecretTokenSource({ client: client(), secretId: 's', clock });
    expect(await source.get()).toBe('xoxb-old');
    secrets.set('s', 'xoxb-new');
    source.invalidate();
    expect(await source.get()).toBe('xoxb-new');
  });

  it('takes the token from a JSON secret', async () => {
    secrets.set('json', JSON.stringify({ SLACK_BOT_TOKEN: 'xoxb-json', other: 1 }));
    expect(await createSecretTokenSource({ client: client(), secretId: 'json', clock }).get()).toBe('xoxb-json');
    expect(tokenIn('{"token":" xoxb-a "}')).toBe('xoxb-a');
    expect(tokenIn('{"botToken":"xoxb-b"}')).toBe('xoxb-b');
    expect(tokenIn('  xoxb-c\n')).toBe('xoxb-c');
    expect(tokenIn('{"nothing":"here"}')).toBeNull();
    expect(tokenIn('{not json')).toBeNull();
    expect(tokenIn('   ')).toBeNull();
  });

  it('fails with a SecretError naming the secret, and tries again on the next call', async () => {
    const source = createSecretTokenSource({ client: client(), secretId: 'missing', clock });
    const error = await source.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as SecretError).message).toMatch(
      /cannot read the Slack token secret missing: ResourceNotFoundException/,
    );
    secrets.set('missing', 'xoxb-now');
    expect(await source.get()).toBe('xoxb-now');
  });

  it('says so when the secret holds no token', async () => {
    secrets.set('empty', '{"user":"x"}');
    await expect(createSecretTokenSource({ client: client(), secretId: 'empty', clock }).get()).rejects.toThrow(
      /holds no Slack token/,
    );
  });
});
