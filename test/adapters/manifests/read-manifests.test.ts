import fc from 'fast-check';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  createManifestSource,
  defaultClusterName,
  parseManifestText,
  snapshotFromObjects,
} from '../../../lambda/adapters/manifests/read-manifests.js';
import type { ManifestItem } from '../../../lambda/adapters/manifests/read-manifests.js';
import type { ClusterSnapshot } from '../../../lambda/audit/model.js';
import { InputError, UsageError } from '../../../lambda/errors.js';

const FIXTURES = 'test/fixtures/manifests';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'labelguard-manifests-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes `files` (name -> text or bytes) into a fresh folder under the temp dir and returns its path. */
async function folder(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = join(tmp, name);
  for (const [file, content] of Object.entries(files)) {
    const path = join(dir, file);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}

async function readError(paths: string[]): Promise<InputError> {
  const error: unknown = await createManifestSource({ paths })
    .read()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (error instanceof InputError) return error;
  throw new Error(`expected an InputError, got ${String(error)}`);
}

function summary(snapshot: ClusterSnapshot) {
  return snapshot.objects.map((o) => `${o.kind} ${o.namespace ?? '-'}/${o.name} @${o.source?.file}:${o.source?.line}`);
}

function parse(text: string, file = 'in.yaml') {
  const { objects, problems } = parseManifestText(text, file);
  return { items: objects, problems, snapshot: snapshotFromObjects('test', objects) };
}

describe('createManifestSource: a manifest folder', () => {
  it('walks the folder recursively in sorted order, reading only .yaml, .yml and .json files', async () => {
    const snapshot = await createManifestSource({ paths: [`${FIXTURES}/shop-prod`] }).read();
    const dir = `${FIXTURES}/shop-prod`;
    expect(snapshot.cluster).toBe('shop-prod');
    expect(snapshot.namespaces).toEqual([
      { name: 'payments', labels: { ns: 'payments', team: 'payments', 'kubernetes.io/metadata.name': 'payments' } },
      { name: 'checkout', labels: { ns: 'checkout', team: 'storefront', 'kubernetes.io/metadata.name': 'checkout' } },
      { name: 'monitoring', labels: { ns: 'observability', 'kubernetes.io/metadata.name': 'monitoring' } },
      { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
    ]);
    expect(summary(snapshot)).toEqual([
      `Deployment payments/payments-api @${dir}/payments-deployment.yml:1`,
      `CiliumNetworkPolicy checkout/checkout-to-payments @${dir}/policies/checkout-cilium.yaml:1`,
      `NetworkPolicy payments/allow-prometheus-scrape @${dir}/policies/payments-allow-monitoring.yaml:1`,
      `NetworkPolicy payments/allow-from-checkout @${dir}/policies/payments-allow-monitoring.yaml:22`,
    ]);
    expect(snapshot.reads).toEqual([
      { resource: 'namespaces', status: 'complete' },
      { resource: 'policies', status: 'complete' },
    ]);
    expect(snapshot.problems).toEqual([]);
  });

  it('keeps each object whole as its body', async () => {
    const snapshot = await createManifestSource({ paths: [`${FIXTURES}/shop-prod/policies`] }).read();
    const policy = snapshot.objects.find((o) => o.name === 'allow-from-checkout');
    expect(policy).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'payments' });
    expect(policy?.body).toMatchObject({
      metadata: { name: 'allow-from-checkout', namespace: 'payments' },
      spec: { podSelector: { matchLabels: { app: 'payments-api' } } },
    });
  });

  it('skips hidden folders and files, and reads several paths as one cluster', async () => {
    const dir = await folder('hidden', {
      'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n',
      '.git/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: from-git}\n',
      'sub/.cache.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: cached}\n',
      'sub/b.YML': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n',
    });
    const snapshot = await createManifestSource({ paths: [dir, `${FIXTURES}/networkpolicies-list.yaml`] }).read();
    expect(snapshot.cluster).toBe('hidden');
    expect(snapshot.namespaces?.map((n) => n.name)).toEqual(['a', 'b']);
    expect(snapshot.objects.map((o) => o.name)).toEqual(['default-deny', 'allow-ingress-nginx']);
  });

  it('reads a file given twice, or inside a folder also given, once', async () => {
    const dir = await folder('twice', { 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n' });
    const snapshot = await createManifestSource({ paths: [dir, join(dir, 'ns.yaml'), dir] }).read();
    expect(snapshot.namespaces).toHaveLength(1);
    expect(snapshot.problems).toEqual([]);
  });

  it('follows symbolic links and reports broken ones', async () => {
    const dir = await folder('links', { 'real/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n' });
    await symlink(join(dir, 'real'), join(dir, 'linked'));
    await symlink(join(dir, 'real'), join(dir, 'real', 'loop'));
    await symlink(join(dir, 'missing.yaml'), join(dir, 'broken.yaml'));
    const snapshot = await createManifestSource({ paths: [dir] }).read();
    expect(snapshot.namespaces).toEqual([{ name: 'a', labels: {} }]);
    expect(snapshot.problems).toEqual([
      { message: 'broken symbolic link skipped', source: { file: join(dir, 'broken.yaml') } },
    ]);
  });

  it('reads a file named explicitly whatever its extension', async () => {
    const dir = await folder('explicit', {
      'namespaces.txt': '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}',
    });
    const snapshot = await createManifestSource({ paths: [join(dir, 'namespaces.txt')], cluster: 'lab' }).read();
    expect(snapshot.cluster).toBe('lab');
    expect(snapshot.namespaces?.map((n) => n.name)).toEqual(['a']);
  });

  it('names the cluster after the folder or file', () => {
    expect(defaultClusterName('dumps/prod-eu.json')).toBe('prod-eu');
    expect(defaultClusterName('dumps/prod-eu.yaml')).toBe('prod-eu');
    expect(defaultClusterName('clusters/staging/')).toBe('staging');
    expect(defaultClusterName('notes.v2')).toBe('notes.v2');
  });

  it('tells its cluster name before reading', () => {
    expect(createManifestSource({ paths: ['dumps/prod-eu.json'] }).cluster).toBe('prod-eu');
    expect(createManifestSource({ paths: ['a', 'b'], cluster: 'lab' }).cluster).toBe('lab');
  });

  it('needs at least one path', () => {
    expect(() => createManifestSource({ paths: [] })).toThrow(UsageError);
  });
});

describe('kubectl dumps', () => {
  it('flattens a `kubectl get namespaces -o json` List; its items share the line the List starts on', async () => {
    const file = `${FIXTURES}/kubectl-get-namespaces.json`;
    const snapshot = await createManifestSource({ paths: [file] }).read();
    expect(snapshot.cluster).toBe('kubectl-get-namespaces');
    expect(snapshot.namespaces?.map((n) => n.name)).toEqual([
      'default',
      'ingress-nginx',
      'kube-node-lease',
      'kube-public',
      'kube-system',
      'payments',
      'storefront',
    ]);
    expect(snapshot.namespaces?.[1]?.labels).toEqual({
      'app.kubernetes.io/name': 'ingress-nginx',
      'kubernetes.io/metadata.name': 'ingress-nginx',
      ns: 'ingress-nginx',
    });
    expect(snapshot.objects).toEqual([]);
    expect(snapshot.problems).toEqual([]);
  });

  it('gives each item of a YAML List its own line', async () => {
    const snapshot = await createManifestSource({ paths: [`${FIXTURES}/networkpolicies-list.yaml`] }).read();
    expect(summary(snapshot)).toEqual([
      `NetworkPolicy checkout/default-deny @${FIXTURES}/networkpolicies-list.yaml:3`,
      `NetworkPolicy checkout/allow-ingress-nginx @${FIXTURES}/networkpolicies-list.yaml:16`,
    ]);
    expect(snapshot.problems).toEqual([
      { message: 'no Namespace objects found: the audit sees a cluster without namespaces' },
    ]);
  });

  it('flattens typed Lists and Lists inside Lists', () => {
    const { items, problems } = parse(
      [
        'kind: List',
        'apiVersion: v1',
        'items:',
        '  - kind: NamespaceList',
        '    apiVersion: v1',
        '    metadata: {resourceVersion: "1"}',
        '    items:',
        '      - {apiVersion: v1, kind: Namespace, metadata: {name: a}}',
        '      - apiVersion: v1',
        '        kind: Namespace',
        '        metadata: {name: b}',
        '  - kind: NetworkPolicyList',
        '    apiVersion: networking.k8s.io/v1',
        '    items: null',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(items).toEqual([
      {
        obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
        source: { file: 'in.yaml', line: 8 },
        where: 'items[0].items[0]',
      },
      {
        obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } },
        source: { file: 'in.yaml', line: 9 },
        where: 'items[0].items[1]',
      },
    ]);
  });

  it('keeps a *List kind that has a name of its own as an object', () => {
    const { snapshot } = parse('apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: egress}\nitems: [a]\n');
    expect(snapshot.objects.map((o) => o.kind)).toEqual(['AllowList']);
  });

  it('reports a List whose items is not a list', () => {
    const { problems } = parse('apiVersion: v1\nkind: List\nitems: {a: 1}\n');
    expect(problems).toEqual([{ message: 'a List whose items is not an array', source: { file: 'in.yaml', line: 1 } }]);
  });
});

describe('parseManifestText', () => {
  it('reads multi-document YAML, skipping empty documents, with the line each object starts on', () => {
    const { items, problems } = parse(
      [
        '# leading comment',
        '---',
        'apiVersion: v1',
        'kind: Namespace',
        'metadata:',
        '  name: a',
        '---',
        '---',
        '# only a comment',
        '---',
        '',
        '  # indented comment',
        'apiVersion: v1',
        'kind: Namespace',
        'metadata:',
        '  name: b',
        '...',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(items.map((i) => i.source)).toEqual([
      { file: 'in.yaml', line: 3 },
      { file: 'in.yaml', line: 13 },
    ]);
  });

  it('reads a single JSON object and gives it the line its text starts on', () => {
    const { items } = parse('\n\n  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}\n', 'ns.json');
    expect(items).toEqual([
      { obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }, source: { file: 'ns.json', line: 3 } },
    ]);
  });

  it('reads JSON with a byte-order mark, and JSON in a .yaml file', () => {
    expect(parse('\uFEFF{"kind": "List", "items": []}', 'a.json').problems).toEqual([]);
    expect(parse('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}', 'a.yaml').items).toHaveLength(
      1,
    );
  });

  it('reads YAML saved as .json', () => {
    const { snapshot } = parse('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n', 'ns.json');
    expect(snapshot.namespaces).toEqual([{ name: 'a', labels: {} }]);
  });

  it('reads YAML the way Kubernetes does: 1.2 core schema, so unquoted dates stay strings', () => {
    const { snapshot } = parse(
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    since: 2024-01-01\n    tier: yes\n',
    );
    expect(snapshot.namespaces?.[0]?.labels).toEqual({ since: '2024-01-01', tier: 'yes' });
  });

  it('throws an InputError with file and line for malformed YAML', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {team: [payments}\n';
    expect(() => parseManifestText(text, 'ns.yaml')).toThrow(InputError);
    try {
      parseManifestText(text, 'ns.yaml');
    } catch (e) {
      expect(e).toMatchObject({ file: 'ns.yaml', line: 5, code: 'input-invalid' });
      expect((e as Error).message).toMatch(/^ns\.yaml:5: invalid YAML: /);
    }
  });

  it('throws an InputError with file and line for malformed JSON', () => {
    const text = '{\n  "apiVersion": "v1",\n  "kind": "Namespace"\n  "metadata": {"name": "a"}\n}\n';
    try {
      parseManifestText(text, 'ns.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ file: 'ns.json', line: 4 });
      expect((e as Error).message).toMatch(/^ns\.json:4: invalid JSON: /);
    }
  });

  it('reports malformed JSON without a line when the JSON parser gives no position', () => {
    expect(() => parseManifestText('{"kind": "List", "items": [', 'dump.json')).toThrow(/^dump\.json: invalid JSON: /);
  });

  it('reads YAML flow style that is not JSON in a .yaml file', () => {
    expect(parse('{apiVersion: v1, kind: Namespace, metadata: {name: a}}').snapshot.namespaces).toEqual([
      { name: 'a', labels: {} },
    ]);
  });

  it('finds the line of a YAML error in a later document', () => {
    const text =
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n labels: {}\n';
    expect(() => parseManifestText(text, 'two.yaml')).toThrow(/^two\.yaml:9: invalid YAML/);
  });

  it('maps any list of objects written as multi-document YAML back, each at its own line (property)', () => {
    const object = fc.record({
      apiVersion: fc.constantFrom('v1', 'networking.k8s.io/v1', 'cilium.io/v2'),
      kind: fc.constantFrom('Namespace', 'NetworkPolicy', 'ConfigMap'),
      metadata: fc.record({ name: fc.string({ minLength: 1 }), labels: fc.dictionary(fc.string(), fc.string()) }),
      data: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.array(object, { minLength: 1, maxLength: 5 }), (objects) => {
        const docs = objects.map((o) => stringify(o));
        const text = docs.map((d) => `---\n${d}`).join('');
        const { objects: items } = parseManifestText(text, 'p.yaml');
        // Both sides through JSON: YAML keeps -0, JSON writes it as 0.
        const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
        expect(items.map((i) => asJson(i.obj))).toEqual(objects.map(asJson));
        let line = 1;
        docs.forEach((doc, i) => {
          expect(items[i]?.source.line).toBe(line + 1);
          line += 1 + doc.split('\n').length - 1;
        });
      }),
    );
  });
});

describe('snapshotFromObjects', () => {
  it('reports documents that are not objects and objects without apiVersion, kind or metadata.name, and goes on', () => {
    const { snapshot } = parse(
      [
        'just a string',
        '---',
        '- a',
        '- list',
        '---',
        'kind: NetworkPolicy',
        'metadata: {name: x}',
        '---',
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: {labels: {a: b}}',
        '---',
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: {name: ok}',
        '---',
        'apiVersion: v1',
        'kind: ""',
        'metadata: []',
      ].join('\n'),
    );
    expect(snapshot.namespaces).toEqual([{ name: 'ok', labels: {} }]);
    expect(snapshot.problems).toEqual([
      { message: 'expected a Kubernetes object, found a string', source: { file: 'in.yaml', line: 1 } },
      { message: 'expected a Kubernetes object, found a list', source: { file: 'in.yaml', line: 3 } },
      { message: 'not a Kubernetes object: missing apiVersion', source: { file: 'in.yaml', line: 6 } },
      { message: 'not a Kubernetes object: missing metadata.name', source: { file: 'in.yaml', line: 9 } },
      { message: 'not a Kubernetes object: missing kind, metadata.name', source: { file: 'in.yaml', line: 17 } },
    ]);
  });

  it('names the List item a problem is about, since JSON items share a line', () => {
    const { snapshot } = parse(
      JSON.stringify({ kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }, 42] }),
      'dump.json',
    );
    expect(snapshot.problems).toEqual([
      { message: 'items[1]: expected a Kubernetes object, found a number', source: { file: 'dump.json', line: 1 } },
    ]);
  });

  it('keeps a namespace with a label that is not a string, and drops that label', () => {
    const { snapshot } = parse(
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    team: payments\n    tier: 1\n    pci: true\n',
    );
    expect(snapshot.namespaces).toEqual([{ name: 'a', labels: { team: 'payments' } }]);
    expect(snapshot.problems).toEqual([
      {
        message: 'namespace "a": label "tier" is a number, not a string (quote it); label ignored',
        source: { file: 'in.yaml', line: 1 },
      },
      {
        message: 'namespace "a": label "pci" is a boolean, not a string (quote it); label ignored',
        source: { file: 'in.yaml', line: 1 },
      },
    ]);
  });

  it('keeps a "__proto__" label as a plain label', () => {
    const { snapshot } = parse(
      '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"__proto__": "x"}}}',
      'a.json',
    );
    const labels = snapshot.namespaces?.[0]?.labels ?? {};
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.entries(labels)).toEqual([['__proto__', 'x']]);
  });

  it('keeps a namespace whose labels are not a map, without labels', () => {
    const { snapshot } = parse('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: [team]\n');
    expect(snapshot.namespaces).toEqual([{ name: 'a', labels: {} }]);
    expect(snapshot.problems[0]?.message).toBe(
      'namespace "a": metadata.labels must be a map of strings, found a list; labels ignored',
    );
  });

  it('reports a namespace defined twice; the last one wins', () => {
    const { snapshot } = parse(
      [
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {ns: old}}',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: b}',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {ns: a}}',
      ].join('\n---\n'),
    );
    expect(snapshot.namespaces).toEqual([
      { name: 'b', labels: {} },
      { name: 'a', labels: { ns: 'a' } },
    ]);
    expect(snapshot.problems).toEqual([
      {
        message: 'namespace "a" is defined again (first at in.yaml:1); the last one wins',
        source: { file: 'in.yaml', line: 9 },
      },
    ]);
  });

  it('reports an object defined twice (same group, kind, namespace and name); the last one wins', () => {
    const policy = (version: string, port: number) =>
      `apiVersion: networking.k8s.io/${version}\nkind: NetworkPolicy\nmetadata: {name: p, namespace: n}\nspec: {port: ${port}}`;
    const { snapshot } = parse([policy('v1', 1), policy('v1beta1', 2)].join('\n---\n') + '\n---\n' + namespace('n'));
    expect(snapshot.objects).toHaveLength(1);
    expect(snapshot.objects[0]?.body).toMatchObject({ spec: { port: 2 } });
    expect(snapshot.problems).toEqual([
      {
        message: 'NetworkPolicy "n/p" is defined again (first at in.yaml:1); the last one wins',
        source: { file: 'in.yaml', line: 6 },
      },
    ]);
  });

  it('leaves the namespace of an object without metadata.namespace null, for engines to decide', () => {
    const { snapshot } = parse(
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n---\n${namespace('n')}`,
    );
    expect(snapshot.objects[0]?.namespace).toBeNull();
  });

  it('reports an object whose metadata.namespace is not a string, and leaves it out', () => {
    const { snapshot } = parse(
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: 7}\n---\n${namespace('n')}`,
    );
    expect(snapshot.objects).toEqual([]);
    expect(snapshot.problems[0]?.message).toBe('ConfigMap "c": metadata.namespace must be a non-empty string');
  });

  it('keeps huge label values as they are (validating them is the audit’s job)', () => {
    const value = 'x'.repeat(100_000);
    const { snapshot } = parse(
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { team: value } } }),
      'a.json',
    );
    expect(snapshot.namespaces?.[0]?.labels.team).toBe(value);
    expect(snapshot.problems).toEqual([]);
  });

  it('never throws, whatever the objects (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.anything()), (objs) => {
        const items: ManifestItem[] = objs.map((obj, i) => ({ obj, source: { file: 'f.yaml', line: i + 1 } }));
        const snapshot = snapshotFromObjects('c', items);
        expect(snapshot.objects.length + (snapshot.namespaces?.length ?? 0)).toBeLessThanOrEqual(objs.length);
      }),
    );
  });
});

describe('bad input never ends in a stack trace', () => {
  it('a missing path is an InputError naming it', async () => {
    const error = await readError([join(tmp, 'no-such-folder')]);
    expect(error.message).toBe(`${join(tmp, 'no-such-folder')}: no such file or directory`);
  });

  it('a folder without manifest files is an InputError, not an empty cluster', async () => {
    const dir = await folder('empty', { 'README.md': '# nothing here\n' });
    expect((await readError([dir])).message).toBe(`${dir}: no .yaml, .yml or .json files found`);
  });

  it('malformed YAML is an InputError naming the file and line', async () => {
    const dir = await folder('malformed', {
      'a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n',
      'b.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n labels: {}\n',
    });
    const error = await readError([dir]);
    expect(error.file).toBe(join(dir, 'b.yaml'));
    expect(error.line).toBe(5);
    expect(error.message).toMatch(new RegExp(`^${join(dir, 'b.yaml')}:5: invalid YAML: `));
  });

  it('invalid UTF-8 is an InputError naming the file, line and byte offset', async () => {
    const text = Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: caf');
    const bytes = Buffer.concat([text, Buffer.from([0xe9]), Buffer.from('\n')]); // Latin-1 "é"
    const dir = await folder('latin1', { 'ns.yaml': bytes });
    const error = await readError([dir]);
    expect(error.file).toBe(join(dir, 'ns.yaml'));
    expect(error.message).toBe(`${join(dir, 'ns.yaml')}:4: not valid UTF-8: byte 0xe9 at byte offset ${text.length}`);
  });

  it.each([
    ['an overlong encoding', [0xc0, 0xaf], 0],
    ['a surrogate', [0xed, 0xa0, 0x80], 0],
    ['a truncated sequence', [0x41, 0xe2, 0x82], 1],
    ['a stray continuation byte', [0x41, 0x42, 0x80], 2],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
  ])('points at %s', async (name, bytes, offset) => {
    const dir = await folder(`utf8-${name.replace(/\W+/g, '-')}`, { 'x.yaml': new Uint8Array(bytes) });
    expect((await readError([dir])).message).toContain(`at byte offset ${offset}`);
  });

  it('accepts UTF-8 with a byte-order mark and multi-byte characters', async () => {
    const dir = await folder('utf8-ok', {
      'ns.yaml': '\uFEFFapiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations: {owner: "José 🚀"}\n',
    });
    const snapshot = await createManifestSource({ paths: [dir] }).read();
    expect(snapshot.namespaces).toEqual([{ name: 'a', labels: {} }]);
  });

  it('says so when a file is UTF-16 (PowerShell redirection)', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('apiVersion: v1\n', 'utf16le')]);
    const dir = await folder('utf16', { 'ns.yaml': utf16 });
    expect((await readError([dir])).message).toMatch(/:1: not UTF-8: the file is UTF-16 .*save it as UTF-8$/);
  });
});

describe('performance', () => {
  it('reads a 100,000-namespace `kubectl get ns -o json` dump quickly (JSON.parse, not the YAML parser)', async () => {
    const items = Array.from({ length: 100_000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        creationTimestamp: '2024-05-01T10:00:00Z',
        labels: { 'kubernetes.io/metadata.name': `ns-${i}`, ns: `ns-${i}`, team: `team-${i % 40}` },
        name: `ns-${i}`,
        resourceVersion: String(1000 + i),
        uid: `4f6c1b2e-0b1f-4a8e-9d3c-${String(i).padStart(12, '0')}`,
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    }));
    const dir = await folder('big', { 'namespaces.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    const started = performance.now();
    const snapshot = await createManifestSource({ paths: [dir] }).read();
    const elapsed = performance.now() - started;
    expect(snapshot.namespaces).toHaveLength(100_000);
    expect(snapshot.problems).toEqual([]);
    // 1-3 s under vitest on a 2-core machine (JSON.parse itself is 0.4-0.6 s of it); the YAML parser
    // takes about 30 s for the same text, so this bound catches a JSON dump going down the YAML path.
    expect(elapsed).toBeLessThan(10_000);
  });
});

function namespace(name: string): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
}
