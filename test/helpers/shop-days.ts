/** The demo's `shop` cluster as manifest folders, one per day, in a temporary directory (for CLI tests). */
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Labels } from '../../lambda/audit/index.js';
import { namespacesYaml } from './history-scenario.js';

const EXAMPLES = new URL('../../examples/day1/', import.meta.url).pathname;
const POLICY_FILES = ['monitoring.yaml', 'platform.yaml', 'team-policies.yaml'];

export const SHOP_DAY1: Readonly<Record<string, Labels>> = {
  'team-a': { ns: 'team-a', tenant: 'payments' },
  'team-b': { ns: 'team-b', tenant: 'payments' },
  monitoring: { ns: 'monitoring' },
  ingress: { ns: 'ingress' },
  sandbox: { ns: 'sandbox' },
  'kube-system': {},
};
export const SHOP_DAY2 = {
  ...SHOP_DAY1,
  'team-b': { tenant: 'payments' },
  'team-c': { ns: 'team-c', tenant: 'search' },
};
export const SHOP_DAY3 = { ...SHOP_DAY1, 'team-b': { ns: 'team-b', tenant: 'payments', tier: 'gold' } };

/** A temporary root with one folder per day (`day1`, `day2`, ...), each the examples' policies plus these namespaces. */
export async function writeShopDays(days: readonly Readonly<Record<string, Labels>>[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'labelguard-shop-'));
  for (const [i, namespaces] of days.entries()) {
    const dir = join(root, `day${i + 1}`);
    await mkdir(dir);
    await writeFile(join(dir, 'namespaces.yaml'), namespacesYaml(namespaces));
    for (const file of POLICY_FILES) await copyFile(join(EXAMPLES, file), join(dir, file));
  }
  return root;
}
