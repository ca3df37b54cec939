import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DIGEST_CHANGES,
  FOLLOWUP_CHANGES,
  renderWithStatus,
  SLACK_LIMITS,
  slackLimitProblems,
  slackRenderer,
} from '../../../lambda/adapters/slack/format.js';
import { DRIFT_EVENT_TYPES, type DriftEvent, type Finding } from '../../../lambda/audit/index.js';
import { changeName, type Change } from '../../../lambda/notify/changes.js';
import { planRun } from '../../../lambda/notify/plan.js';
import type { Payload } from '../../../lambda/notify/ports.js';
import { notifySettingsOf } from '../../../lambda/notify/settings.js';
import { event, relabelled } from '../../notify/harness.js';

const RUN = '2026-03-02T06:00:00.000Z';

function digestOf(events: DriftEvent[], findings: Finding[] = [], mention?: string): Payload[] {
  const settings = notifySettingsOf({
    channel: '#security',
    ...(mention === undefined ? {} : { routes: [{ match: {}, channel: '#security', mention }] }),
  });
  const plan = planRun({ cluster: 'prod-eu', runId: RUN, events, findings }, new Map(), settings, slackRenderer);
  return plan.messages.flatMap((m) => (m.payload === null ? [] : [m.payload]));
}

describe('the digest (Block Kit)', () => {
  it('a relabelled namespace: labels before → after, the policies that lost it, the finding, the fix', () => {
    const { events, findings } = relabelled();
    const cilium = { kind: 'CiliumClusterwideNetworkPolicy', namespace: null, name: 'default-deny-teams' };
    const [digest, ...rest] = digestOf(
      [...events, event({ type: 'selection-lost', namespace: 'team-b', policy: cilium, direction: null })],
      findings,
      '<!subteam^S0SECOPS>',
    );
    expect(rest).toEqual([]);
    expect(digest).toEqual({
      text: [
        '<!subteam^S0SECOPS> labelguard: prod-eu: 1 change (1 high) in run 2026-03-02 06:00 UTC',
        '• team-b (high): ns=team-b → ns=team-bb; no longer selected by 2 policies; 1 finding opened',
      ].join('\n'),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: ':red_circle: prod-eu: 1 change (1 high)', emoji: true } },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: '2 policy selections lost · 1 finding opened · run 2026-03-02 06:00 UTC' },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: '<!subteam^S0SECOPS> please review (1 high)' } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: [
              ':red_circle: *team-b* · HIGH',
              '*Labels*',
              '• `ns=team-b` → `ns=team-bb`',
              '*No longer selected by*',
              '• NetworkPolicy `payments/allow-from-team-b` (ingress peer)',
              '• CiliumClusterwideNetworkPolicy `default-deny-teams` (no longer applies to it)',
              '*Opened*',
              '• `label-invalid` namespace `team-b` has `ns=team-bb`, which should be "team-b"',
              '*Fix*',
              '```kubectl label namespace team-b ns=team-b --overwrite```',
            ].join('\n'),
          },
        },
      ],
    });
  });

  it('a deleted namespace, a new one, and a label change nothing depends on', () => {
    const [digest] = digestOf([
      event({ type: 'namespace-deleted', namespace: 'legacy', before: 'ns=legacy,team=old' }),
      event({ type: 'namespace-created', namespace: 'sandbox', after: 'env=dev' }),
      event({ type: 'label-added', namespace: 'team-a', key: 'cost-center', after: 'cc-1234' }),
      event({ type: 'label-removed', namespace: 'team-a', key: 'owner', before: 'alice' }),
    ]);
    expect(digest?.blocks.slice(2)).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':large_yellow_circle: *legacy* · LOW\n*Deleted* (it had `ns=legacy` `team=old`)',
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            ':large_yellow_circle: *team-a* · LOW',
            '*Labels*',
            '• _none_ → `cost-center=cc-1234`',
            '• `owner=alice` → _none_',
            '_No policy selects differently._',
          ].join('\n'),
        },
      },
      { type: 'section', text: { type: 'mrkdwn', text: ':white_circle: *sandbox* · INFO\n*Created* with `env=dev`' } },
    ]);
    expect(digest?.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':large_yellow_circle: prod-eu: 3 changes (2 low, 1 info)', emoji: true },
    });
  });

  it('a label removal that breaks policies gets the command that puts the labels back', () => {
    const [digest] = digestOf([
      event({ type: 'label-removed', namespace: 'team-b', key: 'ns', before: 'team-b' }),
      event({ type: 'label-added', namespace: 'team-b', key: 'quarantine', after: 'true' }),
      event({
        type: 'selection-lost',
        namespace: 'team-b',
        policy: { kind: 'GlobalNetworkPolicy', namespace: null, name: 'allow-dns' },
        direction: null,
      }),
    ]);
    const text = (digest?.blocks[2] as { text: { text: string } }).text.text;
    expect(text.split('\n').slice(-2)).toEqual(['*Fix*', '```kubectl label namespace team-b ns=team-b quarantine-```']);
  });

  it('escapes &, < and > in what it did not write itself, and leaves mentions alone', () => {
    const [digest] = digestOf(
      [
        event({
          type: 'finding-opened',
          namespace: 'team-b',
          key: 'selector-invalid',
          after: 'selector `a<b && c>d` is invalid',
        }),
      ],
      [],
      '<!here>',
    );
    const json = JSON.stringify(digest);
    expect(json).toContain('selector `a&lt;b &amp;&amp; c&gt;d` is invalid');
    expect(json).toContain('<!here> please review');
    expect(digest?.text.startsWith('<!here> labelguard')).toBe(true);
  });

  it('shows the most severe changes and says "and N more", the rest following in the thread', () => {
    const events = Array.from({ length: DIGEST_CHANGES + FOLLOWUP_CHANGES + 5 }, (_, i) =>
      event({ type: 'label-removed', namespace: `ns-${String(i).padStart(3, '0')}`, key: 'team', before: 'x' }),
    );
    events.push(
      event({
        type: 'selection-lost',
        namespace: 'zz-critical',
        policy: { kind: 'NetworkPolicy', namespace: 'a', name: 'b' },
        direction: 'egress',
      }),
    );
    const [digest, ...followups] = digestOf(events);
    expect(followups).toHaveLength(2);
    const sections = (p: Payload): string[] =>
      p.blocks.filter((b) => b.type === 'section').map((b) => (b as { text: { text: string } }).text.text);
    expect(sections(digest!)).toHaveLength(DIGEST_CHANGES);
    expect(sections(digest!)[0]).toMatch(/^:red_circle: \*zz-critical\*/);
    expect(digest?.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '_… and 46 more changes (46 low): the full list is in the thread._' }],
    });
    expect(followups[0]?.blocks[0]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '*prod-eu* · changes 16–55 of 61 · run 2026-03-02 06:00 UTC' }],
    });
    expect(sections(followups[0]!)).toHaveLength(FOLLOWUP_CHANGES);
    expect(sections(followups[1]!)).toHaveLength(6);
  });

  it('shortens a change that would not fit one section, and points to the full history', () => {
    const lost = Array.from({ length: 400 }, (_, i) =>
      event({
        type: 'selection-lost',
        namespace: 'shared',
        policy: { kind: 'NetworkPolicy', namespace: `tenant-${i}`, name: 'allow-from-shared-services-and-more' },
        direction: 'ingress',
      }),
    );
    const [digest] = digestOf(lost);
    const text = (digest?.blocks[2] as { text: { text: string } }).text.text;
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(text).toMatch(/• _… and \d+ more_/);
    expect(text).toContain('`labelguard history --cluster prod-eu --namespace shared`');
  });
});

describe('the status line', () => {
  const parent: Payload = {
    text: 'labelguard: prod-eu: 2 changes',
    blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x' } }],
  };

  it('is added once, replaced by later updates, and prefixes the fallback text', () => {
    const once = renderWithStatus(parent, { runId: RUN, total: 2, resolved: ['team-b'], open: ['(cluster-wide)'] });
    expect(once.blocks.at(-1)).toEqual({
      type: 'context',
      block_id: 'labelguard-status',
      elements: [
        {
          type: 'mrkdwn',
          text: ':white_check_mark: *1 of 2 changes resolved* (as of run 2026-03-02 06:00 UTC): `team-b` · still open: _(cluster-wide)_',
        },
      ],
    });
    expect(once.text).toBe('✅ 1 of 2 resolved · labelguard: prod-eu: 2 changes');
    const twice = renderWithStatus(once, { runId: RUN, total: 2, resolved: ['(cluster-wide)', 'team-b'], open: [] });
    expect(twice.blocks).toHaveLength(2);
    expect(twice.text).toBe('✅ Resolved · labelguard: prod-eu: 2 changes');
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any events make valid payloads

const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
const value = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 2_000, maxLength: 5_000 }) },
);
const policy = fc.record({
  kind: fc.constantFrom('NetworkPolicy', 'CiliumNetworkPolicy', 'GlobalNetworkPolicy', 'AdminNetworkPolicy'),
  namespace: fc.oneof(fc.constant(null), name),
  name: fc.string({ minLength: 1, maxLength: 253 }),
});
const driftEvent = fc.record({
  type: fc.constantFrom(...DRIFT_EVENT_TYPES),
  cluster: fc.constant('prod-eu'),
  namespace: fc.oneof(fc.constant(null), name),
  key: fc.oneof(fc.constant(null), fc.string({ minLength: 1, maxLength: 63 })),
  before: value,
  after: value,
  policy: fc.oneof(fc.constant(null), policy),
  direction: fc.constantFrom(null, 'ingress' as const, 'egress' as const),
});

describe('any events (property)', () => {
  it.each([
    ['any number of events', 0, 400, 60],
    ['many events', 500, 2_000, 8],
  ])('%s make payloads within Slack limits, each change shown exactly once', (_what, minLength, maxLength, numRuns) => {
    fc.assert(
      fc.property(
        fc.array(driftEvent, { minLength, maxLength }),
        fc.array(fc.constantFrom('<!here>', '<!subteam^S0SECOPS>', '<@U0ALICE>'), { maxLength: 3 }),
        (events, mentions) => {
          const plan = planRun(
            { cluster: 'prod-eu', runId: RUN, events, findings: [] },
            new Map(),
            notifySettingsOf({
              channel: '#security',
              routes: mentions.map((mention, i) => ({
                match: { minSeverity: (['high', 'medium', 'low'] as const)[i] ?? 'info' },
                channel: '#security',
                mention,
              })),
            }),
            slackRenderer,
          );
          const payloads = plan.messages.flatMap((m) => (m.payload === null ? [] : [m.payload]));
          for (const p of payloads) expect(slackLimitProblems(p)).toEqual([]);
          // Status lines fit too.
          for (const p of payloads.slice(0, 1)) {
            const updated = renderWithStatus(p, { runId: RUN, total: 3, resolved: ['a'], open: ['b', 'c'] });
            expect(slackLimitProblems(updated)).toEqual([]);
          }
          const changes: readonly Change[] = plan.changes.flatMap((c) => c.changes);
          const shown = payloads
            .flatMap((p) => p.blocks)
            .filter(
              (b) =>
                b.type === 'section' && !String((b as { text: { text: string } }).text.text).includes('please review'),
            );
          expect(shown).toHaveLength(changes.length);
          expect(new Set(changes.map(changeName)).size).toBe(changes.length);
          expect(plan.messages.filter((m) => m.role === 'digest').length).toBe(changes.length === 0 ? 0 : 1);
        },
      ),
      { numRuns },
    );
  });
});
