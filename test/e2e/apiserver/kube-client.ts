/**
 * The harness's own minimal Kubernetes REST client (setup only: the admin token creates objects,
 * patches labels and edits the ClusterRole). labelguard's reads never go through it.
 */
import { Agent, request } from 'node:https';

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

export interface KubeClient {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse>;
  /** Like request, but throws unless the status is 2xx. */
  must(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown>;
  close(): void;
}

export function createKubeClient(options: {
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
}): KubeClient {
  const agent = new Agent({ ca: options.caPem, keepAlive: true, maxSockets: 16 });
  const base = new URL(options.server);
  const doRequest = (method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${options.token}`,
            accept: 'application/json',
            ...(payload
              ? { 'content-type': contentType ?? 'application/json', 'content-length': String(payload.length) }
              : {}),
          },
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              // not JSON (e.g. /readyz answers "ok")
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  return {
    request: doRequest,
    async must(method, path, body, contentType) {
      const res = await doRequest(method, path, body, contentType);
      if (res.status < 200 || res.status > 299)
        throw new Error(`${method} ${path}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
      return res.body;
    },
    close: () => agent.destroy(),
  };
}

/** The REST collection path of a resource: /api/v1/namespaces, /apis/g/v/namespaces/ns/plural, ... */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${namespace}/${plural}`;
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
