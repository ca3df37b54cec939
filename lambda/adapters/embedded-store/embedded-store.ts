/**
 * The embedded store: dynalite (a DynamoDB emulator on LevelDB) started in this process on
 * 127.0.0.1 with an ephemeral port, its data in a directory, used through the very same DynamoDB
 * adapter as the AWS table. One process per directory: a second one gets StoreInUseError (two
 * processes on one LevelDB directory would crash).
 */
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { StoreError } from '../../errors.js';
import type { Clock, Logger, Store } from '../../ports.js';
import { createDynamoStore, type DynamoStoreOptions } from '../dynamo/store.js';
import { ensureTable } from '../dynamo/table.js';
import { acquireDirLock, type DirLockOptions } from './dir-lock.js';

export const DEFAULT_STORE_DIR = '.labelguard/data';
export const EMBEDDED_TABLE = 'labelguard';

export interface EmbeddedStoreOptions {
  /** The data directory (created when missing). */
  readonly dir: string;
  readonly retentionDays: number;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Passed to the DynamoDB adapter (lease and paging settings, for tests). */
  readonly tuning?: Pick<DynamoStoreOptions, 'leaseMs' | 'waitMs' | 'pollMs' | 'pageSize' | 'writeConcurrency'>;
  readonly lock?: DirLockOptions;
}

export interface EmbeddedStore {
  readonly store: Store;
  /** The emulator's client and table, for tools that talk to it directly (benchmarks, tests). */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly endpoint: string;
  readonly dir: string;
  /** Stops the emulator (flushing its data) and releases the directory. */
  close(): Promise<void>;
}

export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const lock = await acquireDirLock(options.dir, options.lock);
  let server: ReturnType<typeof dynalite> | undefined;
  let client: DynamoDBClient | undefined;
  try {
    server = dynalite({ path: join(options.dir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(0, '127.0.0.1', () => {
        listening.off('error', reject);
        resolve();
      });
    });
    const { port } = listening.address() as AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    client = new DynamoDBClient({
      endpoint,
      region: 'local',
      credentials: { accessKeyId: 'labelguard', secretAccessKey: 'embedded' },
      maxAttempts: 3,
    });
    await ensureTable(client, EMBEDDED_TABLE);
    const store = createDynamoStore({
      client,
      tableName: EMBEDDED_TABLE,
      retentionDays: options.retentionDays,
      clock: options.clock,
      holder: `embedded:${process.pid}`,
      exclusive: true,
      ...(options.logger ? { logger: options.logger } : {}),
      ...options.tuning,
    });
    const opened = { server: listening, client };
    let closed = false;
    return {
      store,
      client,
      tableName: EMBEDDED_TABLE,
      endpoint,
      dir: options.dir,
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        await stop(opened.server, opened.client);
        await lock.release();
      },
    };
  } catch (e) {
    await stop(server, client).catch(() => undefined);
    await lock.release();
    throw e instanceof StoreError
      ? e
      : new StoreError(
          `cannot start the embedded store in ${options.dir}: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
  }
}

async function stop(
  server: ReturnType<typeof dynalite> | undefined,
  client: DynamoDBClient | undefined,
): Promise<void> {
  client?.destroy();
  if (server === undefined || !server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
}
