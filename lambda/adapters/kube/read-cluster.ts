/**
 * Reads one cluster into a ClusterSnapshot: namespaces, NetworkPolicies, and every installed policy
 * kind, each list paged (`limit` + `continue`, restarted on 410 Expired), each ending with one
 * KindRead: complete, not-installed, forbidden or failed with the reason.
 *
 * An incomplete read is unknown, never empty: a namespace list that did not complete gives
 * `namespaces: null`. A failure that concerns the whole cluster (credentials rejected, unreachable,
 * TLS) stops the other requests to it at once; when nothing at all could be read, every kind is
 * reported failed with that one reason (a kind left out would read as "none").
 */
import type { ClusterSnapshot, InputProblem, KindRead, Namespace, ResourceObject } from '../../audit/index.js';
import type { KubeClient, Page, PageRequest } from './client.js';
import { discoverPolicyKinds, readStatusOf, undiscoveredReads, type ServedKind } from './discovery.js';
import { KubeRequestError, type KubeErrorKind } from './errors.js';
import { NETWORK_POLICIES, resourceName } from './kinds.js';
import { isProblem, toNamespace, toResourceObject, type ListedKind } from './map.js';

export interface ReadClusterOptions {
  /** Items per page (`limit`). Default 500. */
  readonly pageSize?: number;
  /** How often one list may restart after its continue token expired (410). Default 3. */
  readonly maxListRestarts?: number;
  /**
   * Ask for a list's next page as soon as the head of the current one shows its continue token.
   * Default true; false waits for each page to arrive and be parsed first.
   */
  readonly readAhead?: boolean;
}

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_MAX_LIST_RESTARTS = 3;

/** Failures of the connection or the credentials rather than of one resource. */
const TRANSPORT_FAILURES: ReadonlySet<KubeErrorKind> = new Set([
  'unauthorized',
  'unreachable',
  'tls',
  'timeout',
  'connection-reset',
  'cancelled',
  'config',
]);

interface KindOutcome<T> {
  readonly resource: string;
  readonly items: T[] | null;
  readonly error?: KubeRequestError;
}

export async function readCluster(
  client: KubeClient,
  cluster: string,
  options: ReadClusterOptions = {},
): Promise<ClusterSnapshot> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxRestarts = options.maxListRestarts ?? DEFAULT_MAX_LIST_RESTARTS;
  const readAhead = options.readAhead ?? true;
  const problems: InputProblem[] = [];
  let answered = false;

  const giveUpOn = (e: unknown): KubeRequestError => {
    const error = e instanceof KubeRequestError ? e : new KubeRequestError('invalid-response', String(e));
    if (error.clusterLevel) client.abort(error);
    return error;
  };

  async function readKind<I, T extends object>(
    resource: string,
    fetchPage: (page: PageRequest) => Promise<Page<I>>,
    map: (item: I) => T | InputProblem,
  ): Promise<KindOutcome<T>> {
    try {
      const items = await listAll(fetchPage, map, pageSize, maxRestarts, problems, readAhead);
      answered = true;
      return { resource, items };
    } catch (e) {
      return { resource, items: null, error: giveUpOn(e) };
    }
  }

  const listCustom = (k: ServedKind): Promise<KindOutcome<ResourceObject>> =>
    readKind(
      k.resource,
      (page) => client.listResource(k, page),
      (item: unknown) => toResourceObject(item, k),
    );

  const namespacesRead = readKind('namespaces', (page) => client.listNamespaces(page), toNamespace);
  const networkPoliciesRead = readKind(
    resourceName(NETWORK_POLICIES.plural, NETWORK_POLICIES.group),
    (page) => client.listResource(NETWORK_POLICIES, page),
    (item: unknown) => toResourceObject(item, NETWORK_POLICIES as ListedKind),
  );
  const customReads = discoverPolicyKinds(client).then(
    async (discovery) => {
      answered = true;
      return { reads: discovery.reads, outcomes: await Promise.all(discovery.served.map(listCustom)) };
    },
    (e: unknown) => ({ error: giveUpOn(e) }),
  );

  const [namespaces, networkPolicies, custom] = await Promise.all([namespacesRead, networkPoliciesRead, customReads]);
  const clusterError = client.signal.aborted ? (client.signal.reason as KubeRequestError) : undefined;

  // Nothing answered and the cause is the transport or the credentials: nothing is known, for one
  // reason. Every kind is reported unread with it (an admission kind left out would read as "none").
  const cause = clusterError ?? namespaces.error;
  if (!answered && cause !== undefined && TRANSPORT_FAILURES.has(cause.kind)) {
    return {
      cluster,
      namespaces: null,
      objects: [],
      reads: [
        { resource: 'namespaces', status: 'failed', reason: cause.message },
        { resource: networkPolicies.resource, status: 'failed', reason: cause.message },
        ...undiscoveredReads(cause, cause.message),
      ],
      problems: [],
    };
  }

  const reads: KindRead[] = [];
  const objects: ResourceObject[] = [];
  const record = <T>(outcome: KindOutcome<T>, builtIn: boolean): void => {
    if (outcome.items !== null) {
      reads.push({ resource: outcome.resource, status: 'complete' });
      return;
    }
    const error = outcome.error?.kind === 'cancelled' && clusterError ? clusterError : outcome.error;
    const status = error === undefined ? 'failed' : readStatusOf(error);
    // A built-in resource is always served: a 404 means a broken server or proxy, not "not installed".
    reads.push({
      resource: outcome.resource,
      status: builtIn && status === 'not-installed' ? 'failed' : status,
      reason: error?.message ?? 'unknown error',
    });
  };

  record(namespaces, true);
  record(networkPolicies, true);
  append(objects, networkPolicies.items);
  if ('error' in custom) {
    reads.push(...undiscoveredReads(custom.error.kind === 'cancelled' && clusterError ? clusterError : custom.error));
  } else {
    reads.push(...custom.reads.filter((r) => r.status !== 'not-installed'));
    for (const outcome of custom.outcomes) {
      record(outcome, false);
      append(objects, outcome.items);
    }
    reads.push(...custom.reads.filter((r) => r.status === 'not-installed'));
  }

  return {
    cluster,
    namespaces: namespaces.items satisfies Namespace[] | null,
    objects,
    reads,
    problems,
  };
}

/** Appends without spreading (a spread of 100,000 items would overflow the call stack). */
function append<T>(into: T[], items: readonly T[] | null): void {
  if (items !== null) for (const item of items) into.push(item);
}

/**
 * Every item of one list, page by page, mapped as each page arrives (raw pages are not kept).
 * A 410 Expired on a continued page restarts the list from the beginning, at most `maxRestarts` times.
 *
 * Pages are asked for ahead: as soon as the head of a page's body shows the next continue token,
 * the next page is requested, while this one is still arriving and being parsed. A page asked for
 * ahead is used only when the page before it, fully parsed, names the same token; otherwise it is
 * dropped and the page asked for again with the token the body names.
 */
export async function listAll<I, T extends object>(
  fetchPage: (page: PageRequest) => Promise<Page<I>>,
  map: (item: I) => T | InputProblem,
  pageSize: number,
  maxRestarts: number,
  problems: InputProblem[],
  readAhead = true,
): Promise<T[]> {
  interface Asked {
    page: Promise<Page<I>>;
    /** The next page, asked for ahead from this one's head. */
    next?: { readonly token: string; readonly asked: Asked };
  }
  // Pages of an attempt that was restarted, or of a list done with, ask for nothing more ahead.
  let attempt = 0;
  const ask = (token: string | undefined): Asked => {
    const of = attempt;
    const asked: Asked = { page: Promise.resolve({ items: [], continueToken: undefined }) };
    asked.page = fetchPage({
      limit: pageSize,
      ...(token === undefined ? {} : { continueToken: token }),
      ...(readAhead
        ? {
            onContinueToken: (next: string) => {
              if (of === attempt && asked.next === undefined) asked.next = { token: next, asked: ask(next) };
            },
          }
        : {}),
    });
    // Pages asked for ahead may end up unused: their failures are not unhandled.
    asked.page.catch(() => undefined);
    return asked;
  };

  try {
    for (let restart = 0; ; restart++, attempt++) {
      const items: T[] = [];
      const pageProblems: InputProblem[] = [];
      let token: string | undefined;
      let current = ask(undefined);
      try {
        for (;;) {
          const page = await current.page;
          for (const raw of page.items) {
            const mapped = map(raw);
            if (isProblem(mapped)) pageProblems.push(mapped);
            else items.push(mapped);
          }
          token = page.continueToken;
          if (token === undefined) break;
          current = current.next?.token === token ? current.next.asked : ask(token);
        }
        append(problems, pageProblems);
        return items;
      } catch (e) {
        const expired = e instanceof KubeRequestError && e.kind === 'expired' && token !== undefined;
        if (!expired) throw e;
        if (restart >= maxRestarts) {
          throw new KubeRequestError('expired', `${e.message} (the list was restarted ${maxRestarts} times)`, {
            status: 410,
          });
        }
      }
    }
  } finally {
    attempt = -1;
  }
}
