/**
 * Reading a list's continue token from the head of its body, and reading pages ahead with it:
 * the token read early is never a different one than the parsed body names, and a page asked for
 * ahead is used only when the body confirms its token.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LIST_HEAD_MAX_BYTES,
  MORE,
  NONE,
  continueTokenFromHead,
  listHeadReader,
} from '../../../lambda/adapters/kube/list-head.js';
import type { Page, PageRequest } from '../../../lambda/adapters/kube/client.js';
import { KubeRequestError } from '../../../lambda/adapters/kube/errors.js';
import { listAll } from '../../../lambda/adapters/kube/read-cluster.js';

const apiServerList = (token: string | undefined, items: unknown[] = [{ metadata: { name: 'a' } }]): string =>
  JSON.stringify({
    kind: 'NamespaceList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '1042', ...(token ? { continue: token, remainingItemCount: 700 } : {}) },
    items,
  });

describe('continueTokenFromHead', () => {
  it('reads the token of a list as the API server writes it, from its head alone', () => {
    const text = apiServerList('eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTA0Miwic3RhcnQiOiJucy0wMDQ5OVx1MDAwMCJ9');
    const head = text.slice(0, text.indexOf('"items"') + 3);
    expect(continueTokenFromHead(head)).toEqual({
      token: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTA0Miwic3RhcnQiOiJucy0wMDQ5OVx1MDAwMCJ9',
    });
    expect(continueTokenFromHead(text.slice(0, text.indexOf('"continue"') + 5))).toBe(MORE);
    expect(continueTokenFromHead('')).toBe(MORE);
  });

  it('says NONE on the last page, for items before metadata, and for what is not a JSON object', () => {
    expect(continueTokenFromHead(apiServerList(undefined))).toBe(NONE);
    expect(continueTokenFromHead('{"items":[],"metadata":{"continue":"x"}}')).toBe(NONE);
    expect(continueTokenFromHead('<html><body>Sign in</body></html>')).toBe(NONE);
    expect(continueTokenFromHead('[{"metadata":{"continue":"x"}}]')).toBe(NONE);
    expect(continueTokenFromHead('{"metadata":"continue"}')).toBe(NONE);
    expect(continueTokenFromHead('{"metadata":{"continue":""},"items":[]}')).toBe(NONE);
    expect(continueTokenFromHead('{"metadata":{"continue":7},"items":[]}')).toBe(NONE);
    expect(continueTokenFromHead('{"kind" "x"}')).toBe(NONE);
  });

  it('skips any values before metadata: strings with escapes and braces, nested objects, numbers', () => {
    const text =
      '{ "kind" : "A\\"}{[" , "n": -1.5e3, "t": true, "o": {"a": ["}", {"b": "\\\\"}]}, "metadata": {"continue": "tok\\u00e9"}, "items": []}';
    expect(continueTokenFromHead(text)).toEqual({ token: 'toké' });
    for (let i = 0; i < text.indexOf('"metadata"') + 10; i++)
      expect(continueTokenFromHead(text.slice(0, i))).toBe(MORE);
  });

  it('never names a token the parsed body does not (any object, any prefix)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
        fc.option(fc.string({ minLength: 1 })),
        fc.boolean(),
        (rest, token, metadataFirst) => {
          const metadata = token === null ? { resourceVersion: '1' } : { continue: token };
          const value = metadataFirst ? { metadata, ...rest } : { ...rest, metadata };
          const text = JSON.stringify(value);
          const parsed = (JSON.parse(text) as { metadata?: { continue?: unknown } }).metadata?.continue;
          for (let i = 0; i <= text.length; i++) {
            const early = continueTokenFromHead(text.slice(0, i));
            if (typeof early === 'object') expect(early.token).toBe(parsed);
            else expect([MORE, NONE]).toContain(early);
          }
        },
      ),
    );
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const got = continueTokenFromHead(text);
        if (typeof got === 'object') expect(typeof got.token).toBe('string');
        else expect([MORE, NONE]).toContain(got);
      }),
    );
  });
});

describe('listHeadReader', () => {
  it('finds the token across chunk boundaries, even inside a multi-byte character, and only once', () => {
    const text = Buffer.from(apiServerList('tök€n'));
    for (let cut = 1; cut < 80; cut++) {
      const found: string[] = [];
      const feed = listHeadReader((t) => found.push(t));
      feed(text.subarray(0, cut));
      feed(text.subarray(cut, cut + 3));
      feed(text.subarray(cut + 3));
      feed(text);
      expect(found).toEqual(['tök€n']);
    }
  });

  it('never throws into the stream that feeds it, whatever its callback does', () => {
    const feed = listHeadReader(() => {
      throw new Error('boom');
    });
    expect(() => feed(Buffer.from(apiServerList('tok')))).not.toThrow();
  });

  it('gives up after the first 64 KiB without a decision, and says nothing on the last page', () => {
    const found: string[] = [];
    const feed = listHeadReader((t) => found.push(t));
    feed(Buffer.from(`{"kind":"${'x'.repeat(LIST_HEAD_MAX_BYTES)}`));
    feed(Buffer.from('","metadata":{"continue":"late"},"items":[]}'));
    const last = listHeadReader((t) => found.push(t));
    last(Buffer.from(apiServerList(undefined)));
    expect(found).toEqual([]);
  });
});

/** A list served page by page; `early` is what each page's head says (default: its real token). */
function pagedList(pages: string[][], early: (index: number, token: string) => string | undefined = (_, t) => t) {
  const asked: (string | undefined)[] = [];
  const tokenOf = (i: number): string => `page-${i}`;
  const fetchPage = async (request: PageRequest): Promise<Page<string>> => {
    asked.push(request.continueToken);
    const index = request.continueToken === undefined ? 0 : Number(request.continueToken.slice(5));
    const next = index + 1 < pages.length ? tokenOf(index + 1) : undefined;
    await Promise.resolve();
    const said = next === undefined ? undefined : early(index, next);
    if (said !== undefined) request.onContinueToken?.(said);
    await new Promise((r) => setTimeout(r, 1));
    return { items: pages[index] ?? [], continueToken: next };
  };
  return { fetchPage, asked };
}

describe('listAll reading ahead', () => {
  it('asks each page once, ahead of the page before it finishing, and keeps their order', async () => {
    const { fetchPage, asked } = pagedList([['a', 'b'], ['c'], ['d', 'e']]);
    const items = await listAll(fetchPage, (name) => ({ name }), 2, 3, []);
    expect(items.map((i) => i.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(asked).toEqual([undefined, 'page-1', 'page-2']);
  });

  it('drops a page asked ahead with a token the parsed body does not confirm, and asks the right one', async () => {
    const { fetchPage, asked } = pagedList([['a'], ['b'], ['c']], (index, token) => (index === 0 ? 'page-2' : token));
    const items = await listAll(fetchPage, (name) => ({ name }), 1, 3, []);
    expect(items.map((i) => i.name)).toEqual(['a', 'b', 'c']);
    expect(asked.slice(0, 2)).toEqual([undefined, 'page-2']);
    expect(asked).toContain('page-1');
  });

  it('a page asked ahead that fails fails the list only when the list gets to it', async () => {
    let calls = 0;
    const fetchPage = async (request: PageRequest): Promise<Page<string>> => {
      calls++;
      if (request.continueToken === undefined) {
        request.onContinueToken?.('next');
        await new Promise((r) => setTimeout(r, 5));
        return { items: ['a'], continueToken: 'next' };
      }
      throw new KubeRequestError('forbidden', 'namespaces is forbidden', { status: 403 });
    };
    await expect(listAll(fetchPage, (name) => ({ name }), 1, 3, [])).rejects.toThrow(/forbidden/);
    expect(calls).toBe(2);
  });
});
