/**
 * The Kubernetes protobuf decoder against the test API server's encoder (and, in the e2e suite,
 * against kube-apiserver itself): the same names, labels and tokens as the JSON, everything else
 * skipped, and a body cut anywhere is a ProtobufError, never a wrong answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ProtobufError,
  continueTokenFromProtobufHead,
  decodeNamespaceList,
  decodeStatus,
  isProtobuf,
} from '../../../lambda/adapters/kube/protobuf.js';
import { encodeNamespaceList, encodeStatus } from '../../helpers/k8s-protobuf.js';

const labelsArb = fc.dictionary(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), { maxKeys: 5 });
const namespaceArb = fc.record({
  name: fc.string({ unit: 'grapheme', minLength: 1 }),
  labels: fc.option(labelsArb, { nil: undefined }),
  annotations: fc.option(labelsArb, { nil: undefined }),
  managedFields: fc.option(
    fc.array(fc.record({ manager: fc.string(), operation: fc.string(), fieldsV1: fc.jsonValue({ maxDepth: 3 }) })),
    { nil: undefined },
  ),
});
const listArb = fc.record({
  token: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
  items: fc.array(namespaceArb, { maxLength: 6 }),
});

const listOf = (l: {
  token: string | undefined;
  items: readonly (typeof namespaceArb extends fc.Arbitrary<infer T> ? T : never)[];
}) => ({
  kind: 'NamespaceList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '77', ...(l.token === undefined ? {} : { continue: l.token, remainingItemCount: 3 }) },
  items: l.items.map((n) => ({
    metadata: {
      name: n.name,
      uid: 'e3b0c442-98fc-1c14-9afb-f4c8996fb924',
      resourceVersion: '76',
      creationTimestamp: '2026-01-02T03:04:05Z',
      ...(n.labels === undefined ? {} : { labels: n.labels }),
      ...(n.annotations === undefined ? {} : { annotations: n.annotations }),
      ...(n.managedFields === undefined ? {} : { managedFields: n.managedFields }),
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  })),
});

/** Labels as the API server writes them: sorted by key (Go's maps are written in key order). */
const sorted = (labels: Record<string, string> | undefined): Record<string, string> | undefined => {
  if (labels === undefined || Object.keys(labels).length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort())
    Object.defineProperty(out, k, { value: labels[k], enumerable: true, writable: true, configurable: true });
  return out;
};

describe('decodeNamespaceList', () => {
  it('gives each namespace name and labels and the continue token, skipping everything else', () => {
    fc.assert(
      fc.property(listArb, (l) => {
        const body = encodeNamespaceList(listOf(l));
        expect(isProtobuf(body)).toBe(true);
        const decoded = decodeNamespaceList(body);
        expect(decoded.continueToken).toBe(l.token);
        expect(decoded.items).toEqual(l.items.map((n) => ({ name: n.name, labels: sorted(n.labels) })));
      }),
    );
  });

  it('a body cut short anywhere is a ProtobufError or, past the object, the whole list: never a shorter one', () => {
    fc.assert(
      fc.property(listArb, fc.nat(), (l, at) => {
        const body = encodeNamespaceList(listOf(l));
        const cut = body.subarray(0, at % body.length);
        let outcome: unknown;
        try {
          outcome = decodeNamespaceList(cut);
        } catch (e) {
          outcome = e;
        }
        // The object is length-prefixed inside its envelope: a cut inside it is always seen. Only
        // the envelope's trailing fields (content encoding and type) can go missing unnoticed.
        if (!(outcome instanceof ProtobufError)) expect(outcome).toEqual(decodeNamespaceList(body));
      }),
    );
  });

  it('refuses what is not protobuf, and never throws anything but ProtobufError on noise', () => {
    expect(() => decodeNamespaceList(Buffer.from('{"items":[]}'))).toThrow(/no k8s magic/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (noise) => {
        const body = Buffer.concat([Buffer.from('k8s\0'), noise]);
        try {
          decodeNamespaceList(body);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtobufError);
        }
      }),
    );
  });
});

describe('continueTokenFromProtobufHead', () => {
  it('names the token once the list metadata has arrived, and nothing wrong before', () => {
    fc.assert(
      fc.property(listArb, (l) => {
        const body = encodeNamespaceList(listOf(l));
        for (let i = 0; i <= Math.min(body.length, 300); i++) {
          const early = continueTokenFromProtobufHead(body.subarray(0, i));
          if (typeof early === 'object') expect(early.token).toBe(l.token);
          else if (l.token !== undefined) expect(early).toBe('more');
        }
        const whole = continueTokenFromProtobufHead(body);
        expect(whole).toEqual(l.token === undefined ? 'none' : { token: l.token });
      }),
    );
  });
});

describe('decodeStatus', () => {
  it('reads message, reason, code and continue token', () => {
    const body = encodeStatus({
      kind: 'Status',
      metadata: { continue: 'tok' },
      status: 'Failure',
      message: 'namespaces is forbidden: User "x" cannot list resource "namespaces"',
      reason: 'Forbidden',
      code: 403,
    });
    expect(decodeStatus(body)).toEqual({
      message: 'namespaces is forbidden: User "x" cannot list resource "namespaces"',
      reason: 'Forbidden',
      code: 403,
      continueToken: 'tok',
    });
  });
});
