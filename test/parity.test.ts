/**
 * Parity with the classic audit: on generated dumps, the namespaces label-missing reports for `ns`
 * are exactly what `jq -r '.items[] | select(.metadata.labels.ns == null) | .metadata.name'` prints.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCluster } from '../bench/generate.js';
import { evaluateCluster } from '../lambda/audit/index.js';
import { settings, snapshotOfText } from './helpers/fixtures.js';

describe('parity with the jq label audit', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: label-missing for ns equals jq's output`, () => {
      const dump = generateCluster({ namespaces: 400, policies: 50, seed });
      // `kubectl get namespace -o json` holds only namespaces, as the classic audit reads it.
      const namespaces = {
        apiVersion: 'v1',
        kind: 'List',
        items: dump.items.filter((i) => (i as { kind: string }).kind === 'Namespace'),
      };
      const file = join(mkdtempSync(join(tmpdir(), 'lg-parity-')), 'ns.json');
      const text = JSON.stringify(namespaces);
      writeFileSync(file, text);
      const jq = execFileSync('jq', ['-r', '.items[] | select(.metadata.labels.ns == null) | .metadata.name', file], {
        encoding: 'utf8',
      });
      const expected = jq.split('\n').filter(Boolean).sort();
      expect(expected.length).toBeGreaterThan(0);
      const result = evaluateCluster(snapshotOfText(text, 'parity', file), settings({ exclude: [] }));
      const missing = result.findings.filter((f) => f.rule === 'label-missing').map((f) => f.namespace);
      expect(missing.sort()).toEqual(expected);
    });
  }
});
