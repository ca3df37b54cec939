/**
 * A real control plane for the e2e suite, envtest-style and without Docker: etcd and kube-apiserver
 * (built from source by build.sh) on 127.0.0.1 with ephemeral ports, serving certificates made at
 * start with openssl, RBAC authorization, a static admin token for setup, and a webhook token
 * authenticator that accepts EKS `k8s-aws-v1.` tokens (token-review.ts). It installs the policy
 * engines' CRDs, applies deploy/rbac/labelguard-reader.yaml, and stops every process it started, by
 * PID, in stop() (and, should the test runner die first, in a process 'exit' hook).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { crdManifest, ENGINE_CRDS, EXTRA_CRDS, type CrdKind } from './crds.js';
import { collectionPath, createKubeClient, type KubeClient } from './kube-client.js';
import { signEksToken, type TestCredentials } from './sigv4.js';
import { startTokenReviewServer, type KnownPrincipal, type TokenReviewServer } from './token-review.js';

const run = promisify(execFile);

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The shipped role (LABELGUARD_E2E_READER_ROLE points the suite at another file, e.g. to try a change). */
export const READER_ROLE_FILE =
  process.env.LABELGUARD_E2E_READER_ROLE ?? join(PROJECT_ROOT, 'deploy/rbac/labelguard-reader.yaml');
export const READER_GROUP = 'labelguard-readers';
const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

/** The versions build.sh builds (test/e2e/apiserver/versions.env). */
export function controlPlaneVersions(): { k8s: string; etcd: string | null } {
  const text = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'versions.env'), 'utf8');
  const value = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return { k8s: value('K8S_VERSION'), etcd: value('ETCD_VERSION') || null };
}

/** Where build.sh caches the binaries (LABELGUARD_K8S_BIN_DIR overrides). */
export function binDir(): string {
  if (process.env.LABELGUARD_K8S_BIN_DIR) return process.env.LABELGUARD_K8S_BIN_DIR;
  const root = process.env.LABELGUARD_CACHE_DIR ?? join(homedir(), '.cache/labelguard');
  return join(root, 'k8s', controlPlaneVersions().k8s);
}

/** The identity labelguard scans with: a role session whose access entry maps it to labelguard-readers. */
export const READER: KnownPrincipal = {
  credentials: {
    accessKeyId: 'ASIAE2ELABELGUARDTEST',
    secretAccessKey: 'e2e/secret/not-a-real-key/0123456789abcdef',
    sessionToken: 'FwoGZXIvYXdzEE2E//session+token/for=the/e2e/suite',
  },
  arn: 'arn:aws:sts::111122223333:assumed-role/labelguard-reader/labelguard-e2e',
  groups: [READER_GROUP],
};

/** A principal STS knows but no access entry maps to a group: authenticated, authorized for nothing. */
export const STRANGER: KnownPrincipal = {
  credentials: { accessKeyId: 'AKIAE2ESTRANGERTEST0', secretAccessKey: 'stranger-secret' },
  arn: 'arn:aws:sts::444455556666:assumed-role/someone-else/session',
  groups: [],
};

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly workDir: string;
  /** The EKS cluster name tokens must be signed for (x-k8s-aws-id). */
  readonly clusterId: string;
  readonly region: string;
  readonly adminToken: string;
  /** A kubeconfig with the static admin token (context `admin`). */
  readonly adminKubeconfig: string;
  readonly admin: KubeClient;
  readonly tokenReview: TokenReviewServer;
  /** kube-apiserver's audit log: every request by the labelguard-readers group (level Metadata). */
  readonly auditLog: string;
  /** The ClusterRole of deploy/rbac/labelguard-reader.yaml, as shipped. */
  readonly readerRole: ClusterRole;
  /** The CRDs installed (engine kinds plus the extra kinds the shipped role names). */
  readonly crds: readonly CrdKind[];
  /** A fresh EKS token for this cluster, signed with `credentials` (the reader's by default). */
  signToken(options?: { credentials?: TestCredentials; clusterId?: string; date?: Date }): string;
  /**
   * Writes a kubeconfig whose one context (`context`, also its cluster and user name) authenticates
   * with `token`, or with `user` (a kubeconfig user entry, e.g. an exec credential plugin).
   */
  writeKubeconfig(
    file: string,
    options: { context: string; token: string } | { context: string; user: Record<string, unknown> },
  ): Promise<string>;
  /** Replaces the reader ClusterRole's rules and waits until the authorizer sees the change. */
  setReaderRules(rules: readonly PolicyRule[]): Promise<void>;
  stop(): Promise<void>;
}

export interface PolicyRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
  readonly nonResourceURLs?: string[];
}

export interface ClusterRole {
  readonly apiVersion: string;
  readonly kind: 'ClusterRole';
  readonly metadata: { readonly name: string; readonly [key: string]: unknown };
  readonly rules: readonly PolicyRule[];
  readonly aggregationRule?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Processes: every child is remembered by PID until it has exited.

const children = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function killChildren(): void {
  for (const pid of children.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Should the test process end before stop() (a crash, Ctrl-C, a CI timeout), its children go with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killChildren();
      process.kill(process.pid, signal); // then whatever the signal would have done
    });
  }
}

function startProcess(binary: string, args: readonly string[], logFile: string): ChildProcess {
  installExitHook();
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  const pid = child.pid;
  children.set(pid, child);
  child.once('exit', () => children.delete(pid));
  return child;
}

async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (children.has(pid)) process.kill(pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Thrown by a probe whose process is gone: waiting longer cannot help. */
class ProcessExited extends Error {}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  onTimeout?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      if (e instanceof ProcessExited) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) {
      const detail = onTimeout ? `\n${await onTimeout()}` : '';
      throw new Error(
        `timed out waiting for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}${detail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates (openssl): a CA, one serving certificate for 127.0.0.1 (kube-apiserver and the
// TokenReview server), and the service-account signing key kube-apiserver insists on.

async function makeCertificates(dir: string): Promise<void> {
  const f = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  await run(OPENSSL, [
    'req',
    '-x509',
    ...ec,
    '-subj',
    '/CN=labelguard-e2e-ca',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  ]);
  const serving = [
    ['-subj', '/CN=127.0.0.1', '-keyout', f('serving.key'), '-out', f('serving.crt')],
    ['-CA', f('ca.crt'), '-CAkey', f('ca.key')],
    ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['-addext', 'basicConstraints=critical,CA:FALSE'],
    ['-addext', 'keyUsage=critical,digitalSignature'],
    ['-addext', 'extendedKeyUsage=serverAuth'],
  ];
  await run(OPENSSL, ['req', '-x509', ...ec, ...serving.flat()]);
  await run(OPENSSL, ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f('sa.key')]);
  await run(OPENSSL, ['pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub')]);
}

// ---------------------------------------------------------------------------------------------

export interface StartOptions {
  readonly clusterId?: string;
  readonly region?: string;
  /** How long to wait for deploy/rbac/labelguard-reader.yaml to appear (default: not at all). */
  readonly waitForRoleMs?: number;
}

export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  // Ports are picked free and then bound by etcd and kube-apiserver a moment later: another test
  // file starting its own control plane at the same time can take one in between. Start again
  // on fresh ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControlPlaneOnce(options);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof Error && /address already in use/.test(e.message))) throw e;
    }
  }
}

async function startControlPlaneOnce(options: StartOptions): Promise<ControlPlane> {
  const bins = binDir();
  const etcdBin = join(bins, 'etcd');
  const apiserverBin = join(bins, 'kube-apiserver');
  if (!existsSync(etcdBin) || !existsSync(apiserverBin)) {
    throw new Error(`kube-apiserver/etcd not built in ${bins}: run test/e2e/apiserver/build.sh`);
  }
  const clusterId = options.clusterId ?? 'labelguard-e2e';
  const region = options.region ?? 'eu-west-1';
  const workDir = await mkdtemp(join(tmpdir(), 'labelguard-e2e-'));
  const started: ChildProcess[] = [];
  let tokenReview: TokenReviewServer | undefined;
  let admin: KubeClient | undefined;

  const stopAll = async (): Promise<void> => {
    admin?.close();
    // kube-apiserver first (it holds etcd connections), then etcd, then the webhook.
    for (const child of [...started].reverse()) await stopProcess(child);
    await tokenReview?.close();
    if (!process.env.LABELGUARD_E2E_KEEP) await rm(workDir, { recursive: true, force: true });
  };

  try {
    await makeCertificates(workDir);
    const caPem = await readFile(join(workDir, 'ca.crt'), 'utf8');
    const servingKey = await readFile(join(workDir, 'serving.key'), 'utf8');
    const servingCert = await readFile(join(workDir, 'serving.crt'), 'utf8');

    tokenReview = await startTokenReviewServer({
      key: servingKey,
      cert: servingCert,
      clusterId,
      principals: [READER, STRANGER],
    });

    const adminToken = randomBytes(24).toString('hex');
    await writeFile(join(workDir, 'tokens.csv'), `${adminToken},labelguard-e2e-admin,uid-admin,"system:masters"\n`);
    await writeFile(
      join(workDir, 'webhook.kubeconfig'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'eks-authenticator',
            cluster: { server: tokenReview.url, 'certificate-authority': join(workDir, 'ca.crt') },
          },
        ],
        users: [{ name: 'kube-apiserver', user: {} }],
        contexts: [{ name: 'webhook', context: { cluster: 'eks-authenticator', user: 'kube-apiserver' } }],
        'current-context': 'webhook',
      }),
    );
    const auditLog = join(workDir, 'audit.log');
    await writeFile(
      join(workDir, 'audit-policy.yaml'),
      stringify({
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Policy',
        omitStages: ['RequestReceived'],
        rules: [{ level: 'Metadata', userGroups: [READER_GROUP] }, { level: 'None' }],
      }),
    );

    const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = startProcess(
      etcdBin,
      [
        '--name=e2e',
        `--data-dir=${join(workDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(workDir, 'etcd.log'),
    );
    started.push(etcd);
    await waitFor(
      'etcd',
      30_000,
      async () => {
        if (etcd.exitCode !== null) throw new ProcessExited(`etcd exited with ${etcd.exitCode}`);
        const res = await fetch(`${etcdUrl}/health`);
        return res.ok && ((await res.json()) as { health?: string }).health === 'true' ? true : undefined;
      },
      () => tail(join(workDir, 'etcd.log')),
    );

    const server = `https://127.0.0.1:${securePort}`;
    const apiserver = startProcess(
      apiserverBin,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--tls-cert-file=${join(workDir, 'serving.crt')}`,
        `--tls-private-key-file=${join(workDir, 'serving.key')}`,
        `--cert-dir=${join(workDir, 'certs')}`,
        '--authorization-mode=RBAC',
        '--anonymous-auth=false',
        `--token-auth-file=${join(workDir, 'tokens.csv')}`,
        `--authentication-token-webhook-config-file=${join(workDir, 'webhook.kubeconfig')}`,
        // Every request reaches the TokenReview server: no cached verdicts between tests.
        '--authentication-token-webhook-cache-ttl=0s',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(workDir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(workDir, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        // No kubernetes Service endpoints to keep: a loopback advertise address is refused otherwise.
        '--endpoint-reconciler-type=none',
        `--audit-policy-file=${join(workDir, 'audit-policy.yaml')}`,
        `--audit-log-path=${auditLog}`,
        '--audit-log-mode=blocking',
        '--profiling=false',
        '--v=1',
      ],
      join(workDir, 'kube-apiserver.log'),
    );
    started.push(apiserver);
    admin = createKubeClient({ server, caPem, token: adminToken });
    const adminClient = admin;
    await waitFor(
      'kube-apiserver /readyz',
      120_000,
      async () => {
        if (apiserver.exitCode !== null) throw new ProcessExited(`kube-apiserver exited with ${apiserver.exitCode}`);
        const res = await adminClient.request('GET', '/readyz');
        return res.status === 200 ? true : undefined;
      },
      () => tail(join(workDir, 'kube-apiserver.log')),
    );
    await waitFor('the default namespace', 60_000, async () =>
      (await adminClient.request('GET', '/api/v1/namespaces/default')).status === 200 ? true : undefined,
    );

    const adminKubeconfig = join(workDir, 'admin.kubeconfig');
    const writeKubeconfig: ControlPlane['writeKubeconfig'] = async (file, o) => {
      await writeFile(
        file,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: o.context,
              cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
            },
          ],
          users: [{ name: o.context, user: 'token' in o ? { token: o.token } : o.user }],
          contexts: [{ name: o.context, context: { cluster: o.context, user: o.context } }],
          'current-context': o.context,
        }),
        { mode: 0o600 },
      );
      return file;
    };
    await writeKubeconfig(adminKubeconfig, { context: 'admin', token: adminToken });

    // CRDs: every engine's kinds, then the extra kinds (in those groups) the shipped role names.
    const readerRole = await readReaderRole(options.waitForRoleMs ?? 0);
    const named = new Set(
      readerRole.rules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((p) => `${p}.${g}`))),
    );
    const crds = [...ENGINE_CRDS, ...EXTRA_CRDS.filter((c) => named.has(`${c.plural}.${c.group}`))];
    await installCrds(adminClient, crds);

    // The role as shipped, server-side applied as `kubectl apply --server-side` would.
    await applyManifestFile(adminClient, READER_ROLE_FILE);
    const signToken: ControlPlane['signToken'] = (o = {}) =>
      signEksToken({
        credentials: o.credentials ?? READER.credentials,
        region,
        clusterId: o.clusterId ?? clusterId,
        ...(o.date ? { date: o.date } : {}),
      });

    return {
      server,
      caPem,
      caFile: join(workDir, 'ca.crt'),
      workDir,
      clusterId,
      region,
      adminToken,
      adminKubeconfig,
      admin: adminClient,
      tokenReview,
      auditLog,
      readerRole,
      crds,
      signToken,
      writeKubeconfig,
      setReaderRules: (rules) => setReaderRules(adminClient, readerRole.metadata.name, rules),
      stop: stopAll,
    };
  } catch (e) {
    const logs = `etcd.log:\n${await tail(join(workDir, 'etcd.log'), 15)}\nkube-apiserver.log:\n${await tail(join(workDir, 'kube-apiserver.log'), 25)}`;
    await stopAll();
    throw new Error(`could not start the control plane: ${e instanceof Error ? e.message : String(e)}\n${logs}`, {
      cause: e,
    });
  }
}

/** The ClusterRole in deploy/rbac/labelguard-reader.yaml (waiting up to `waitMs` for the file). */
export async function readReaderRole(waitMs = 0): Promise<ClusterRole> {
  const text = await waitFor(READER_ROLE_FILE, waitMs, async () =>
    existsSync(READER_ROLE_FILE) ? readFile(READER_ROLE_FILE, 'utf8') : undefined,
  );
  const roles = parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter(
      (o): o is ClusterRole => typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'ClusterRole',
    );
  if (roles.length !== 1)
    throw new Error(`${READER_ROLE_FILE}: expected exactly one ClusterRole, found ${roles.length}`);
  return roles[0]!;
}

async function installCrds(admin: KubeClient, crds: readonly CrdKind[]): Promise<void> {
  for (const crd of crds)
    await admin.must('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crdManifest(crd));
  for (const crd of crds) {
    const name = `${crd.plural}.${crd.group}`;
    await waitFor(`CRD ${name} to be established`, 60_000, async () => {
      const got = (await admin.must('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
    // Established is not yet served: wait until every version lists.
    for (const version of crd.versions) {
      await waitFor(`${name}/${version} to be served`, 60_000, async () =>
        (await admin.request('GET', `/apis/${crd.group}/${version}/${crd.plural}?limit=1`)).status === 200
          ? true
          : undefined,
      );
    }
  }
}

async function setReaderRules(admin: KubeClient, name: string, rules: readonly PolicyRule[]): Promise<void> {
  const path = `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`;
  const current = (await admin.must('GET', path)) as { rules?: PolicyRule[] };
  await admin.must('PUT', path, { ...current, rules });
  // The RBAC authorizer follows ClusterRoles through an informer: wait until it answers `list` as
  // the new rules say for every (group, resource) that the old or the new rules name.
  const pairs = new Set([...(current.rules ?? []), ...rules].flatMap(groupResourcePairs));
  await waitFor('the RBAC authorizer to see the new ClusterRole', 30_000, async () => {
    for (const pair of pairs) {
      const [group = '', resource = ''] = pair.split('/');
      const review = (await admin.must('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: READER.arn, groups: [READER_GROUP], resourceAttributes: { verb: 'list', group, resource } },
      })) as { status?: { allowed?: boolean } };
      if (Boolean(review.status?.allowed) !== rulesAllow(rules, 'list', group, resource)) return undefined;
    }
    return true;
  });
}

/** `group/resource` for every pair a rule names (`*` resources stand for one concrete resource). */
function groupResourcePairs(rule: PolicyRule): string[] {
  return (rule.apiGroups ?? []).flatMap((g) =>
    (rule.resources ?? []).map((r) => `${g}/${r === '*' ? 'k8srequiredlabels' : r}`),
  );
}

/** True when some rule grants `verb` on `group/resource` (wildcards included). */
export function rulesAllow(rules: readonly PolicyRule[], verb: string, group: string, resource: string): boolean {
  const has = (list: readonly string[] | undefined, value: string): boolean =>
    (list ?? []).some((x) => x === '*' || x === value);
  return rules.some((r) => has(r.verbs, verb) && has(r.apiGroups, group) && has(r.resources, resource));
}

/** Where each kind a deploy manifest may hold is served: [apiVersion, plural, namespaced]. */
const APPLY_PATHS: Readonly<Record<string, readonly [string, string, boolean]>> = {
  ClusterRole: ['rbac.authorization.k8s.io/v1', 'clusterroles', false],
  ClusterRoleBinding: ['rbac.authorization.k8s.io/v1', 'clusterrolebindings', false],
  Role: ['rbac.authorization.k8s.io/v1', 'roles', true],
  RoleBinding: ['rbac.authorization.k8s.io/v1', 'rolebindings', true],
  ServiceAccount: ['v1', 'serviceaccounts', true],
  Namespace: ['v1', 'namespaces', false],
};

/** Server-side applies every document of a YAML file (RBAC and a few core kinds). */
export async function applyManifestFile(admin: KubeClient, file: string): Promise<void> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'))
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
    .filter((d) => d !== null);
  for (const doc of docs) {
    const where = APPLY_PATHS[doc.kind ?? ''];
    if (!where || !doc.metadata?.name)
      throw new Error(`${file}: cannot apply a ${doc.kind ?? 'document without kind'}`);
    const [apiVersion, plural, namespaced] = where;
    const base = collectionPath(apiVersion, plural, namespaced ? (doc.metadata.namespace ?? 'default') : undefined);
    await admin.must(
      'PATCH',
      `${base}/${doc.metadata.name}?fieldManager=labelguard-e2e&force=true`,
      doc,
      'application/apply-patch+yaml',
    );
  }
}

/** Every audit event the labelguard-readers group caused, parsed. */
export async function readAuditEvents(controlPlane: ControlPlane): Promise<AuditEvent[]> {
  const text = await readFile(controlPlane.auditLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}

export interface AuditEvent {
  readonly verb: string;
  readonly requestURI: string;
  readonly stage: string;
  readonly user: { readonly username: string; readonly groups?: readonly string[] };
  readonly objectRef?: { readonly resource?: string; readonly apiGroup?: string; readonly namespace?: string };
  readonly responseStatus?: { readonly code?: number };
}
