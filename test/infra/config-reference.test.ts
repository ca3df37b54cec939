import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DOC, configReference, withReference } from '../../scripts/config-reference.js';

describe('the configuration reference in docs/deploy.md', () => {
  it('is what the schema generates (run `npx tsx scripts/config-reference.ts` after changing the schema)', async () => {
    const doc = readFileSync(DEPLOY_DOC, 'utf8');
    expect(await withReference(doc)).toBe(doc);
  });

  it('has a row for every setting, with its default', () => {
    const reference = configReference();
    for (const path of [
      'requiredLabels[].key',
      'clusters[].accounts[].regions',
      'deploy.schedule.expression',
      'deploy.fanOutConcurrency',
    ]) {
      expect(reference).toContain(`\`${path}\``);
    }
    expect(reference).toContain('| `deploy.schedule.timeZone` | string | `"UTC"` |');
  });
});
