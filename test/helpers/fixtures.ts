/** Loads fixture clusters (kubectl-style YAML) into snapshots and evaluates them with default settings. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseManifestText, snapshotFromObjects } from '../../lambda/adapters/manifests/read-manifests.js';
import {
  DEFAULT_AUDIT_SETTINGS,
  evaluateCluster,
  type AuditSettings,
  type ClusterResult,
  type ClusterSnapshot,
} from '../../lambda/audit/index.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const SHARED_VECTORS = fileURLToPath(new URL('../../../shared/reference/vectors/', import.meta.url));
export const NOW = '2026-11-25T00:00:00.000Z';

export function snapshotOfText(text: string, cluster = 'test', file = 'inline.yaml'): ClusterSnapshot {
  const parsed = parseManifestText(text, file);
  const snap = snapshotFromObjects(cluster, parsed.objects);
  return { ...snap, problems: [...parsed.problems, ...snap.problems] };
}

export function fixtureSnapshot(name: string, cluster = name): ClusterSnapshot {
  const file = `${FIXTURES}clusters/${name}.yaml`;
  return snapshotOfText(readFileSync(file, 'utf8'), cluster, file);
}

export function settings(overrides: Partial<AuditSettings> = {}): AuditSettings {
  return { ...DEFAULT_AUDIT_SETTINGS, now: NOW, ...overrides };
}

export function evaluateFixture(name: string, overrides: Partial<AuditSettings> = {}): ClusterResult {
  return evaluateCluster(fixtureSnapshot(name), settings(overrides));
}
