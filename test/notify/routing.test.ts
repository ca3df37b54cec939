import { describe, expect, it } from 'vitest';
import type { Severity } from '../../lambda/audit/index.js';
import { routeChange, type Route } from '../../lambda/notify/routing.js';

const ROUTES: Route[] = [
  {
    match: { cluster: 'prod-*', rule: 'label-*', minSeverity: 'high' },
    channel: '#sec-prod',
    mention: '<!subteam^S0SECOPS>',
  },
  { match: { namespace: 'payments-*' }, channel: '#payments' },
  { match: { cluster: 'prod-??', minSeverity: 'critical' }, channel: '#incidents', mention: '<!here>' },
  { match: { rule: 'near-miss' }, channel: '#policy-authors' },
];

type Case = [
  what: string,
  cluster: string,
  namespace: string | null,
  rules: string[],
  severity: Severity,
  expected: string | null,
];

const CASES: Case[] = [
  ['every condition of the first route holds', 'prod-eu', 'team-b', ['label-missing'], 'high', '#sec-prod'],
  ['severity above the minimum', 'prod-eu', 'team-b', ['label-invalid'], 'critical', '#sec-prod'],
  ['severity below the minimum falls through', 'prod-eu', 'team-b', ['label-invalid'], 'medium', '#security'],
  ['a rule glob needs a finding of such a rule', 'prod-eu', 'team-b', [], 'high', '#security'],
  ['first match wins over a later one', 'prod-eu', 'payments-api', ['label-missing'], 'high', '#sec-prod'],
  ['a namespace glob', 'staging', 'payments-api', [], 'low', '#payments'],
  ['a namespace glob never matches cluster-wide changes', 'staging', null, [], 'low', '#security'],
  ['? is one character', 'prod-eu', 'team-x', [], 'critical', '#incidents'],
  ['? is exactly one character', 'prod-eu-2', 'team-x', [], 'critical', '#security'],
  ['any rule of the change', 'dev', 'team-z', ['label-missing', 'near-miss'], 'info', '#policy-authors'],
  ['no route: the default channel', 'dev', 'team-z', [], 'info', '#security'],
];

describe('routing', () => {
  it.each(CASES)('%s', (_what, cluster, namespace, rules, severity, expected) => {
    expect(routeChange({ cluster, namespace, rules, severity }, ROUTES, '#security')?.channel ?? null).toBe(expected);
  });

  it('carries the mention of the route that matched, and none for the default channel', () => {
    expect(
      routeChange(
        { cluster: 'prod-eu', namespace: 'a', rules: ['label-missing'], severity: 'high' },
        ROUTES,
        '#security',
      ),
    ).toEqual({
      channel: '#sec-prod',
      mention: '<!subteam^S0SECOPS>',
      route: 0,
    });
    expect(routeChange({ cluster: 'dev', namespace: 'a', rules: [], severity: 'low' }, ROUTES, '#security')).toEqual({
      channel: '#security',
      mention: null,
      route: null,
    });
  });

  it('sends nothing unmatched when there is no default channel', () => {
    expect(routeChange({ cluster: 'dev', namespace: 'a', rules: [], severity: 'low' }, ROUTES, null)).toBeNull();
  });

  it('an empty match takes everything', () => {
    expect(
      routeChange(
        { cluster: 'x', namespace: null, rules: [], severity: 'info' },
        [{ match: {}, channel: 'C0ALL' }],
        null,
      )?.channel,
    ).toBe('C0ALL');
  });
});
