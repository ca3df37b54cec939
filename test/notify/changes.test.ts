import { describe, expect, it } from 'vitest';
import { slackRenderer } from '../../lambda/adapters/slack/format.js';
import { changesOf, dedupeFixes, parentStatus, restoreCommand, subjectOf } from '../../lambda/notify/changes.js';
import { planRun } from '../../lambda/notify/plan.js';
import type { SubjectRecord } from '../../lambda/notify/ports.js';
import { notifySettingsOf } from '../../lambda/notify/settings.js';
import { ALLOW_FROM_TEAM_B, event, INVALID_NS, relabelled, restored } from './harness.js';

const RUN1 = '2026-03-02T06:00:00.000Z';
const RUN2 = '2026-03-02T07:00:00.000Z';

/** The subject records run 1's digest leaves. */
function announced(): Map<string, SubjectRecord> {
  const plan = planRun(
    { cluster: 'prod-eu', runId: RUN1, ...relabelled() },
    new Map(),
    notifySettingsOf({ channel: '#security' }),
    slackRenderer,
  );
  return new Map(plan.subjects.map((s) => [s.key, s]));
}

describe('changes of a run', () => {
  it('groups events by namespace, with severity, impact and fix', () => {
    const { changes, resolutions } = changesOf('prod-eu', RUN1, relabelled().events, relabelled().findings, new Map());
    expect(resolutions).toEqual([]);
    expect(changes).toEqual([
      {
        cluster: 'prod-eu',
        namespace: 'team-b',
        severity: 'high',
        created: null,
        deleted: null,
        labels: [{ key: 'ns', before: 'team-b', after: 'team-bb' }],
        lost: [{ policy: ALLOW_FROM_TEAM_B, direction: 'ingress' }],
        gained: [],
        opened: [
          {
            rule: 'label-invalid',
            severity: 'high',
            message: INVALID_NS,
            policy: null,
            fix: 'kubectl label namespace team-b ns=team-b --overwrite',
          },
        ],
        resolved: [],
        fixes: ['kubectl label namespace team-b ns=team-b --overwrite'],
        rules: ['label-invalid'],
        subjects: [
          { key: '["label","team-b","ns"]', baseline: 'team-b' },
          {
            key: '["selection","team-b","NetworkPolicy","payments","allow-from-team-b","ingress"]',
            baseline: 'selected',
          },
          {
            key: `["finding","label-invalid","team-b",null,null,null,${JSON.stringify(INVALID_NS)}]`,
            baseline: 'resolved',
          },
        ],
        tracked: true,
      },
    ]);
  });

  it('takes the severity of an opened finding from the run, else from its rule', () => {
    const e = event({ type: 'finding-opened', namespace: 'a', key: 'peer-selects-nothing', after: 'dead rule' });
    expect(changesOf('c', RUN1, [e], [], new Map()).changes[0]?.severity).toBe('medium');
    const finding = {
      rule: 'peer-selects-nothing' as const,
      severity: 'critical' as const,
      cluster: 'c',
      namespace: 'a',
      policy: null,
      message: 'dead rule',
      fix: null,
    };
    expect(changesOf('c', RUN1, [e], [finding], new Map()).changes[0]?.severity).toBe('critical');
  });

  it('answers what undoes an announcement in its thread instead of announcing it again', () => {
    const { changes, resolutions } = changesOf('prod-eu', RUN2, restored(), [], announced());
    expect(changes).toEqual([]);
    expect(resolutions.map((r) => [r.event.type, r.digest, r.channel])).toEqual([
      ['label-changed', `${RUN1}#0001`, '#security'],
      ['selection-gained', `${RUN1}#0001`, '#security'],
      ['finding-resolved', `${RUN1}#0001`, '#security'],
    ]);
  });

  it('a further change of an announced label is news, and keeps the state before the first announcement', () => {
    const further = event({
      type: 'label-changed',
      namespace: 'team-b',
      key: 'ns',
      before: 'team-bb',
      after: 'team-bbb',
    });
    const { changes, resolutions } = changesOf('prod-eu', RUN2, [further], [], announced());
    expect(resolutions).toEqual([]);
    expect(changes[0]?.subjects).toEqual([{ key: '["label","team-b","ns"]', baseline: 'team-b' }]);
  });

  it('a subject resolved by an earlier run is not resolved again; one this run resolved is (a replay)', () => {
    const records = announced();
    const key = subjectOf(restored()[0]!).key;
    const resolvedEarlier = new Map(records).set(key, {
      ...records.get(key)!,
      resolvedRunId: '2026-03-02T06:30:00.000Z',
    });
    expect(changesOf('prod-eu', RUN2, [restored()[0]!], [], resolvedEarlier).resolutions).toEqual([]);
    const resolvedByThisRun = new Map(records).set(key, { ...records.get(key)!, resolvedRunId: RUN2 });
    expect(changesOf('prod-eu', RUN2, [restored()[0]!], [], resolvedByThisRun).resolutions).toHaveLength(1);
  });

  it('plans the same messages when a run is planned again with the records it wrote itself', () => {
    const settings = notifySettingsOf({ channel: '#security' });
    const first = planRun({ cluster: 'prod-eu', runId: RUN1, ...relabelled() }, new Map(), settings, slackRenderer);
    const own = new Map(first.subjects.map((s) => [s.key, s]));
    const again = planRun({ cluster: 'prod-eu', runId: RUN1, ...relabelled() }, own, settings, slackRenderer);
    expect(again.messages).toEqual(first.messages);
    expect(again.subjects).toEqual(first.subjects);

    const resolving = planRun(
      { cluster: 'prod-eu', runId: RUN2, events: restored(), findings: [] },
      own,
      settings,
      slackRenderer,
    );
    const marked = new Map([...own].map(([k, s]) => [k, { ...s, resolvedRunId: RUN2 }]));
    const replayed = planRun(
      { cluster: 'prod-eu', runId: RUN2, events: restored(), findings: [] },
      marked,
      settings,
      slackRenderer,
    );
    expect(replayed.messages).toEqual(resolving.messages);
  });

  it("leaves a cluster's first run's findings out when announceFirstRun is false", () => {
    const settings = notifySettingsOf({ channel: '#security', announceFirstRun: false });
    const plan = planRun(
      { cluster: 'new', runId: RUN1, firstRun: true, ...relabelled('new') },
      new Map(),
      settings,
      slackRenderer,
    );
    expect(plan.changes.flatMap((c) => c.changes).flatMap((c) => c.opened)).toEqual([]);
  });
});

describe('restore commands and status', () => {
  it('puts labels back: values set, added keys removed, --overwrite only when a value changes', () => {
    expect(restoreCommand('team-b', [{ key: 'ns', before: 'team-b', after: null }])).toBe(
      'kubectl label namespace team-b ns=team-b',
    );
    expect(
      restoreCommand('team-b', [
        { key: 'ns', before: 'team-b', after: 'x' },
        { key: 'a', before: null, after: 'y' },
      ]),
    ).toBe('kubectl label namespace team-b a- ns=team-b --overwrite');
    expect(restoreCommand('team-b', [{ key: 'note', before: "it's odd", after: null }])).toBe(
      "kubectl label namespace team-b note='it'\\''s odd'",
    );
  });

  it('leaves out a fix an earlier command of the same namespace already does', () => {
    expect(
      dedupeFixes([
        'kubectl label namespace team-b ns=team-b tier=gold',
        'kubectl label namespace team-b ns=team-b --overwrite',
        'kubectl label namespace team-c ns=team-b --overwrite',
        'labelguard policy kyverno --mode enforce | kubectl apply -f -',
        'labelguard policy kyverno --mode enforce | kubectl apply -f -',
      ]),
    ).toEqual([
      'kubectl label namespace team-b ns=team-b tier=gold',
      'kubectl label namespace team-c ns=team-b --overwrite',
      'labelguard policy kyverno --mode enforce | kubectl apply -f -',
    ]);
  });

  it('counts a change resolved when every subject of it is', () => {
    const groups = { a1: 'team-a', a2: 'team-a', b1: 'team-b' };
    expect(parentStatus(groups, ['a1', 'b1'], RUN2)).toEqual({
      runId: RUN2,
      total: 2,
      resolved: ['team-b'],
      open: ['team-a'],
    });
    expect(parentStatus(groups, ['a1', 'a2', 'b1'], RUN2)).toEqual({
      runId: RUN2,
      total: 2,
      resolved: ['team-a', 'team-b'],
      open: [],
    });
  });
});
