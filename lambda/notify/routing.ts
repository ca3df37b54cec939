/**
 * Routing: which channel a change goes to. Routes are tried in order and the first whose every
 * condition matches wins; a change no route matches goes to the default channel, or nowhere when
 * there is none. Pure.
 */
import { globMatch, severityRank, type Severity } from '../audit/index.js';
import type { Change } from './changes.js';

export interface RouteMatch {
  /** Cluster name or glob (`*`, `?`). */
  readonly cluster?: string;
  /** Namespace name or glob; never matches a cluster-wide change. */
  readonly namespace?: string;
  /** Rule id or glob: matches a change with a finding (opened or resolved) of such a rule. */
  readonly rule?: string;
  /** Matches changes of this severity or above. */
  readonly minSeverity?: Severity;
}

export interface Route {
  readonly match: RouteMatch;
  readonly channel: string;
  /** Mentions added to the digest (`<!subteam^S0123ABC>`, `<@U0123ABC>`, `<!here>`). */
  readonly mention?: string;
}

/** Where a change goes: the channel and the mention of the route that sent it (null: the default channel). */
export interface Destination {
  readonly channel: string;
  readonly mention: string | null;
  /** The index of the route that matched, or null for the default channel. */
  readonly route: number | null;
}

export function matches(
  match: RouteMatch,
  change: Pick<Change, 'cluster' | 'namespace' | 'rules' | 'severity'>,
): boolean {
  if (match.cluster !== undefined && !globMatch(match.cluster, change.cluster)) return false;
  if (match.namespace !== undefined && (change.namespace === null || !globMatch(match.namespace, change.namespace))) {
    return false;
  }
  if (match.rule !== undefined) {
    const glob = match.rule;
    if (!change.rules.some((r) => globMatch(glob, r))) return false;
  }
  if (match.minSeverity !== undefined && severityRank(change.severity) < severityRank(match.minSeverity)) return false;
  return true;
}

/** The first route that matches, else the default channel, else null (the change is not sent). */
export function routeChange(
  change: Pick<Change, 'cluster' | 'namespace' | 'rules' | 'severity'>,
  routes: readonly Route[],
  defaultChannel: string | null,
): Destination | null {
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (matches(route.match, change)) return { channel: route.channel, mention: route.mention ?? null, route: i };
  }
  return defaultChannel === null ? null : { channel: defaultChannel, mention: null, route: null };
}
