/**
 * The endpoint of a kubeconfig's current context. The kubeconfig's own client library authenticates
 * each request (tokens, token files, exec plugins, auth providers, basic auth, impersonation) and,
 * for a context behind a `proxy-url`, makes the proxy agent; the CA and client certificate are read
 * once. A context that asks to skip TLS verification, or plain http, is refused.
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeCredentials, KubeEndpoint } from './endpoint.js';
import { KubeRequestError } from './errors.js';
import { safeUrl } from './client.js';

/** How long one answer of the kubeconfig's authenticators serves the requests that follow. */
export const CREDENTIALS_REUSE_MS = 1000;

export function kubeConfigEndpoint(kubeConfig: KubeConfig): KubeEndpoint {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (cluster === null) {
    throw new KubeRequestError('config', `context "${kubeConfig.getCurrentContext()}" names no cluster`);
  }
  if (cluster.skipTLSVerify) {
    throw new KubeRequestError(
      'config',
      'insecure-skip-tls-verify is set for this cluster; labelguard always verifies TLS: give certificate-authority-data instead',
    );
  }
  if (!/^https:\/\//i.test(cluster.server)) {
    throw new KubeRequestError('config', `the API server must be https:// (found "${safeUrl(cluster.server)}")`);
  }
  const ca = readMaterial('certificate-authority', cluster.caFile, cluster.caData);
  const cert = readMaterial('client-certificate', user?.certFile, user?.certData);
  const key = readMaterial('client-key', user?.keyFile, user?.keyData);
  const proxied = cluster.proxyUrl !== undefined && cluster.proxyUrl !== '';
  // The library makes a new proxy agent each time it is asked; the first is kept, so a read's
  // requests share its connections.
  let proxyAgent: Agent | undefined;
  let cached: { readonly at: number; readonly value: Promise<KubeCredentials> } | undefined;

  return {
    server: cluster.server,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
    credentials(): Promise<KubeCredentials> {
      // Asked before every request: the requests of one second share one answer (the library
      // caches exec and token-file credentials for longer; a failed answer is not kept).
      const now = Date.now();
      if (cached !== undefined && now - cached.at < CREDENTIALS_REUSE_MS) return cached.value;
      const value = fresh();
      const entry = { at: now, value };
      cached = entry;
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return value;
    },
  };

  async function fresh(): Promise<KubeCredentials> {
    const opts: RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(opts.headers ?? {})) {
      if (Array.isArray(value)) headers[name] = value.join(', ');
      else if (typeof value === 'string' || typeof value === 'number') headers[name] = String(value);
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const execCert = asBuffer(opts.cert);
    const execKey = asBuffer(opts.key);
    return {
      headers,
      ...(execCert && !(cert && execCert.equals(cert)) ? { cert: execCert, ...(execKey ? { key: execKey } : {}) } : {}),
      ...(proxied && opts.agent ? { agent: (proxyAgent ??= opts.agent as Agent) } : {}),
    };
  }
}

function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  return undefined;
}

function readMaterial(what: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) {
    try {
      return readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new KubeRequestError('config', `cannot read the ${what} file ${file} (${code})`, { cause: e });
    }
  }
  return data ? Buffer.from(data, 'base64') : undefined;
}
