/**
 * The Slack bot token from AWS Secrets Manager (the Lambda's source), cached: a warm Lambda reads
 * the secret once per `ttlMs`, concurrent callers share one request, and a token Slack rejects is
 * forgotten so a rotated secret is picked up at once.
 *
 * The secret holds the token itself (`xoxb-…`) or JSON with a `token`, `botToken` or
 * `SLACK_BOT_TOKEN` field.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from '../../errors.js';
import type { TokenSource } from '../../notify/ports.js';
import type { Clock } from '../../ports.js';

export interface SecretTokenOptions {
  readonly client: SecretsManagerClient;
  /** The secret's name or ARN. */
  readonly secretId: string;
  readonly clock: Clock;
  /** How long a token is reused. Default 5 minutes. */
  readonly ttlMs?: number;
}

const JSON_FIELDS = ['token', 'botToken', 'SLACK_BOT_TOKEN'] as const;

export function createSecretTokenSource(options: SecretTokenOptions): TokenSource {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  let cached: { token: string; until: number } | null = null;
  let inFlight: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    let secret: string | undefined;
    try {
      const out = await options.client.send(new GetSecretValueCommand({ SecretId: options.secretId }));
      secret = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    } catch (e) {
      const name = e instanceof Error ? e.name : 'Error';
      const message = e instanceof Error ? e.message : String(e);
      throw new SecretError(
        options.secretId,
        `cannot read the Slack token secret ${options.secretId}: ${name}: ${message}`,
        {
          cause: e,
        },
      );
    }
    const token = tokenIn(secret ?? '');
    if (token === null) {
      throw new SecretError(
        options.secretId,
        `the secret ${options.secretId} holds no Slack token: store the bot token (xoxb-…) or JSON {"token": "xoxb-…"}`,
      );
    }
    return token;
  }

  return {
    get(): Promise<string> {
      const now = options.clock.now().getTime();
      if (cached !== null && now < cached.until) return Promise.resolve(cached.token);
      inFlight ??= fetchToken()
        .then((token) => {
          cached = { token, until: options.clock.now().getTime() + ttlMs };
          return token;
        })
        .finally(() => {
          inFlight = null;
        });
      return inFlight;
    },
    invalidate(): void {
      cached = null;
    },
  };
}

/** The token in a secret's text: the text itself, or a known field of a JSON object. */
export function tokenIn(secret: string): string | null {
  const text = secret.trim();
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      for (const field of JSON_FIELDS) {
        const value = json[field];
        if (typeof value === 'string' && value.trim() !== '') return value.trim();
      }
    } catch {
      return null;
    }
    return null;
  }
  return text === '' ? null : text;
}
