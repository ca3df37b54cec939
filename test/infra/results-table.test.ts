import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STORE_ACTIONS } from '../../infra/constructs/results-table.js';

const DYNAMO_DIR = new URL('../../lambda/adapters/dynamo/', import.meta.url);

/** The IAM action of a DynamoDB (document) client command. */
function actionOf(command: string): string {
  const name = command.replace(/Command$/, '');
  const item = ['Get', 'Put', 'Update', 'Delete', 'BatchGet', 'BatchWrite'].includes(name) ? `${name}Item` : name;
  return `dynamodb:${item.replace(/^Transact(Get|Write)$/, 'Transact$1Items')}`;
}

describe('ResultsTable.grantStoreAccess', () => {
  it('grants exactly the actions the store and the outbox send', () => {
    const used = new Set<string>();
    for (const file of readdirSync(DYNAMO_DIR).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(new URL(file, DYNAMO_DIR), 'utf8');
      for (const m of text.matchAll(/new (\w+Command)\(/g)) used.add(actionOf(m[1]!));
    }
    // CreateTable/DescribeTable make the embedded store's table (ensureTable); the stack makes the AWS one.
    used.delete('dynamodb:CreateTable');
    used.delete('dynamodb:DescribeTable');
    expect([...used].sort()).toEqual([...STORE_ACTIONS].sort());
  });

  it('is all the Lambda needs: it never creates or describes the table', () => {
    for (const file of ['handler.ts', 'lambda-runtime.ts']) {
      expect(readFileSync(new URL(`../../lambda/${file}`, import.meta.url), 'utf8')).not.toMatch(
        /ensureTable|embedded-store/,
      );
    }
  });
});
