/**
 * The history store a command uses: the DynamoDB table named in the config (`store.table`), or
 * else the embedded store in `--store-dir`, `store.dir` or `.labelguard/data`. Loaded lazily: only
 * commands that record or read history pay for the SDK and the emulator.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { LabelguardError } from '../errors.js';
import type { Config } from '../config.js';
import type { Outbox } from '../notify/ports.js';
import { systemClock, type Logger, type Store } from '../ports.js';

/** How long a command waits for another process using the embedded store (`store.lockWaitSeconds`). */
export const DEFAULT_LOCK_WAIT_SECONDS = 10;

export interface OpenedStore {
  readonly store: Store;
  /** The Slack outbox, in the same table. */
  readonly outbox: Outbox;
  /** Where the history lives, for messages and reports. */
  readonly location: string;
  close(): Promise<void>;
}

export interface StoreChoice {
  /** --store-dir: the embedded store's directory (wins over a configured table). */
  readonly storeDir?: string;
  /** Commands that only read history: a missing embedded store is an error, not a new empty one. */
  readonly mustExist?: boolean;
}

export const stderrLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => process.stderr.write(`labelguard: warning: ${message}\n`),
  error: (message) => process.stderr.write(`labelguard: ${message}\n`),
};

export async function openStore(config: Config, choice: StoreChoice): Promise<OpenedStore> {
  // The SDK warns on every start that future versions will need Node 22: not news for a CLI user.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { table, region, retentionDays } = config.store;
  if (table !== undefined && choice.storeDir === undefined) {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { createDynamoStore } = await import('../adapters/dynamo/store.js');
    const { createDynamoOutbox } = await import('../adapters/dynamo/outbox.js');
    const client = new DynamoDBClient(region === undefined ? {} : { region });
    return {
      store: createDynamoStore({
        client,
        tableName: table,
        retentionDays,
        clock: systemClock,
        holder: `${hostname()}:${process.pid}`,
        logger: stderrLogger,
      }),
      outbox: createDynamoOutbox({ client, tableName: table, retentionDays, clock: systemClock }),
      location: `DynamoDB table ${table}${region === undefined ? '' : ` (${region})`}`,
      close: () => {
        client.destroy();
        return Promise.resolve();
      },
    };
  }
  const { DEFAULT_STORE_DIR, openEmbeddedStore } = await import('../adapters/embedded-store/embedded-store.js');
  const dir = choice.storeDir ?? config.store.dir ?? DEFAULT_STORE_DIR;
  if (choice.mustExist === true && !existsSync(dir)) {
    throw new LabelguardError(
      'no-history',
      `no history in ${dir}: \`labelguard scan\` records runs there (or give --store-dir)`,
    );
  }
  const embedded = await openEmbeddedStore({
    dir,
    retentionDays,
    clock: systemClock,
    logger: stderrLogger,
    lock: { waitMs: (config.store.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS) * 1000 },
  });
  const { createDynamoOutbox } = await import('../adapters/dynamo/outbox.js');
  const outbox = createDynamoOutbox({
    client: embedded.client,
    tableName: embedded.tableName,
    retentionDays,
    clock: systemClock,
  });
  return { store: embedded.store, outbox, location: `embedded store ${dir}`, close: () => embedded.close() };
}
