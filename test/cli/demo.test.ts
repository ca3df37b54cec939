import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoCommand } from '../../lambda/cli/demo.js';

async function demo(storeDir?: string): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await demoCommand(storeDir === undefined ? {} : { storeDir }, (t) => (text += t));
  return { code, text };
}

describe('demo (npm start)', () => {
  it('scans two days of one cluster into a fresh store and prints the drift that matters', async () => {
    const { code, text } = await demo();
    expect(code).toBe(0);
    expect(text).toContain('Day 1, 2026-03-01T06:00:00.000Z: run 1 complete');
    expect(text).toContain('label-removed      label `ns` removed from `team-b` (was `team-b`)');
    expect(text).toContain('selection-lost     `monitoring/allow-teams` egress no longer selects `team-b`');
    expect(text).toContain('selection-lost     `GlobalNetworkPolicy/allow-dns` no longer applies to `team-b`');
    expect(text).toContain('namespace-created  namespace `team-c` created with `ns=team-c,tenant=search`');
    expect(text).toContain('shop: chain intact (2 runs');
    const dir = /embedded store (\S+)\.\n/.exec(text)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false); // the fresh store is removed afterwards
  });

  it('keeps the store with --store-dir, and a second demo replays the same runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'labelguard-demo-test-'));
    try {
      const first = await demo(dir);
      const second = await demo(dir);
      expect(second.code).toBe(0);
      expect(second.text).toContain('run 2 complete (already recorded)');
      const drift = (t: string): string => t.slice(t.indexOf('Drift since'), t.indexOf('shop: chain'));
      expect(drift(second.text)).toBe(drift(first.text));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
