import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../lambda/cli/report.js';
import { scanCommand } from '../../lambda/cli/scan.js';
import type { ChainVerification, RunRecord } from '../../lambda/ports.js';
import { CHART_FILL, formatEvidenceHtml } from '../../lambda/report/evidence-html.js';
import { captureOutput } from '../helpers/capture-output.js';
import { chromiumAvailable, renderInChromium } from '../helpers/chromium.js';
import { day } from '../helpers/history-scenario.js';
import { countColour, decodePng } from '../helpers/png.js';
import { buildFinding, buildReport } from '../helpers/report-builder.js';
import { SHOP_DAY1, SHOP_DAY2, SHOP_DAY3, writeShopDays } from '../helpers/shop-days.js';

let root: string;
let html: string;
let file: string;

beforeAll(async () => {
  root = await writeShopDays([SHOP_DAY1, SHOP_DAY2, SHOP_DAY3]);
  const storeDir = join(root, 'store');
  for (const [i, dir] of ['day1', 'day2', 'day2', 'day3', 'day1'].entries()) {
    await captureOutput(() =>
      scanCommand({ manifests: [join(root, dir)], cluster: 'shop', storeDir, runId: day(i + 1), failOn: 'none' }),
    );
  }
  file = join(root, 'evidence.html');
  await captureOutput(() =>
    reportCommand({ storeDir, at: '2026-03-04T12:00:00Z', since: '2026-03-01', format: 'html', out: file }),
  );
  html = await readFile(file, 'utf8');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const intact: ChainVerification = {
  cluster: 'c',
  ok: true,
  runs: 1,
  first: null,
  last: null,
  startsAfterExpiry: false,
  broken: null,
};

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    cluster: 'prod-eu',
    seq: 1,
    runId: '2025-06-01T00:00:00.000Z',
    startedAt: '2025-06-01T00:00:00.000Z',
    finishedAt: '2025-06-01T00:00:01.000Z',
    status: 'complete',
    errors: [],
    reads: [],
    counts: {
      namespaces: 4,
      policies: 1,
      findings: 1,
      waived: 0,
      bySeverity: { critical: 0, high: 1, medium: 0, low: 0, info: 0 },
      namespacesWithFindings: 1,
    },
    configHash: 'h',
    toolVersion: 't',
    selection: {
      engines: { ciliumNamespaceLabels: 'cross-namespace', istioRootNamespace: 'istio-system' },
      synthesizeNameLabel: true,
    },
    retentionDays: 400,
    expiresAt: 0,
    stateHash: null,
    changes: { namespaces: 0, policies: 0, findings: 0, events: 0, digest: 'd' },
    prevHash: null,
    prevRunId: null,
    hash: 'x',
    ...overrides,
  };
}

describe('the HTML evidence report', () => {
  it('is one self-contained file: no scripts, nothing loaded, a policy that forbids both', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=/i);
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
  });

  it('holds the chart, the open findings with when they were first seen, the drift, the chain and the query', () => {
    expect(html).toContain(`fill="${CHART_FILL}"`);
    expect(html).toContain('Compliance of shop over time: 4 runs');
    expect(html).toMatch(
      /<td class="sev-high">high<\/td><td><code>namespace-unprotected<\/code><\/td><td>sandbox<\/td>.*<td>2026-03-01T06:00:00.000Z<\/td>/,
    );
    expect(html).toContain('label `ns` removed from `team-b` (was `team-b`)');
    expect(html).toContain('<span class="ok">Intact</span>: 5 run records checked');
    expect(html).toContain(
      '<code>labelguard report --at 2026-03-04T12:00:00.000Z --since 2026-03-01T00:00:00.000Z --format html</code>',
    );
    expect(html).toContain('Namespace label compliance as of <time>2026-03-04T12:00:00.000Z</time>');
  });

  it('escapes everything that came from a cluster', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const out = formatEvidenceHtml({
      report: buildReport({ findings: [buildFinding({ namespace: hostile, message: `"${hostile}"` })] }),
      at: '2025-06-02T00:00:00.000Z',
      since: '2025-05-01T00:00:00.000Z',
      generatedAt: '2025-06-02T00:00:00.000Z',
      toolVersion: '0.1.0',
      query: `labelguard report --cluster '${hostile}'`,
      store: 'embedded store .labelguard/data',
      clusters: [
        {
          cluster: 'prod-eu',
          runs: [run(), run({ seq: 2, runId: '2025-06-01T12:00:00.000Z', status: 'failed' })],
          verification: {
            ...intact,
            ok: false,
            broken: { seq: 2, runId: null, reason: 'hash-mismatch', message: hostile },
          },
          drift: [],
        },
      ],
      firstSeen: () => undefined,
    });
    expect(out).not.toContain('<img');
    expect(out).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(out).toContain('<span class="broken">Broken</span> at run 2');
    expect(out).toContain('fill="#dc2626"'); // the failed run is marked on the chart
  });

  it.skipIf(!chromiumAvailable() && !process.env.CI)(
    'renders in headless Chromium with no console errors, and the screenshot shows the chart',
    async () => {
      const rendered = await renderInChromium(file);
      expect(rendered.console).toEqual([]);
      const image = decodePng(rendered.png);
      expect(image.width).toBeGreaterThan(1000);
      // The chart's area is drawn in its own colour: thousands of pixels of it.
      expect(countColour(image, CHART_FILL)).toBeGreaterThan(5_000);
    },
  );

  it.skipIf(!chromiumAvailable() && !process.env.CI)('would see a console error (the check itself works)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'labelguard-broken-'));
    const broken = join(dir, 'broken.html');
    await writeFile(broken, '<!doctype html><title>x</title><script>undefinedFunction()</script>');
    const rendered = await renderInChromium(broken, { width: 200, height: 200 }).finally(() =>
      rm(dir, { recursive: true, force: true }),
    );
    expect(rendered.console.join('\n')).toMatch(/Uncaught ReferenceError: undefinedFunction is not defined/);
    expect(countColour(decodePng(rendered.png), CHART_FILL)).toBe(0);
  });
});
