/**
 * What can go wrong talking to a Kubernetes API server, as one typed error. `classifyKubeError` turns
 * whatever the client threw (an `ApiException` with a Status body, a node-fetch `FetchError`, an
 * abort, a JSON syntax error) into a `KubeRequestError` with a stable `kind`, whether a retry may
 * help, and a short message for people that never contains a credential.
 */
import { LabelguardError } from '../../errors.js';
import { redactSecrets } from './redact.js';

export type KubeErrorKind =
  /** 401: the credentials were rejected (expired or foreign token, unknown user). */
  | 'unauthorized'
  /** 403: RBAC does not allow this read. */
  | 'forbidden'
  /** 404: the API group or resource is not served. */
  | 'not-found'
  /** 410: a continue token is too old. */
  | 'expired'
  /** 429: the API server asks us to slow down. */
  | 'throttled'
  /** 5xx. */
  | 'server-error'
  /** Any other HTTP status. */
  | 'rejected'
  /** No answer in time. */
  | 'timeout'
  /** Connection refused, host not found, network unreachable. */
  | 'unreachable'
  /** The connection broke mid-request (reset, premature close). */
  | 'connection-reset'
  /** The server's certificate was not trusted or not for this host. */
  | 'tls'
  /** The answer was not the JSON we asked for (truncated, HTML, ...). */
  | 'invalid-response'
  /** The read was cancelled because the cluster as a whole failed. */
  | 'cancelled'
  /** The client could not be configured (bad kubeconfig, plain http, skip-TLS). */
  | 'config';

const RETRYABLE: ReadonlySet<KubeErrorKind> = new Set([
  'throttled',
  'server-error',
  'timeout',
  'unreachable',
  'connection-reset',
  'invalid-response',
]);

/** Kinds that mean the cluster itself cannot be talked to: no other read will do better. */
const CLUSTER_LEVEL: ReadonlySet<KubeErrorKind> = new Set(['unauthorized', 'unreachable', 'tls', 'config']);

export class KubeRequestError extends LabelguardError {
  override readonly name = 'KubeRequestError';
  readonly kind: KubeErrorKind;
  /** The HTTP status, when the server answered. */
  readonly status?: number;
  /** The server's Retry-After, in milliseconds, when it sent one. */
  readonly retryAfterMs?: number;
  /** The `metadata.continue` of a 410 Status, when the server sent one. */
  readonly continueToken?: string;

  constructor(
    kind: KubeErrorKind,
    message: string,
    options: { status?: number; retryAfterMs?: number; continueToken?: string; cause?: unknown } = {},
  ) {
    // The cause is kept out of the message and never printed: it may carry request URLs and headers.
    super(`kube-${kind}`, redactSecrets(message), { cause: options.cause });
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.continueToken !== undefined) this.continueToken = options.continueToken;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  /** True when the failure concerns the whole cluster (credentials, network, TLS), not one resource. */
  get clusterLevel(): boolean {
    return CLUSTER_LEVEL.has(this.kind);
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const TLS_WORDS: Readonly<Record<string, string>> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate is not valid for this host name',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain ends in an untrusted CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by the cluster CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by the cluster CA',
};

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/** The parts of a Kubernetes `Status` object we use. */
interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly metadata?: { readonly continue?: string };
}

/**
 * Turns anything a request threw into a KubeRequestError. `what` names the request for people
 * ("list namespaces"); `context.cancelled` tells an abort by the cluster's own signal from a timeout.
 */
export function classifyKubeError(e: unknown, context: { cancelled: boolean; timeoutMs: number }): KubeRequestError {
  if (e instanceof KubeRequestError) return e;
  const err = e as {
    name?: unknown;
    code?: unknown;
    body?: unknown;
    headers?: unknown;
    message?: unknown;
    type?: unknown;
  } | null;
  const name = typeof err?.name === 'string' ? err.name : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);

  // An HTTP answer that was not 2xx: ApiException carries the status, the body and the headers.
  if (typeof err?.code === 'number' && err.code >= 100 && err.code < 600) {
    return fromHttpStatus(err.code, err.body, headersOf(err.headers), e);
  }
  if (name === 'AbortError' || err?.type === 'aborted') {
    return context.cancelled
      ? new KubeRequestError('cancelled', 'cancelled', { cause: e })
      : new KubeRequestError('timeout', `no answer within ${context.timeoutMs} ms`, { cause: e });
  }
  if (name === 'ProtobufError') {
    return new KubeRequestError('invalid-response', `the response is not valid protobuf (truncated?): ${message}`, {
      cause: e,
    });
  }
  if (e instanceof SyntaxError) {
    return new KubeRequestError('invalid-response', `the response is not valid JSON (truncated?): ${message}`, {
      cause: e,
    });
  }
  const code = systemCode(e);
  if (code !== undefined) {
    if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
      return new KubeRequestError('tls', `TLS verification failed: ${TLS_WORDS[code] ?? code} (${code})`, { cause: e });
    }
    if (UNREACHABLE_CODES.has(code)) {
      const words =
        code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : 'unreachable';
      return new KubeRequestError('unreachable', `${words} (${code})`, { cause: e });
    }
    if (RESET_CODES.has(code)) {
      return new KubeRequestError('connection-reset', `the connection broke mid-request (${code})`, { cause: e });
    }
    if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
      return new KubeRequestError('timeout', `connection timed out (${code})`, { cause: e });
    }
    return new KubeRequestError('connection-reset', `network error (${code})`, { cause: e });
  }
  if (/premature close|socket hang up/i.test(message)) {
    return new KubeRequestError('connection-reset', 'the connection broke mid-request', { cause: e });
  }
  if (name === 'FetchError') {
    return new KubeRequestError('connection-reset', 'network error', { cause: e });
  }
  // Anything else (a bug, a client-side check): keep the words, never the stack or URL details.
  return new KubeRequestError('invalid-response', firstLine(message), { cause: e });
}

function fromHttpStatus(
  status: number,
  rawBody: unknown,
  headers: Readonly<Record<string, string>>,
  cause: unknown,
): KubeRequestError {
  const body = statusBody(rawBody);
  const serverSays = body?.message ? `: ${firstLine(body.message)}` : '';
  const retryAfterMs = parseRetryAfter(headers['retry-after']);
  const extra = { status, cause, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 401)
    return new KubeRequestError('unauthorized', `401 Unauthorized: the cluster rejected the credentials`, extra);
  if (status === 403) return new KubeRequestError('forbidden', `403 Forbidden${serverSays}`, extra);
  if (status === 404) return new KubeRequestError('not-found', `404 Not Found${serverSays}`, extra);
  if (status === 410) {
    const token = body?.metadata?.continue;
    return new KubeRequestError('expired', `410 Gone${serverSays || ': the continue token expired'}`, {
      ...extra,
      ...(token ? { continueToken: token } : {}),
    });
  }
  if (status === 429) return new KubeRequestError('throttled', `429 Too Many Requests${serverSays}`, extra);
  if (status >= 500)
    return new KubeRequestError('server-error', `${status} ${reasonPhrase(status)}${serverSays}`, extra);
  return new KubeRequestError('rejected', `${status} ${reasonPhrase(status)}${serverSays}`, extra);
}

/** The Status object in an error body: the client hands it over as a JSON string (or text, or nothing). */
function statusBody(raw: unknown): StatusBody | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      // "404 page not found" and other plain text: use the first line as the message.
      return raw.trim() === '' ? undefined : { message: firstLine(raw) };
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const metadata = typeof v.metadata === 'object' && v.metadata !== null ? (v.metadata as Record<string, unknown>) : {};
  return {
    ...(typeof v.message === 'string' ? { message: v.message } : {}),
    ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
    metadata: typeof metadata.continue === 'string' ? { continue: metadata.continue } : {},
  };
}

function headersOf(raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>))
    if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function systemCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && typeof cur === 'object' && cur !== null; depth++) {
    const c = cur as { code?: unknown; cause?: unknown; erroredSysCall?: unknown };
    if (typeof c.code === 'string' && c.code !== '') return c.code;
    cur = c.cause;
  }
  return undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function reasonPhrase(status: number): string {
  const phrases: Record<number, string> = {
    400: 'Bad Request',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return phrases[status] ?? 'Error';
}
