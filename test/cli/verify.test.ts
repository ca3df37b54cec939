import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../lambda/adapters/embedded-store/embedded-store.js';
import { scanCommand } from '../../lambda/cli/scan.js';
import { verifyCommand } from '../../lambda/cli/verify.js';
import { captureOutput } from '../helpers/capture-output.js';
import { createTestClock, day } from '../helpers/history-scenario.js';
import { SHOP_DAY1, SHOP_DAY2, writeShopDays } from '../helpers/shop-days.js';

let root: string;
let storeDir: string;

beforeAll(async () => {
  root = await writeShopDays([SHOP_DAY1, SHOP_DAY2]);
  storeDir = join(root, 'store');
  for (const [i, dir] of ['day1', 'day2', 'day1'].entries()) {
    await captureOutput(() =>
      scanCommand({ manifests: [join(root, dir)], cluster: 'shop', storeDir, runId: day(i + 1), failOn: 'none' }),
    );
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('verify', () => {
  it('walks an intact chain and exits 0', async () => {
    const { value, stdout } = await captureOutput(() => verifyCommand({ storeDir }));
    expect(value).toBe(0);
    expect(stdout).toBe(`shop: chain intact (3 runs: runs 1-3, ${day(1)} to ${day(3)})\n`);
  });

  it('exits 1 naming the first broken link when a record was altered', async () => {
    const embedded = await openEmbeddedStore({ dir: storeDir, retentionDays: 400, clock: createTestClock() });
    try {
      // Someone with write access to the table quietly "fixes" the day-2 label history.
      await DynamoDBDocumentClient.from(embedded.client).send(
        new UpdateCommand({
          TableName: embedded.tableName,
          Key: { pk: 'C#shop', sk: 'NS#team-b#0000000002' },
          UpdateExpression: 'SET #data = :data',
          ExpressionAttributeNames: { '#data': 'data' },
          ExpressionAttributeValues: { ':data': JSON.stringify({ name: 'team-b', labels: { ns: 'team-b' } }) },
        }),
      );
    } finally {
      await embedded.close();
    }
    const { value, stdout } = await captureOutput(() => verifyCommand({ storeDir, cluster: 'shop' }));
    expect(value).toBe(1);
    expect(stdout).toBe(
      `shop: chain BROKEN at run 2 (${day(2)}): changes-mismatch: run 2 (${day(2)}): the items it recorded were altered, added or removed\n`,
    );
    const json = JSON.parse((await captureOutput(() => verifyCommand({ storeDir, format: 'json' }))).stdout) as {
      ok: boolean;
    };
    expect(json.ok).toBe(false);
  });
});
