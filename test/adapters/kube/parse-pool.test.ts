/** Large list bodies parse on worker threads: same values and same errors as parsing in place. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonBody, WORKER_MIN_BYTES } from '../../../lambda/adapters/kube/parse-pool.js';

const namespaceList = (n: number) => ({
  kind: 'NamespaceList',
  apiVersion: 'v1',
  metadata: { continue: 'abc', resourceVersion: '7' },
  items: Array.from({ length: n }, (_, i) => ({
    metadata: {
      name: `ns-${i}`,
      labels: { ns: `ns-${i}`, 'kubernetes.io/metadata.name': `ns-${i}`, ünï: 'cödé ✓' },
      uid: `uid-${i}`,
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  })),
});

const policyList = (n: number) => ({
  kind: 'NetworkPolicyList',
  metadata: {},
  items: Array.from({ length: n }, (_, i) => ({
    metadata: {
      name: `p-${i}`,
      namespace: 'shop',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', keep: 'me' },
      managedFields: [{ manager: 'kubectl' }],
    },
    spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'x' } } }] }] },
  })),
});

describe('parseJsonBody', () => {
  it('parses a large namespace list on a thread and keeps name and labels only', async () => {
    const list = namespaceList(600);
    const body = Buffer.from(JSON.stringify(list));
    expect(body.length).toBeGreaterThan(WORKER_MIN_BYTES);
    const parsed = (await parseJsonBody(body, 'namespaces')) as ReturnType<typeof namespaceList>;
    expect(parsed.metadata).toEqual(list.metadata);
    expect(parsed.items).toEqual(
      list.items.map((i) => ({ metadata: { name: i.metadata.name, labels: i.metadata.labels } })),
    );
  });

  it('hands back odd namespace items from a thread exactly as JSON.parse has them', async () => {
    const odd = [
      { metadata: { name: 'no-labels' } },
      { metadata: { labels: { a: 'no name' } } },
      { metadata: { name: 'string-labels', labels: 'x' } },
      { metadata: { name: 'array-labels', labels: ['a'] } },
      { metadata: { name: 'null-labels', labels: null } },
      { metadata: { name: 'odd-values', labels: { zero: 0, minusZero: -0, t: true, o: { x: 1 }, n: null } } },
      { metadata: { name: 'proto', labels: { ['__proto__']: 'p', after: 'a' } } },
      { metadata: { name: 'shared', labels: { ns: 'shared', again: 'shared' } } },
      null,
      { spec: {} },
    ];
    const text = JSON.stringify({ ...namespaceList(600), items: [...odd, ...namespaceList(600).items] }).replace(
      '"minusZero":0',
      '"minusZero":-0',
    );
    expect(text.length).toBeGreaterThan(WORKER_MIN_BYTES);
    const expected = JSON.parse(text) as { items: ({ metadata?: { name?: unknown; labels?: unknown } } | null)[] };
    expected.items = expected.items.map((item) => {
      const m = item?.metadata;
      return m === undefined ? { metadata: { name: undefined } } : { metadata: { name: m.name, labels: m.labels } };
    });
    const parsed = (await parseJsonBody(Buffer.from(text), 'namespaces')) as typeof expected;
    expect(parsed.items).toEqual(expected.items);
    const minusZero = (parsed.items[5]?.metadata?.labels as Record<string, number>).minusZero;
    expect(Object.is(minusZero, -0)).toBe(true);
    expect(Object.keys(parsed.items[6]?.metadata?.labels ?? {})).toEqual(['__proto__', 'after']);
    expect(Object.getPrototypeOf(parsed.items[6]?.metadata?.labels)).toBe(Object.prototype);
  });

  it('keeps name and labels of any namespace list exactly as JSON.parse has them (any labels and managedFields)', async () => {
    // Keys and values made of JSON's own markers: quotes, escapes, brackets, `"managedFields":[`.
    const tricky = fc.oneof(
      fc.string(),
      fc.constantFrom('"managedFields":[', 'managedFields', '\\', '\\"', ']}', '[{', 'k:{"type":"Ready"}', 'ü✓'),
    );
    const item = fc.record({
      name: tricky,
      labels: fc.option(fc.dictionary(tricky, tricky, { maxKeys: 4 }), { nil: undefined }),
      annotations: fc.option(fc.dictionary(tricky, tricky, { maxKeys: 2 }), { nil: undefined }),
      managedFields: fc.option(fc.array(fc.record({ manager: tricky, fieldsV1: fc.jsonValue({ maxDepth: 3 }) })), {
        nil: undefined,
      }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 8 }), async (items) => {
        const list = {
          kind: 'NamespaceList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '9' },
          items: items.map((i) => ({
            metadata: {
              name: i.name,
              ...(i.labels === undefined ? {} : { labels: i.labels }),
              ...(i.annotations === undefined ? {} : { annotations: i.annotations }),
              ...(i.managedFields === undefined ? {} : { managedFields: i.managedFields }),
            },
            spec: { finalizers: ['kubernetes'] },
          })),
          // Padding past the thread threshold, after the items.
          padding: 'x'.repeat(WORKER_MIN_BYTES),
        };
        const text = JSON.stringify(list);
        const parsed = (await parseJsonBody(Buffer.from(text), 'namespaces')) as typeof list;
        const whole = JSON.parse(text) as typeof list;
        expect(parsed.items).toEqual(
          whole.items.map((i) => ({ metadata: { name: i.metadata.name, labels: i.metadata.labels } })),
        );
        expect(parsed.padding).toBe(whole.padding);
      }),
      { numRuns: 200 },
    );
  });

  it('a namespace list cut short inside managedFields fails with the SyntaxError of the body as sent', async () => {
    const text = `{"items":[{"metadata":{"name":"a","managedFields":[{"f":"${'y'.repeat(WORKER_MIN_BYTES)}"}`;
    let expected: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      expected = e;
    }
    await expect(parseJsonBody(Buffer.from(text), 'namespaces')).rejects.toThrow((expected as Error).message);
  });

  it('drops managedFields and the last-applied annotation of objects, nothing else', async () => {
    const list = policyList(400);
    const body = Buffer.from(JSON.stringify(list));
    expect(body.length).toBeGreaterThan(WORKER_MIN_BYTES);
    const parsed = (await parseJsonBody(body, 'objects')) as ReturnType<typeof policyList>;
    expect(parsed.items).toHaveLength(400);
    expect(parsed.items[7]).toEqual({
      metadata: { name: 'p-7', namespace: 'shop', annotations: { keep: 'me' } },
      spec: list.items[7]!.spec,
    });
  });

  it('gives the same value on a thread as in place, for small and large bodies alike', async () => {
    for (const n of [3, 600]) {
      const text = JSON.stringify(namespaceList(n));
      expect(await parseJsonBody(Buffer.from(text), 'none')).toEqual(JSON.parse(text));
    }
  });

  it('rejects a body that is not JSON with the SyntaxError JSON.parse gives', async () => {
    const text = JSON.stringify(namespaceList(600));
    for (const cut of [text.slice(0, 100), text.slice(0, text.length - 10)]) {
      let expected: unknown;
      try {
        JSON.parse(cut);
      } catch (e) {
        expected = e;
      }
      const got = await parseJsonBody(Buffer.from(cut), 'namespaces').catch((e: unknown) => e);
      expect(got).toBeInstanceOf(SyntaxError);
      expect((got as Error).message).toBe((expected as Error).message);
    }
  });

  it('parses many bodies at once, each to its own result', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => namespaceList(300 + i));
    const parsed = await Promise.all(bodies.map((b) => parseJsonBody(Buffer.from(JSON.stringify(b)), 'namespaces')));
    expect(parsed.map((p) => (p as { items: unknown[] }).items.length)).toEqual(bodies.map((b) => b.items.length));
  });

  it('reads a buffer that is a view into a larger one', async () => {
    const text = JSON.stringify(namespaceList(500));
    const big = Buffer.from(`xxxx${text}yyyy`);
    const view = big.subarray(4, 4 + Buffer.byteLength(text));
    expect(await parseJsonBody(view, 'none')).toEqual(JSON.parse(text));
    expect(big.subarray(0, 4).toString()).toBe('xxxx'); // the larger buffer is not handed away
  });
});

describe('parseJsonBody in a minified bundle', () => {
  it.each([
    ['minified, as in the CLI and Lambda bundles', false],
    ['with names kept, as the TypeScript runner runs `npm start`', true],
  ])('still runs its worker from source text (%s)', async (_, keepNames) => {
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'labelguard-parse-pool-'));
    try {
      const outfile = join(dir, 'bundle.mjs');
      await build({
        keepNames,
        entryPoints: [fileURLToPath(new URL('../../../lambda/adapters/kube/parse-pool.ts', import.meta.url))],
        outfile,
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
        logLevel: 'silent',
      });
      const bundled = (await import(pathToFileURL(outfile).href)) as { parseJsonBody: typeof parseJsonBody };
      const list = namespaceList(700);
      const body = Buffer.from(JSON.stringify(list));
      expect(body.length).toBeGreaterThan(WORKER_MIN_BYTES);
      const parsed = (await bundled.parseJsonBody(body, 'namespaces')) as ReturnType<typeof namespaceList>;
      expect(parsed.items.map((i) => i.metadata.name)).toEqual(list.items.map((i) => i.metadata.name));
      expect(parsed.items[3]?.metadata.labels).toEqual(list.items[3]?.metadata.labels);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
