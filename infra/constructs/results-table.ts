/**
 * The history store's DynamoDB table: the keys and index come from the store's own table
 * definition (`lambda/adapters/dynamo/table.ts`), so the table the Lambda writes and the one the
 * embedded store creates cannot drift apart. On-demand, point-in-time recovery, TTL on the store's
 * expiry attribute, deletion protection, retained when the stack goes.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { AttributeDefinition, CreateTableCommandInput, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { TTL_ATTRIBUTE, tableDefinition } from '../../lambda/adapters/dynamo/table.js';

/**
 * The DynamoDB actions the history store and the notification outbox send
 * (lambda/adapters/dynamo): nothing else is granted. A test checks this list against the commands
 * their code constructs. (CreateTable/DescribeTable serve the embedded store only.)
 */
export const STORE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const;

export interface ResultsTableProps {
  /** A customer managed KMS key (ARN) to encrypt the table with; a DynamoDB owned key when absent. */
  readonly kmsKeyArn?: string;
}

export class ResultsTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly encryptionKey: kms.IKey | undefined;
  /** The index names the store queries. */
  readonly indexNames: readonly string[];

  constructor(scope: Construct, id: string, props: ResultsTableProps = {}) {
    super(scope, id);
    const definition: CreateTableCommandInput = tableDefinition('labelguard');
    const key = (
      schema: readonly KeySchemaElement[] | undefined,
      type: 'HASH' | 'RANGE',
    ): dynamodb.Attribute | undefined => {
      const name = schema?.find((k) => k.KeyType === type)?.AttributeName;
      return name === undefined ? undefined : attributeOf(definition.AttributeDefinitions ?? [], name);
    };
    const partitionKey = key(definition.KeySchema, 'HASH');
    if (partitionKey === undefined) throw new Error('the store table definition has no partition key');
    const sortKey = key(definition.KeySchema, 'RANGE');

    const indexes = (definition.GlobalSecondaryIndexes ?? []).map((index): dynamodb.GlobalSecondaryIndexPropsV2 => {
      const indexPartitionKey = key(index.KeySchema, 'HASH');
      if (index.IndexName === undefined || indexPartitionKey === undefined) {
        throw new Error('the store table definition has an index without a name or partition key');
      }
      const indexSortKey = key(index.KeySchema, 'RANGE');
      return {
        indexName: index.IndexName,
        partitionKey: indexPartitionKey,
        ...(indexSortKey ? { sortKey: indexSortKey } : {}),
        projectionType: projectionOf(index.Projection?.ProjectionType),
      };
    });
    this.indexNames = indexes.map((i) => i.indexName);

    this.encryptionKey =
      props.kmsKeyArn === undefined ? undefined : kms.Key.fromKeyArn(this, 'EncryptionKey', props.kmsKeyArn);

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey,
      ...(sortKey ? { sortKey } : {}),
      globalSecondaryIndexes: indexes,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption:
        this.encryptionKey === undefined
          ? dynamodb.TableEncryptionV2.dynamoOwnedKey()
          : dynamodb.TableEncryptionV2.customerManagedKey(this.encryptionKey),
    });
  }

  /** Lets `grantee` do exactly what the store does: its actions on the table and its indexes, and the key's use. */
  grantStoreAccess(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'HistoryStore',
        actions: [...STORE_ACTIONS],
        resources: [
          this.table.tableArn,
          ...this.indexNames.map((name) =>
            stack.formatArn({
              service: 'dynamodb',
              resource: 'table',
              resourceName: `${this.table.tableName}/index/${name}`,
            }),
          ),
        ],
      }),
    );
    if (this.encryptionKey) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'HistoryStoreKey',
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
          // Only through DynamoDB, for this table's items.
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
        }),
      );
    }
  }
}

function attributeOf(definitions: readonly AttributeDefinition[], name: string): dynamodb.Attribute {
  const type = definitions.find((d) => d.AttributeName === name)?.AttributeType;
  const types: Record<string, dynamodb.AttributeType> = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  };
  const attributeType = type === undefined ? undefined : types[type];
  if (attributeType === undefined) throw new Error(`the store table definition gives attribute ${name} no known type`);
  return { name, type: attributeType };
}

function projectionOf(type: string | undefined): dynamodb.ProjectionType {
  if (type === 'KEYS_ONLY') return dynamodb.ProjectionType.KEYS_ONLY;
  if (type === 'INCLUDE')
    throw new Error('INCLUDE projections are not mapped: list the attributes here when the store uses one');
  return dynamodb.ProjectionType.ALL;
}
