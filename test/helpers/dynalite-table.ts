/**
 * A real DynamoDB protocol endpoint for tests: dynalite on 127.0.0.1 (ephemeral port), in memory
 * or on a directory, with the store's table created. `writes` counts write requests by operation
 * (an SDK middleware on the client, not a stub: every request still goes to the emulator).
 */
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ensureTable } from '../../lambda/adapters/dynamo/table.js';

export const TEST_TABLE = 'labelguard-test';

const WRITE_OPERATIONS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

export interface DynaliteTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Write requests sent since the last reset, by command name. */
  readonly writes: Map<string, number>;
  writeCount(): number;
  resetWrites(): void;
  /** Called before each request with the command name (to inject faults). */
  onRequest: ((command: string) => Promise<void> | void) | null;
  /** Stops the emulator (the client's next request fails as a dead endpoint would). */
  stopServer(): Promise<void>;
  /** Starts a new emulator on the same directory and points a fresh client at it. */
  restart(): Promise<DynaliteTable>;
  close(): Promise<void>;
}

export async function startDynaliteTable(options: { path?: string; tableName?: string } = {}): Promise<DynaliteTable> {
  const tableName = options.tableName ?? TEST_TABLE;
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 2,
  });
  const writes = new Map<string, number>();
  const table: DynaliteTable = {
    client,
    tableName,
    writes,
    writeCount: () => [...writes.values()].reduce((a, b) => a + b, 0),
    resetWrites: () => writes.clear(),
    onRequest: null,
    stopServer: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
    restart: async () => {
      await table.close();
      return startDynaliteTable(options);
    },
    close: async () => {
      client.destroy();
      await table.stopServer();
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      await table.onRequest?.(command);
      if (WRITE_OPERATIONS.has(command)) writes.set(command, (writes.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  await ensureTable(client, tableName);
  return table;
}
