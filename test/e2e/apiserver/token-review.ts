/**
 * The webhook token authenticator the e2e kube-apiserver calls (`--authentication-token-webhook-config-file`):
 * a TokenReview server that accepts `k8s-aws-v1.` tokens by the shared EKS token check
 * (test/helpers/eks-endpoint.ts: aws-iam-authenticator's checks, then the SigV4 signature as STS
 * recomputes it, with the test credentials it knows), and maps the signer to a Kubernetes user
 * the way an EKS access entry with `kubernetesGroups: [labelguard-readers]` does.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CredentialStore, verifyEksToken as verifyToken } from '../../helpers/eks-endpoint.js';
import type { TestCredentials } from './sigv4.js';

/** A principal the fake STS knows, and the access entry that maps it into the cluster. */
export interface KnownPrincipal {
  readonly credentials: TestCredentials;
  /** What GetCallerIdentity would return, e.g. arn:aws:sts::111122223333:assumed-role/labelguard-reader/e2e */
  readonly arn: string;
  readonly groups: readonly string[];
}

export interface ReviewedIdentity {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export type TokenVerdict =
  { readonly ok: true; readonly identity: ReviewedIdentity } | { readonly ok: false; readonly reason: string };

/** Verifies one bearer token for the cluster `clusterId` at time `now` (the shared EKS token check). Pure. */
export function verifyEksToken(
  token: string,
  clusterId: string,
  principals: readonly KnownPrincipal[],
  now: Date,
): TokenVerdict {
  const credentials = new CredentialStore();
  for (const p of principals) credentials.add({ ...p.credentials, account: '', arn: p.arn });
  const result = verifyToken(token, { clusterName: clusterId, credentials, now });
  if (!result.ok) return result;
  const { accessKeyId } = result.principal;
  const principal = principals.find((p) => p.credentials.accessKeyId === accessKeyId)!; // the store holds only these
  return { ok: true, identity: identityOf(principal, accessKeyId) };
}

/** As aws-iam-authenticator maps `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` through an access entry. */
function identityOf(principal: KnownPrincipal, accessKeyId: string): ReviewedIdentity {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(principal.arn);
  const canonicalArn = m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : principal.arn;
  return {
    username: principal.arn,
    uid: `aws-iam-authenticator:${m?.[2] ?? 'unknown'}:${accessKeyId}`,
    groups: principal.groups,
    extra: {
      arn: [principal.arn],
      canonicalArn: [canonicalArn],
      sessionName: [m?.[4] ?? ''],
      accessKeyId: [accessKeyId],
    },
  };
}

export interface TokenReviewServer {
  readonly url: string;
  /** Every review answered, in order (the tests check the EKS path was really taken). */
  readonly reviews: readonly { readonly username: string | null; readonly reason: string | null }[];
  close(): Promise<void>;
}

/** Starts the HTTPS TokenReview endpoint on 127.0.0.1 with an ephemeral port. */
export async function startTokenReviewServer(options: {
  readonly key: string;
  readonly cert: string;
  readonly clusterId: string;
  readonly principals: readonly KnownPrincipal[];
  readonly now?: () => Date;
}): Promise<TokenReviewServer> {
  const reviews: { username: string | null; reason: string | null }[] = [];
  const server: Server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let review: { apiVersion?: string; spec?: { token?: string; audiences?: string[] } };
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof review;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const verdict = verifyEksToken(
        review.spec?.token ?? '',
        options.clusterId,
        options.principals,
        (options.now ?? (() => new Date()))(),
      );
      reviews.push(
        verdict.ok ? { username: verdict.identity.username, reason: null } : { username: null, reason: verdict.reason },
      );
      const status = verdict.ok
        ? { authenticated: true, user: verdict.identity, audiences: review.spec?.audiences }
        : { authenticated: false, error: verdict.reason };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ apiVersion: review.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', status }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/tokenreview`,
    reviews,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
