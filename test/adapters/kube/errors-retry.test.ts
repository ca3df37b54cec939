/** Error classification, redaction, backoff and the in-flight bound, as small specs. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyKubeError, KubeRequestError, parseRetryAfter } from '../../../lambda/adapters/kube/errors.js';
import { redactSecrets } from '../../../lambda/adapters/kube/redact.js';
import { backoffDelay, createSemaphore, DEFAULT_RETRY_POLICY } from '../../../lambda/adapters/kube/retry.js';

const ctx = { cancelled: false, timeoutMs: 1000 };
const apiException = (code: number, body?: unknown, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`HTTP-Code: ${code}`), { code, body, headers });
const systemError = (code: string) =>
  Object.assign(new Error(`request to https://h/api?x=1 failed, reason: ${code}`), { name: 'FetchError', code });

describe('classifyKubeError', () => {
  it.each([
    [apiException(401), 'unauthorized', false, true],
    [
      apiException(403, JSON.stringify({ kind: 'Status', message: 'namespaces is forbidden: User "u" cannot list' })),
      'forbidden',
      false,
      false,
    ],
    [apiException(404, '404 page not found\n'), 'not-found', false, false],
    [
      apiException(410, JSON.stringify({ message: 'too old', metadata: { continue: 'next' } })),
      'expired',
      false,
      false,
    ],
    [apiException(429, undefined, { 'Retry-After': '3' }), 'throttled', true, false],
    [apiException(503), 'server-error', true, false],
    [apiException(400), 'rejected', false, false],
    [systemError('ECONNREFUSED'), 'unreachable', true, true],
    [systemError('ENOTFOUND'), 'unreachable', true, true],
    [systemError('ECONNRESET'), 'connection-reset', true, false],
    [systemError('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls', false, true],
    [systemError('SELF_SIGNED_CERT_IN_CHAIN'), 'tls', false, true],
    [
      Object.assign(new Error('The user aborted a request.'), { name: 'AbortError', type: 'aborted' }),
      'timeout',
      true,
      false,
    ],
    [new SyntaxError('Unexpected end of JSON input'), 'invalid-response', true, false],
  ] as const)('%s → %s', (error, kind, retryable, clusterLevel) => {
    const e = classifyKubeError(error, ctx);
    expect(e).toBeInstanceOf(KubeRequestError);
    expect([e.kind, e.retryable, e.clusterLevel]).toEqual([kind, retryable, clusterLevel]);
    expect(e.message).not.toContain('https://h/api');
  });

  it('keeps the Status message, Retry-After and the 410 continue token', () => {
    expect(classifyKubeError(apiException(403, JSON.stringify({ message: 'x is forbidden' })), ctx).message).toBe(
      '403 Forbidden: x is forbidden',
    );
    expect(classifyKubeError(apiException(429, undefined, { 'retry-after': '2' }), ctx).retryAfterMs).toBe(2000);
    expect(
      classifyKubeError(apiException(410, JSON.stringify({ metadata: { continue: 'tok' } })), ctx).continueToken,
    ).toBe('tok');
    expect(
      classifyKubeError(Object.assign(new Error('aborted'), { name: 'AbortError' }), { ...ctx, cancelled: true }).kind,
    ).toBe('cancelled');
  });
});

describe('redactSecrets', () => {
  const token = `k8s-aws-v1.${Buffer.from('https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Signature=abc').toString('base64url')}`;
  it.each([
    [`Authorization: Bearer ${token}`, 'Authorization: Bearer [redacted]'],
    ['{"authorization":"s3cr3t-value"}', '{"authorization":"[redacted]"}'],
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic [redacted]'],
    [`token ${token} rejected`, 'token k8s-aws-v1.[redacted] rejected'],
    [
      'GET https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Credential=AKID%2F1&X-Amz-Signature=abc done',
      'GET [presigned-url-redacted] done',
    ],
    [
      'X-Amz-Security-Token=FwoG%2Fabc&X-Amz-Signature=ff',
      'X-Amz-Security-Token=[redacted]&X-Amz-Signature=[redacted]',
    ],
    ['bearer abc.def-ghi', 'bearer [redacted]'],
    ['403 Forbidden: namespaces is forbidden', '403 Forbidden: namespaces is forbidden'],
  ])('%s', (input, output) => {
    expect(redactSecrets(input)).toBe(output);
  });

  it('KubeRequestError messages are redacted', () => {
    expect(new KubeRequestError('rejected', `bad token ${token}`).message).toBe('bad token k8s-aws-v1.[redacted]');
  });
});

describe('backoff', () => {
  it('is full jitter under an exponential ceiling, and Retry-After is a floor (capped)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, r) => {
        const d = backoffDelay(retry, DEFAULT_RETRY_POLICY, () => r, undefined);
        const ceiling = Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (retry - 1));
        return d >= 0 && d < Math.max(1, ceiling);
      }),
    );
    expect(backoffDelay(1, DEFAULT_RETRY_POLICY, () => 0, 3000)).toBe(3000);
    expect(backoffDelay(1, DEFAULT_RETRY_POLICY, () => 0, 120_000)).toBe(DEFAULT_RETRY_POLICY.maxRetryAfterMs);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-25T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 00:00:00 GMT', now + 10_000)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('createSemaphore', () => {
  it('never runs more than its limit at once, and releases on failure', async () => {
    const limit = createSemaphore(3);
    let active = 0;
    let max = 0;
    const task = (fail: boolean) =>
      limit.run(async () => {
        active++;
        max = Math.max(max, active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
        if (fail) throw new Error('boom');
      });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => task(i % 4 === 0)));
    expect(max).toBe(3);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(5);
    expect(limit.inFlight).toBe(0);
  });
});
