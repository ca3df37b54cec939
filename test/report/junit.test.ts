import { describe, expect, it } from 'vitest';
import { formatJunit } from '../../lambda/report/junit.js';
import { buildCluster, buildFinding, buildReport, buildSampleReport } from '../helpers/report-builder.js';

interface XmlElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = '[A-Za-z_][-\\w.:]*';
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, where: string): string {
  const bare = raw.replace(ENTITY, '');
  if (bare.includes('&')) throw new Error(`unescaped & in ${where}: ${raw}`);
  if (bare.includes('<')) throw new Error(`unescaped < in ${where}: ${raw}`);
  return raw.replace(ENTITY, (_, named: string | undefined, dec: string | undefined, hex: string | undefined) =>
    named !== undefined ? NAMED[named]! : String.fromCodePoint(dec !== undefined ? Number(dec) : parseInt(hex!, 16)),
  );
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
}

/**
 * A strict little XML reader, enough for what formatJunit writes: the prolog, elements with
 * double-quoted attributes, character data and entity references. Throws on anything malformed.
 */
function parseXml(xml: string): XmlElement {
  for (const char of xml) {
    if (!isXmlChar(char.codePointAt(0)!))
      throw new Error(`character U+${char.codePointAt(0)!.toString(16)} is not allowed`);
  }
  const prolog = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (!xml.startsWith(prolog)) throw new Error('missing XML declaration');
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const token = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}="[^"]*")*)\\s*(/?)>|([^<]+)|(<)`, 'gy');
  token.lastIndex = prolog.length;
  while (token.lastIndex < xml.length) {
    const match = token.exec(xml);
    if (match === null) throw new Error(`cannot parse at ${token.lastIndex}`);
    const [, closing, name, attrs, selfClosing, text, stray] = match;
    const top = stack.at(-1)!;
    if (stray !== undefined)
      throw new Error(`malformed tag at ${match.index}: ${xml.slice(match.index, match.index + 40)}`);
    if (text !== undefined) {
      top.text += decode(text, top.name);
    } else if (closing === '/') {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attributes: Record<string, string> = {};
      for (const [, key, value] of (attrs ?? '').matchAll(new RegExp(`(${NAME})="([^"]*)"`, 'g'))) {
        if (key! in attributes) throw new Error(`duplicate attribute ${key}`);
        attributes[key!] = decode(value!, `${name}@${key}`);
      }
      const element: XmlElement = { name: name!, attributes, children: [], text: '' };
      top.children.push(element);
      if (selfClosing !== '/') stack.push(element);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)!.name}>`);
  const elements = root.children;
  if (elements.length !== 1 || root.text.trim() !== '') throw new Error('a document has exactly one root element');
  return elements[0]!;
}

function all(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...all(child, name)]);
}

function count(element: XmlElement, name: string): number {
  return Number(element.attributes[name]);
}

describe('formatJunit', () => {
  const xml = formatJunit(buildSampleReport());
  const doc = parseXml(xml);
  const suites = all(doc, 'testsuite');

  it('is well-formed, with one testsuite per cluster', () => {
    expect(doc.name).toBe('testsuites');
    expect(suites.map((suite) => suite.attributes['name'])).toEqual(['prod-eu', 'staging-us']);
    expect(xml.endsWith('</testsuites>\n')).toBe(true);
  });

  it('counts add up, per suite and in total', () => {
    for (const suite of suites) {
      const cases = all(suite, 'testcase');
      expect(count(suite, 'tests')).toBe(cases.length);
      expect(count(suite, 'failures')).toBe(all(suite, 'failure').length);
      expect(count(suite, 'errors')).toBe(all(suite, 'error').length);
      expect(count(suite, 'skipped')).toBe(all(suite, 'skipped').length);
    }
    for (const key of ['tests', 'failures', 'errors', 'skipped']) {
      expect(count(doc, key)).toBe(suites.reduce((sum, suite) => sum + count(suite, key), 0));
    }
    expect(doc.attributes).toEqual({ name: 'labelguard', tests: '7', failures: '5', errors: '1', skipped: '1' });
  });

  it('writes a failure per finding, typed by severity, with the fix in the body', () => {
    expect(xml).toContain(
      '    <testcase classname="labelguard.peer-selects-nothing" name="payments/allow-monitoring">\n' +
        '      <failure type="high" message="Ingress rule 1, peer 1 selects no namespace: namespaceSelector team=observability matches nothing">' +
        'fix: kubectl label namespace monitoring team=observability --overwrite\n',
    );
    const checkout = all(doc, 'testcase').find((c) => c.attributes['name'] === 'checkout')!;
    expect(checkout.attributes['classname']).toBe('labelguard.label-missing');
    expect(checkout.children[0]!.text.split('\n')[0]).toBe('fix: kubectl label namespace checkout team=<owner>');
  });

  it('skips waived findings with the reason', () => {
    const legacy = all(doc, 'testcase').find((c) => c.attributes['name'] === 'legacy')!;
    expect(legacy.children).toEqual([
      {
        name: 'skipped',
        attributes: { message: 'waived: Decommissioned in Q3; no new workloads' },
        children: [],
        text: '',
      },
    ]);
  });

  it('gives a cluster that could not be read an error', () => {
    const [error] = all(suites[1]!, 'error');
    expect(error!.attributes).toEqual({
      type: 'failed',
      message: 'list namespaces: Unauthorized (401): the EKS token was rejected',
    });
    expect(error!.text).toContain('incomplete read: networkpolicies.networking.k8s.io failed: Unauthorized (401)');
  });

  it('gives a clean cluster one passing testcase so CI shows it', () => {
    const clean = parseXml(formatJunit(buildReport({ clusters: [buildCluster({ cluster: 'dev' })] })));
    const [suite] = all(clean, 'testsuite');
    expect(suite!.attributes).toEqual({ name: 'dev', tests: '1', failures: '0', errors: '0', skipped: '0' });
    expect(all(suite!, 'testcase')).toEqual([
      { name: 'testcase', attributes: { classname: 'labelguard.cluster', name: 'all checks' }, children: [], text: '' },
    ]);
  });

  it('escapes markup and replaces characters XML 1.0 forbids', () => {
    const hostile = 'a <b> & "c" \'d\' \u0007\u001b[31m ]]> \ud800 end\r\nline 2';
    const report = buildReport({
      clusters: [buildCluster({ cluster: 'c&<"1">' })],
      findings: [buildFinding({ cluster: 'c&<"1">', namespace: 'x<y', message: hostile, fix: `run ${hostile}` })],
    });
    const out = formatJunit(report);
    const parsed = parseXml(out);
    const [suite] = all(parsed, 'testsuite');
    const [testcase] = all(parsed, 'testcase');
    const [failure] = all(parsed, 'failure');
    const safe = 'a <b> & "c" \'d\' \ufffd\ufffd[31m ]]> \ufffd end\r\nline 2';
    expect(suite!.attributes['name']).toBe('c&<"1">');
    expect(testcase!.attributes['name']).toBe('x<y');
    expect(failure!.attributes['message']).toBe(safe);
    expect(failure!.text.split('\ncluster:')[0]).toBe(`fix: run ${safe}`);
    expect(out).not.toContain(']]>');
    expect(out).toContain(
      'message="a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; \ufffd\ufffd[31m ]]&gt; \ufffd end&#13;&#10;line 2"',
    );
  });

  it('rejects malformed XML in its own checker', () => {
    const prolog = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${prolog}<a><b></a></b>`)).toThrow('closes');
    expect(() => parseXml(`${prolog}<a>x & y</a>`)).toThrow('unescaped &');
    expect(() => parseXml(`${prolog}<a b="<"/>`)).toThrow();
    expect(() => parseXml(`${prolog}<a>\u0001</a>`)).toThrow('not allowed');
    expect(() => parseXml(`${prolog}<a>`)).toThrow('unclosed');
  });
});
