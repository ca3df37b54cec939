/**
 * The single-table design (docs/history.md): every item of a cluster lives under the partition
 * `C#<cluster>`; the sort key says what it is. Run records are also indexed by time (GSI `byTime`).
 *
 *   pk               sk                              item
 *   C#<cluster>      HEAD                            the cluster's lease (who is recording a run)
 *   C#<cluster>      RUN#<seq>                       a run record: one link of the hash chain (the commit point)
 *   C#<cluster>      NS#<namespace>#<seq>            a namespace's labels from run <seq> on (null: deleted)
 *   C#<cluster>      POL#<group|Kind|ns|name>#<seq>  a policy object from run <seq> on (null: deleted)
 *   C#<cluster>      FND#<finding hash>#<seq>        a finding opened, changed or resolved at run <seq>
 *   C#<cluster>      EVT#<seq>#<chunk>               the drift events of run <seq>, in chunks
 *   CLUSTERS         <cluster>                       one per cluster, to list them
 *
 * GSI `byTime` (tpk = RUNS#<cluster>, tsk = scheduled time) indexes run records; GSI `current`
 * (cpk = CUR#<cluster>, csk = sk) indexes the versions that are current.
 *
 * Sequence numbers are zero-padded so sort keys sort by run. Items written by a run carry its
 * `seq`; anything with a seq above the cluster's latest run record is uncommitted and ignored.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
/** The GSI over run records: partition `RUNS#<cluster>`, sort key the run's scheduled time. */
export const TIME_INDEX = 'byTime';
export const TIME_PK = 'tpk';
export const TIME_SK = 'tsk';
/**
 * The sparse GSI over the versions that are current (a namespace's labels, a policy, an open
 * finding): partition `CUR#<cluster>`, sort key the item's own. A version leaves it when a later one
 * replaces it, so a run reads the state it diffs against in O(cluster), not O(history).
 */
export const CURRENT_INDEX = 'current';
export const CURRENT_PK = 'cpk';
export const CURRENT_SK = 'csk';
/** The TTL attribute (epoch seconds); TTL itself is enabled on the AWS table by infra. */
export const TTL_ATTRIBUTE = 'expiresAt';

export const CLUSTERS_PK = 'CLUSTERS';
export const HEAD_SK = 'HEAD';

const pad = (n: number, width = 10): string => String(n).padStart(width, '0');

export const keys = {
  cluster: (cluster: string): string => `C#${cluster}`,
  runsByTime: (cluster: string): string => `RUNS#${cluster}`,
  current: (cluster: string): string => `CUR#${cluster}`,
  run: (seq: number): string => `RUN#${pad(seq)}`,
  namespace: (name: string, seq: number): string => `NS#${name}#${pad(seq)}`,
  policy: (key: string, seq: number): string => `POL#${key}#${pad(seq)}`,
  finding: (hash: string, seq: number): string => `FND#${hash}#${pad(seq)}`,
  events: (seq: number, chunk: number): string => `EVT#${pad(seq)}#${pad(chunk, 4)}`,
  /** The lowest events key of run `seq` and every later run. */
  eventsFrom: (seq: number): string => `EVT#${pad(seq)}`,
  /** Above every events key of run `seq`. */
  eventsTo: (seq: number): string => `EVT#${pad(seq)}#~`,
};

export type VersionPrefix = 'NS#' | 'POL#' | 'FND#';

/** The entity a version item belongs to: the part of the sort key between its prefix and its seq. */
export function entityOf(sk: string): string {
  return sk.slice(sk.indexOf('#') + 1, sk.lastIndexOf('#'));
}

/** The table as labelguard creates it for the embedded store (infra defines the same one on AWS, with TTL). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PK, AttributeType: 'S' },
      { AttributeName: SK, AttributeType: 'S' },
      { AttributeName: TIME_PK, AttributeType: 'S' },
      { AttributeName: TIME_SK, AttributeType: 'S' },
      { AttributeName: CURRENT_PK, AttributeType: 'S' },
      { AttributeName: CURRENT_SK, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TIME_INDEX,
        KeySchema: [
          { AttributeName: TIME_PK, KeyType: 'HASH' },
          { AttributeName: TIME_SK, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: CURRENT_INDEX,
        KeySchema: [
          { AttributeName: CURRENT_PK, KeyType: 'HASH' },
          { AttributeName: CURRENT_SK, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Creates the table unless it exists, and waits until it is active. */
export async function ensureTable(client: DynamoDBClient, tableName: string, timeoutMs = 30_000): Promise<void> {
  const status = async (): Promise<string | undefined> => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
    } catch (e) {
      if (e instanceof ResourceNotFoundException) return undefined;
      throw e;
    }
  };
  let current = await status();
  if (current === undefined) {
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
    } catch (e) {
      // Created meanwhile by someone else: fine.
      if (!(e instanceof Error && e.name === 'ResourceInUseException')) throw e;
    }
    current = await status();
  }
  const deadline = Date.now() + timeoutMs;
  while (current !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${tableName} is ${current ?? 'missing'} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    current = await status();
  }
}
