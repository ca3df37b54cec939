/**
 * A local AWS Secrets Manager endpoint for tests, speaking the protocol the SDK sends (JSON 1.1:
 * `POST /` with `X-Amz-Target: secretsmanager.<Operation>`, SigV4-signed): `GetSecretValue` by
 * name, complete ARN or partial ARN, with `ResourceNotFoundException`, `AccessDeniedException`
 * for an access key it does not know and `UnrecognizedClientException` for an unsigned request,
 * as the service answers. Point the SDK at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER` or `endpoint`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredSecret {
  readonly name: string;
  readonly value: string;
  /** Defaults to eu-west-1 / 123456789012. */
  readonly region?: string;
  readonly account?: string;
}

export interface SecretsEndpointOptions {
  readonly secrets?: readonly StoredSecret[];
  /** Access keys allowed to read; any signed request when absent. */
  readonly accessKeyIds?: readonly string[];
}

export interface SecretsCall {
  readonly operation: string;
  readonly secretId: string;
  readonly accessKeyId: string | null;
  readonly status: number;
}

export interface SecretsEndpoint {
  readonly url: string;
  readonly calls: SecretsCall[];
  /** Sets (or replaces) a secret's value, as `put-secret-value` does. */
  put(secret: StoredSecret): void;
  /** The secret's complete ARN (with the 6-character suffix). */
  arnOf(name: string): string;
  close(): Promise<void>;
}

const SUFFIX = 'AbC123';

export async function startSecretsEndpoint(options: SecretsEndpointOptions = {}): Promise<SecretsEndpoint> {
  const secrets = new Map<string, StoredSecret>();
  const calls: SecretsCall[] = [];
  const arnOf = (s: StoredSecret): string =>
    `arn:aws:secretsmanager:${s.region ?? 'eu-west-1'}:${s.account ?? '123456789012'}:secret:${s.name}-${SUFFIX}`;
  const put = (s: StoredSecret): void => {
    secrets.set(s.name, s);
  };
  for (const s of options.secrets ?? []) put(s);

  const find = (id: string): StoredSecret | undefined => {
    const byName = secrets.get(id);
    if (byName) return byName;
    for (const s of secrets.values()) {
      const arn = arnOf(s);
      // A complete ARN, or a partial one (without the suffix).
      if (id === arn || id === arn.slice(0, -(SUFFIX.length + 1))) return s;
    }
    return undefined;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? null;
    let secretId = '';
    const reply = (status: number, json: unknown): void => {
      calls.push({ operation, secretId, accessKeyId, status });
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': `req-${calls.length}`,
      });
      res.end(JSON.stringify(json));
    };
    if (req.method !== 'POST' || req.url !== '/') {
      reply(404, { __type: 'UnknownOperationException', message: `${req.method} ${req.url}` });
      return;
    }
    try {
      const id = (JSON.parse(body || '{}') as { SecretId?: unknown }).SecretId;
      secretId = typeof id === 'string' ? id : '';
    } catch {
      reply(400, { __type: 'SerializationException', message: 'invalid JSON' });
      return;
    }
    if (accessKeyId === null) {
      reply(400, {
        __type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
      return;
    }
    if (options.accessKeyIds !== undefined && !options.accessKeyIds.includes(accessKeyId)) {
      reply(400, {
        __type: 'AccessDeniedException',
        message: `User: ${accessKeyId} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId}`,
      });
      return;
    }
    if (operation !== 'GetSecretValue') {
      reply(400, { __type: 'UnknownOperationException', message: operation });
      return;
    }
    const secret = find(secretId);
    if (secret === undefined) {
      reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      return;
    }
    reply(200, {
      ARN: arnOf(secret),
      Name: secret.name,
      SecretString: secret.value,
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1767225600,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    put,
    arnOf: (name) => arnOf(secrets.get(name) ?? { name, value: '' }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
