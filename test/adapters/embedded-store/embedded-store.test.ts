import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../../lambda/adapters/embedded-store/dir-lock.js';
import { openEmbeddedStore, type EmbeddedStore } from '../../../lambda/adapters/embedded-store/embedded-store.js';
import { StoreInUseError } from '../../../lambda/errors.js';
import { createTestClock, DAY1, day, recordRun, shopSnapshot } from '../../helpers/history-scenario.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

let dir: string;
const opened: EmbeddedStore[] = [];

async function open(): Promise<EmbeddedStore> {
  const store = await openEmbeddedStore({ dir, retentionDays: 400, clock: createTestClock(day(1)) });
  opened.push(store);
  return store;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'labelguard-embedded-'));
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the embedded store', () => {
  it('runs dynalite in this process on 127.0.0.1 and keeps its data in the directory across restarts', async () => {
    const first = await open();
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await recordRun(first.store, shopSnapshot(DAY1), day(1));
    await first.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const second = await open();
    expect(await second.store.clusters()).toEqual(['shop']);
    expect((await second.store.verify('shop')).ok).toBe(true);
  });

  it('refuses a second user of the same directory with "store in use"', async () => {
    await open();
    const refused = openEmbeddedStore({ dir, retentionDays: 400, clock: createTestClock() });
    await expect(refused).rejects.toBeInstanceOf(StoreInUseError);
    await expect(refused).rejects.toThrow(/store in use: .* is used by another labelguard process \(pid \d+ on /);
  });

  it('gives a second process on the same directory a clear "store in use" error, not a crash', async () => {
    await open();
    const config = join(dir, 'no-wait.yaml');
    await writeFile(config, 'store:\n  lockWaitSeconds: 0\n');
    const args = [join(ROOT, 'lambda/cli/main.ts'), 'verify', '--store-dir', dir, '--config', config];
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^labelguard: store in use: /);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('waits a while for the other user to finish before giving up', async () => {
    const first = await open();
    const waiting = openEmbeddedStore({
      dir,
      retentionDays: 400,
      clock: createTestClock(),
      lock: { waitMs: 5_000, pollMs: 20 },
    });
    setTimeout(() => void first.close(), 200);
    const second = await waiting;
    opened.push(second);
    expect(await second.store.clusters()).toEqual([]);
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: '2026-01-01T00:00:00.000Z', token: 'dead' }),
    );
    const store = await open();
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(await store.store.clusters()).toEqual([]);
  });
});
