import { describe, expect, it } from 'vitest';
import { answerBatchLine } from '../../lambda/cli/match.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

describe('labelguard match --batch (contract)', () => {
  it('answers one JSON line per input, in order, echoing id', async () => {
    const lines = [
      { id: 1, engine: 'kubernetes', selector: 'ns=team-b', labels: { ns: 'team-b' } },
      { id: 'two', engine: 'kubernetes', selector: { matchLabels: { ns: 'team-b' } }, labels: {} },
      { id: 3, engine: 'kubernetes', selector: null, labels: {} },
      { id: 4, engine: 'calico', selector: "has(ns) && ns != 'x'", labels: { ns: 'y' } },
      { id: 5, engine: 'calico', selector: 'ns = "x"' },
      { id: 6, engine: 'kubernetes', selector: 'x in ()' },
      { id: 7, labelKey: 'example.com/team' },
      { id: 8, labelValue: 'not valid!' },
      {
        id: 9,
        engine: 'kubernetes',
        selector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] },
        labels: {},
      },
    ];
    const r = await runCli(['match', '--batch'], {
      input: `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`,
    });
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.slice(0, 8)).toEqual([
      { id: 1, match: true },
      { id: 'two', match: false },
      { id: 3, match: false },
      { id: 4, match: true },
      { id: 5, valid: false, error: expect.any(String) as string },
      { id: 6, valid: true },
      { id: 7, valid: true },
      { id: 8, valid: false },
    ]);
    expect(out[8]).toMatchObject({ id: 9, valid: false });
    expect(out[9]).toMatchObject({ id: null, valid: false });
    expect(out).toHaveLength(10);
  });

  it('NotIn matches a label set without the key (nil vs empty, absent keys)', () => {
    expect(answerBatchLine(JSON.stringify({ id: 1, selector: 'env notin (prod)', labels: {} }))).toEqual({
      id: 1,
      match: true,
    });
    expect(answerBatchLine(JSON.stringify({ id: 2, selector: {}, labels: {} }))).toEqual({ id: 2, match: true });
  });
});

describe('labelguard match (debugger)', () => {
  it('says which term fails', async () => {
    const r = await runCli(['match', '--selector', 'ns=team-b,tier', '--labels', 'tier=web']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no match: fails ns=team-b');
  });
  it('lists every namespace of a dump and why it does not match', async () => {
    const r = await runCli([
      'match',
      '--selector',
      '{"matchLabels":{"ns":"team-b"}}',
      '--manifests',
      `${FIXTURES}clusters/near-miss-violating.yaml`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no match {2}team-b: fails ns=team-b/);
  });
});
