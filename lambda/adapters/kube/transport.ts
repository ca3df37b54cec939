/**
 * The wire under the Kubernetes client: GET a path, get back the status, headers and body.
 *
 * A cluster is talked to over HTTP/2 when its API server offers it (as the Kubernetes API server
 * does, and as its own clients prefer): one TLS connection per cluster carries every request of the
 * read, so a read pays one TLS handshake instead of one per parallel request. A server that does
 * not offer HTTP/2 is talked to over HTTP/1.1 with a keep-alive pool. Either way TLS verification
 * is on: the CA and host name are checked by the platform before any request is sent.
 *
 * Failures come out as the platform's errors (system codes, TLS codes, an `AbortError` when the
 * request's signal fires), for `classifyKubeError` to name.
 */
import { connect as http2Connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { request as httpsRequest, type Agent } from 'node:https';
import type { Agent as HttpAgent, IncomingHttpHeaders } from 'node:http';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';

/** HTTP/2 flow-control windows: per stream (a list page) and for the whole connection. */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; multi-valued headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface Connection {
  /**
   * GETs `path` (with its query). Rejects with an `AbortError` when `signal` fires first.
   * `onChunk` sees each chunk of a 2xx body as it arrives (to act on its head early).
   */
  get(
    path: string,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
    onChunk?: (chunk: Buffer) => void,
  ): Promise<RawResponse>;
  /** Which protocol carries the requests, once known. */
  readonly protocol: () => 'h2' | 'http/1.1' | undefined;
  close(): void;
}

/** HTTP/1.1 over `agent` (a keep-alive pool, or a proxy agent). */
export function http1Connection(base: URL, agent: HttpAgent | Agent): Connection {
  let closed = false;
  return {
    protocol: () => 'http/1.1',
    get(path, headers, signal, onChunk) {
      return new Promise<RawResponse>((resolve, reject) => {
        const outcome = once(resolve, reject, signal, () => req.destroy());
        const req = httpsRequest(
          {
            protocol: 'https:',
            hostname: base.hostname,
            port: base.port,
            path: basePath(base) + path,
            method: 'GET',
            agent,
            headers,
          },
          (res) => {
            const chunks: Buffer[] = [];
            const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) <= 299;
            res.on('data', (chunk: Buffer) => {
              chunks.push(chunk);
              if (ok) onChunk?.(chunk);
            });
            res.on('error', outcome.fail);
            res.on('aborted', () => outcome.fail(prematureClose()));
            res.on('end', () => {
              if (!res.complete) return outcome.fail(prematureClose());
              outcome.done({
                status: res.statusCode ?? 0,
                headers: flatHeaders(res.headers),
                body: Buffer.concat(chunks),
              });
            });
          },
        );
        req.on('error', outcome.fail);
        req.end();
      });
    },
    close() {
      if (!closed) (agent as { destroy?: () => void }).destroy?.();
      closed = true;
    },
  };
}

export interface ClusterConnectionOptions {
  readonly base: URL;
  /** CA, and the client certificate when the cluster has one. */
  readonly secureContext: SecureContext;
  /** The name the certificate must carry, when not the URL's host. */
  readonly servername?: string;
  /** The HTTP/1.1 pool to use when the server does not speak HTTP/2. */
  readonly http1Agent: () => Agent;
}

/**
 * HTTP/2 when the server offers it (ALPN), else HTTP/1.1 through `http1Agent`. The first request
 * opens the connection; a connection that breaks or is told to go away is replaced by the next
 * request (the one that broke is retried by the caller).
 */
export function clusterConnection(options: ClusterConnectionOptions): Connection {
  const { base } = options;
  let session: ClientHttp2Session | undefined;
  let opening: Promise<ClientHttp2Session | 'http/1.1'> | undefined;
  let fallback: Connection | undefined;
  // The TLS connection being opened, so that closing mid-handshake does not leave it behind.
  let connecting: TLSSocket | undefined;
  let closed = false;

  const open = (): Promise<ClientHttp2Session | 'http/1.1'> =>
    new Promise((resolve, reject) => {
      const socket: TLSSocket = tlsConnect({
        host: base.hostname,
        port: Number(base.port || 443),
        secureContext: options.secureContext,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(options.servername ? { servername: options.servername } : {}),
      });
      connecting = socket;
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        socket.removeListener('error', reject);
        connecting = undefined;
        if (closed) {
          socket.destroy();
          reject(abortError());
          return;
        }
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy();
          resolve('http/1.1');
          return;
        }
        // Windows as large as the API server's own client uses: a list page then arrives without
        // waiting for this (busy) event loop to grant more room every 64 KiB.
        const s = http2Connect(base.origin, {
          createConnection: () => socket,
          settings: { initialWindowSize: STREAM_WINDOW_BYTES },
        });
        s.once('connect', () => s.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
        // A session-level error reaches every stream as its own error; here it only retires the session.
        s.on('error', () => undefined);
        const retire = (): void => {
          if (session === s) session = undefined;
        };
        s.once('close', retire);
        s.once('goaway', retire);
        session = s;
        resolve(s);
      });
    });

  const usable = async (): Promise<ClientHttp2Session | 'http/1.1'> => {
    if (fallback !== undefined) return 'http/1.1';
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    opening ??= open().finally(() => {
      opening = undefined;
    });
    const got = await opening;
    if (got === 'http/1.1') fallback ??= http1Connection(base, options.http1Agent());
    return got;
  };

  return {
    protocol: () => (fallback !== undefined ? 'http/1.1' : session !== undefined ? 'h2' : undefined),
    async get(path, headers, signal, onChunk) {
      if (closed) throw abortError();
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(abortError());
        else signal.addEventListener('abort', () => reject(abortError()), { once: true });
      });
      aborted.catch(() => undefined);
      const s = await Promise.race([usable(), aborted]);
      if (s === 'http/1.1') return (fallback as Connection).get(path, headers, signal, onChunk);
      return new Promise<RawResponse>((resolve, reject) => {
        const h2headers: Record<string, string> = {
          [h2.HTTP2_HEADER_METHOD]: 'GET',
          [h2.HTTP2_HEADER_PATH]: basePath(base) + path,
        };
        for (const [name, value] of Object.entries(headers)) h2headers[name.toLowerCase()] = value;
        let stream: ReturnType<ClientHttp2Session['request']>;
        const outcome = once(resolve, reject, signal, () => {
          if (!stream.closed) stream.close(h2.NGHTTP2_CANCEL);
        });
        try {
          stream = s.request(h2headers, { endStream: true });
        } catch (e) {
          // The session went away between the check and the request.
          if (session === s) session = undefined;
          outcome.fail(e);
          return;
        }
        let status = 0;
        let responseHeaders: Record<string, string> = {};
        const chunks: Buffer[] = [];
        stream.on('response', (hs) => {
          status = Number(hs[h2.HTTP2_HEADER_STATUS] ?? 0);
          responseHeaders = flatHeaders(hs);
        });
        stream.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (status >= 200 && status <= 299) onChunk?.(chunk);
        });
        stream.on('error', outcome.fail);
        stream.on('end', () => {
          const body = Buffer.concat(chunks);
          // HTTP/1.1's parser checks the length; over HTTP/2 a stream reset mid-body can still end.
          const declared = responseHeaders['content-length'];
          if (declared !== undefined && Number(declared) !== body.length) return outcome.fail(prematureClose());
          outcome.done({ status, headers: responseHeaders, body });
        });
        stream.on('close', () => {
          if (!outcome.settled()) outcome.fail(prematureClose());
        });
      });
    },
    close() {
      closed = true;
      connecting?.destroy(abortError());
      session?.destroy();
      session = undefined;
      fallback?.close();
    },
  };
}

/** Settles a request once: with its response, its first error, or an abort of `signal`. */
function once<T>(
  resolve: (value: T) => void,
  reject: (reason: unknown) => void,
  signal: AbortSignal,
  cancel: () => void,
): { done: (value: T) => void; fail: (reason: unknown) => void; settled: () => boolean } {
  let settled = false;
  const onAbort = (): void => {
    if (settled) return;
    settled = true;
    reject(abortError());
    cancel();
  };
  const settle = (fn: () => void): void => {
    if (settled) return;
    settled = true;
    signal.removeEventListener('abort', onAbort);
    fn();
  };
  if (signal.aborted) queueMicrotask(onAbort);
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    done: (value) => settle(() => resolve(value)),
    fail: (reason) => settle(() => reject(reason)),
    settled: () => settled,
  };
}

function basePath(base: URL): string {
  return base.pathname === '/' ? '' : base.pathname.replace(/\/+$/, '');
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':')) continue;
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(', ');
  }
  return out;
}

function abortError(): Error {
  const e = new Error('the request was aborted');
  e.name = 'AbortError';
  return e;
}

function prematureClose(): Error {
  return Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
