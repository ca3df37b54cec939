import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineSettings } from '../../../lambda/audit/engines/types.js';
import type { Namespace } from '../../../lambda/audit/model.js';
import { createNamespaceIndex, effectiveNamespaceLabels } from '../../../lambda/audit/namespace-index.js';
import {
  ciliumNamespaceQuery,
  ciliumNamespaceTerms,
  isCiliumIdentityLabel,
  matchesCiliumIdentity,
  parseCiliumKey,
  parseCiliumLabel,
  parseEndpointSelector,
  scopeCiliumSelector,
  translateNetworkPolicyPeer,
  type CiliumScope,
  type CiliumSelector,
  type CiliumSelectorRole,
} from '../../../lambda/audit/selectors/cilium.js';
import { SelectorSyntaxError } from '../../../lambda/audit/selectors/errors.js';
import { NAME_KEY, NONE, type LabelQuery } from '../../../lambda/audit/selectors/query.js';

interface Vector {
  readonly id: string;
  readonly policy_kind: 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy(via Cilium)';
  readonly policy_namespace: string;
  readonly field: string;
  readonly selector: unknown;
  readonly labels: readonly string[];
  readonly expect: boolean;
  readonly variant?: string;
  readonly note?: string;
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/reference/vectors/cilium-scoping.json', import.meta.url), 'utf8'),
) as Vector[];

type NamespaceLabels = EngineSettings['ciliumNamespaceLabels'];

/**
 * The settings a vector holds under: its variant, or every combination when it has none. The
 * cluster filter is tried only for realistic identities (a pod carrying its cluster label, or a
 * reserved identity); a vector like cilium-026 lists only the labels it is about.
 */
function settingsOf(v: Vector): { namespaceLabels: NamespaceLabels; policyDefaultLocalCluster: boolean }[] {
  const labels: NamespaceLabels[] =
    v.variant === 'post-30650'
      ? ['cross-namespace']
      : v.variant === 'pre-30650'
        ? ['policy-namespace']
        : ['cross-namespace', 'policy-namespace'];
  const realistic =
    v.labels.some((l) => l.startsWith('k8s:io.cilium.k8s.policy.cluster=')) ||
    v.labels.every((l) => l.startsWith('reserved:'));
  const cluster = v.variant === 'policy-default-local-cluster=false' || !realistic ? [false] : [false, true];
  if (v.variant !== undefined && !['post-30650', 'pre-30650', 'policy-default-local-cluster=false'].includes(v.variant))
    throw new Error(`unknown variant ${v.variant}`);
  return labels.flatMap((namespaceLabels) =>
    cluster.map((policyDefaultLocalCluster) => ({ namespaceLabels, policyDefaultLocalCluster })),
  );
}

function roleOf(field: string): CiliumSelectorRole {
  if (field === 'endpointSelector') return 'subject';
  if (field === 'fromEndpoints[]' || field === 'toEndpoints[]') return 'endpoints';
  throw new Error(`unknown field ${field}`);
}

/** The selector Cilium enforces for a vector under the given settings. */
function effective(v: Vector, s: ReturnType<typeof settingsOf>[number]): CiliumSelector {
  if (v.policy_kind === 'NetworkPolicy(via Cilium)') {
    const sel = translateNetworkPolicyPeer(v.selector, v.policy_namespace, s);
    if (!sel) throw new Error('expected a selector');
    return sel;
  }
  const namespace = v.policy_kind === 'CiliumNetworkPolicy' ? v.policy_namespace : null;
  return scopeCiliumSelector(parseEndpointSelector(v.selector), roleOf(v.field), { ...s, namespace });
}

/** The namespace a pod identity lives in, with the namespace labels its identity carries. */
function namespaceOfIdentity(identity: readonly string[]): Namespace | null {
  const labels = identity.map(parseCiliumLabel);
  const name = labels.find((l) => l.source === 'k8s' && l.key === 'io.kubernetes.pod.namespace')?.value;
  if (name === undefined) return null;
  const prefix = 'io.cilium.k8s.namespace.labels.';
  const nsLabels = Object.fromEntries(
    labels
      .filter((l) => l.source === 'k8s' && l.key.startsWith(prefix))
      .map((l) => [l.key.slice(prefix.length), l.value]),
  );
  return { name, labels: nsLabels };
}

function selectsNamespace(q: LabelQuery, ns: Namespace): boolean {
  const index = createNamespaceIndex([ns]);
  return index.select(q).has(0);
}

describe('cilium-scoping.json vectors', () => {
  it('covers every policy kind', () => {
    expect(new Set(vectors.map((v) => v.policy_kind))).toEqual(
      new Set(['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'NetworkPolicy(via Cilium)']),
    );
  });

  it.each(vectors.map((v) => [`${v.id} ${v.policy_kind} ${v.field} ${v.variant ?? ''}`, v] as const))(
    '%s',
    (_name, v) => {
      for (const s of settingsOf(v)) {
        const sel = effective(v, s);
        expect(matchesCiliumIdentity(sel, v.labels), JSON.stringify(s)).toBe(v.expect);
        // The namespace-level query never loses a namespace whose pod the selector matches.
        const ns = namespaceOfIdentity(v.labels);
        const q = ciliumNamespaceQuery(sel);
        if (ns && v.expect && q !== null) expect(selectsNamespace(q, ns), JSON.stringify(s)).toBe(true);
      }
    },
  );
});

describe('endpoint selector keys and matching', () => {
  it('splits sources: k8s:, reserved:, $ (reserved), none or "" (any)', () => {
    expect(parseCiliumKey('k8s:app')).toEqual({ source: 'k8s', key: 'app' });
    expect(parseCiliumKey('reserved:host')).toEqual({ source: 'reserved', key: 'host' });
    expect(parseCiliumKey('$host')).toEqual({ source: 'reserved', key: 'host' });
    expect(parseCiliumKey('app')).toEqual({ source: 'any', key: 'app' });
    expect(parseCiliumKey(':app')).toEqual({ source: 'any', key: 'app' });
    expect(parseCiliumKey('container:app')).toEqual({ source: 'container', key: 'app' });
  });

  it('matches $host like reserved:host', () => {
    expect(matchesCiliumIdentity(parseEndpointSelector({ matchLabels: { $host: '' } }), ['reserved:host'])).toBe(true);
    expect(matchesCiliumIdentity(parseEndpointSelector({ matchLabels: { $host: '' } }), ['reserved:world'])).toBe(
      false,
    );
  });

  it('an any-source key matches the key from any source; a k8s: key only from k8s', () => {
    const identity = ['container:tier=db', 'k8s:app=web'];
    const sel = (key: string, operator = 'Exists'): CiliumSelector =>
      parseEndpointSelector({ matchExpressions: [{ key, operator }] });
    expect(matchesCiliumIdentity(sel('tier'), identity)).toBe(true);
    expect(matchesCiliumIdentity(sel('k8s:tier'), identity)).toBe(false);
    expect(matchesCiliumIdentity(sel('k8s:tier', 'DoesNotExist'), identity)).toBe(true);
    expect(matchesCiliumIdentity(sel('any:app'), identity)).toBe(true);
  });

  it('NotIn and DoesNotExist hold for identities without the key', () => {
    const notIn = parseEndpointSelector({
      matchExpressions: [{ key: 'k8s:env', operator: 'NotIn', values: ['prod'] }],
    });
    expect(matchesCiliumIdentity(notIn, ['reserved:world'])).toBe(true);
    expect(matchesCiliumIdentity(notIn, ['k8s:env=prod'])).toBe(false);
  });

  it('rejects what Cilium rejects, naming the field', () => {
    const cases: [unknown, string][] = [
      [null, 'must be an object'],
      ['app=web', 'must be an object'],
      [{ matchLabels: { app: 1 } }, 'matchLabels["app"]'],
      [{ matchExpressions: [{ key: 'app', operator: 'In' }] }, "must be specified when operator is 'In'"],
      [{ matchExpressions: [{ key: 'app', operator: 'exists' }] }, 'did you mean Exists?'],
      [{ matchLabels: { 'k8s:': 'x' } }, 'no label key after its source'],
      [{ matchLabels: { 'k8s:Bad.Prefix/app': 'x' } }, 'DNS subdomain'],
      [{ matchLabels: { 'io.cilium.k8s.namespace.labels.': 'x' } }, 'namespace label key'],
      [{ matchLabels: { app: 'not valid' } }, 'label value'],
    ];
    for (const [sel, message] of cases) {
      expect(() => parseEndpointSelector(sel, 'spec.endpointSelector')).toThrow(SelectorSyntaxError);
      expect(() => parseEndpointSelector(sel, 'spec.endpointSelector')).toThrow(message);
    }
  });

  it('checks a namespace-label key on the namespace label key itself (cilium/cilium#47817)', () => {
    const long = `io.cilium.k8s.namespace.labels.${'a'.repeat(63)}`;
    expect(() => parseEndpointSelector({ matchLabels: { [long]: 'x' } })).not.toThrow();
    expect(() => parseEndpointSelector({ matchLabels: { [`${long}a`]: 'x' } })).toThrow(SelectorSyntaxError);
  });

  it('keeps the last of two matchLabels keys that name the same source and key', () => {
    const sel = parseEndpointSelector({ matchLabels: { app: 'a', 'any:app': 'b' } });
    expect(sel.requirements).toHaveLength(1);
    expect(sel.requirements[0]?.values).toEqual(['b']);
  });
});

describe('implicit scoping', () => {
  const cnp = (namespaceLabels: NamespaceLabels = 'cross-namespace'): CiliumScope => ({
    namespace: 'team-a',
    namespaceLabels,
  });
  const ccnp: CiliumScope = { namespace: null, namespaceLabels: 'cross-namespace' };
  const pod = (ns: string, extra: string[] = []): string[] => [
    'k8s:app=web',
    `k8s:io.kubernetes.pod.namespace=${ns}`,
    `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${ns}`,
    'k8s:io.cilium.k8s.policy.cluster=default',
    ...extra,
  ];

  it('ANDs a CNP subject namespace with a user expression on the same key (selects nothing)', () => {
    const sel = parseEndpointSelector({
      matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'In', values: ['team-b'] }],
    });
    const subject = scopeCiliumSelector(sel, 'subject', cnp());
    expect(matchesCiliumIdentity(subject, pod('team-a'))).toBe(false);
    expect(matchesCiliumIdentity(subject, pod('team-b'))).toBe(false);
    expect(ciliumNamespaceQuery(subject)).toEqual(NONE);
  });

  it('leaves a subject that names reserved:init unscoped', () => {
    const sel = parseEndpointSelector({ matchLabels: { 'reserved:init': '' } });
    expect(scopeCiliumSelector(sel, 'subject', cnp())).toEqual(sel);
  });

  it('leaves CCNP peers without the pod guard when the subject selects reserved:init', () => {
    const sel = parseEndpointSelector({});
    expect(
      matchesCiliumIdentity(scopeCiliumSelector(sel, 'endpoints', { ...ccnp, subjectSelectsInit: true }), [
        'reserved:host',
      ]),
    ).toBe(true);
    expect(matchesCiliumIdentity(scopeCiliumSelector(sel, 'endpoints', ccnp), ['reserved:host'])).toBe(false);
  });

  it('does not exempt reserved: keys in fromRequires/toRequires', () => {
    const sel = parseEndpointSelector({ matchLabels: { 'reserved:host': '' } });
    expect(scopeCiliumSelector(sel, 'endpoints', cnp())).toEqual(sel);
    expect(matchesCiliumIdentity(scopeCiliumSelector(sel, 'requires', cnp()), ['reserved:host'])).toBe(false);
  });

  it('pins a namespace-label peer to the policy namespace on older agents only', () => {
    const sel = parseEndpointSelector({ matchLabels: { 'k8s:io.cilium.k8s.namespace.labels.env': 'prod' } });
    const other = pod('team-b', ['k8s:io.cilium.k8s.namespace.labels.env=prod']);
    expect(matchesCiliumIdentity(scopeCiliumSelector(sel, 'endpoints', cnp('cross-namespace')), other)).toBe(true);
    expect(matchesCiliumIdentity(scopeCiliumSelector(sel, 'endpoints', cnp('policy-namespace')), other)).toBe(false);
  });

  it('adds the local cluster to peers with policy-default-local-cluster, unless they name a cluster or a reserved label', () => {
    const scope: CiliumScope = { ...cnp(), policyDefaultLocalCluster: true, localCluster: 'east' };
    const remote = ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=team-a', 'k8s:io.cilium.k8s.policy.cluster=west'];
    expect(matchesCiliumIdentity(scopeCiliumSelector(parseEndpointSelector({}), 'endpoints', scope), remote)).toBe(
      false,
    );
    const named = parseEndpointSelector({ matchLabels: { 'io.cilium.k8s.policy.cluster': 'west' } });
    expect(matchesCiliumIdentity(scopeCiliumSelector(named, 'endpoints', scope), remote)).toBe(true);
    const host = parseEndpointSelector({ matchLabels: { 'reserved:host': '' } });
    expect(scopeCiliumSelector(host, 'endpoints', scope)).toEqual(host);
  });

  it('translates NetworkPolicy peers: ipBlock is not a selector, podSelector overwrites its namespace key', () => {
    expect(translateNetworkPolicyPeer({ ipBlock: { cidr: '10.0.0.0/8' } }, 'team-a')).toBeNull();
    const sel = translateNetworkPolicyPeer(
      { podSelector: { matchLabels: { 'io.kubernetes.pod.namespace': 'team-b' } } },
      'team-a',
    );
    expect(sel && matchesCiliumIdentity(sel, pod('team-b'))).toBe(false);
    expect(sel && matchesCiliumIdentity(sel, pod('team-a'))).toBe(true);
    expect(() => translateNetworkPolicyPeer({ namespaceSelector: { matchLabels: { env: 1 } } }, 'team-a')).toThrow(
      SelectorSyntaxError,
    );
  });

  it('translates NetworkPolicy peers with the cluster filter into the pod selector', () => {
    const sel = translateNetworkPolicyPeer({ namespaceSelector: {} }, 'team-a', { policyDefaultLocalCluster: true });
    expect(sel && matchesCiliumIdentity(sel, pod('team-c'))).toBe(true);
    expect(
      sel &&
        matchesCiliumIdentity(sel, ['k8s:io.kubernetes.pod.namespace=team-c', 'k8s:io.cilium.k8s.policy.cluster=west']),
    ).toBe(false);
  });
});

describe('namespace-level query of an effective selector', () => {
  const namespaces: Namespace[] = [
    { name: 'team-a', labels: { env: 'prod', 'topology.beta.kubernetes.io/zone': 'z1' } },
    { name: 'team-b', labels: { env: 'dev' } },
    { name: 'kube-system', labels: {} },
  ];
  const index = createNamespaceIndex(namespaces);
  const selected = (raw: unknown, role: CiliumSelectorRole, scope: CiliumScope): string[] | null => {
    const q = ciliumNamespaceQuery(scopeCiliumSelector(parseEndpointSelector(raw), role, scope));
    return q === null ? null : index.namesOf(index.select(q));
  };
  const cnp: CiliumScope = { namespace: 'team-a', namespaceLabels: 'cross-namespace' };
  const ccnp: CiliumScope = { namespace: null, namespaceLabels: 'cross-namespace' };

  it('maps the pod namespace to the namespace name and namespace labels to namespace labels', () => {
    expect(selected({}, 'endpoints', cnp)).toEqual(['team-a']);
    expect(selected({}, 'endpoints', ccnp)).toEqual(['kube-system', 'team-a', 'team-b']);
    expect(selected({ matchLabels: { 'io.kubernetes.pod.namespace': 'team-b' } }, 'endpoints', cnp)).toEqual([
      'team-b',
    ]);
    expect(selected({ matchLabels: { 'io.cilium.k8s.namespace.labels.env': 'dev' } }, 'endpoints', cnp)).toEqual([
      'team-b',
    ]);
    expect(
      selected(
        { matchLabels: { 'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name': 'kube-system' } },
        'endpoints',
        ccnp,
      ),
    ).toEqual(['kube-system']);
    expect(
      selected(
        { matchExpressions: [{ key: 'io.cilium.k8s.namespace.labels.env', operator: 'NotIn', values: ['prod'] }] },
        'endpoints',
        ccnp,
      ),
    ).toEqual(['kube-system', 'team-b']);
  });

  it('lets pod labels restrict nothing unless no pod can satisfy them', () => {
    expect(selected({ matchLabels: { app: 'web' } }, 'endpoints', ccnp)).toEqual(['kube-system', 'team-a', 'team-b']);
    const contradiction = {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'k8s:app', operator: 'DoesNotExist' }],
    };
    expect(selected(contradiction, 'endpoints', ccnp)).toEqual([]);
    expect(
      selected(
        { matchExpressions: [{ key: 'io.kubernetes.pod.namespace', operator: 'DoesNotExist' }] },
        'endpoints',
        cnp,
      ),
    ).toEqual([]);
  });

  it('treats labels outside the identity as absent (label filter, other sources, io.cilium.k8s pod labels)', () => {
    const zone = 'io.cilium.k8s.namespace.labels.topology.beta.kubernetes.io/zone';
    expect(selected({ matchLabels: { [zone]: 'z1' } }, 'endpoints', ccnp)).toEqual([]);
    expect(selected({ matchExpressions: [{ key: zone, operator: 'DoesNotExist' }] }, 'endpoints', ccnp)).toEqual([
      'kube-system',
      'team-a',
      'team-b',
    ]);
    expect(selected({ matchLabels: { 'statefulset.kubernetes.io/pod-name': 'db-0' } }, 'endpoints', ccnp)).toEqual([]);
    expect(selected({ matchLabels: { 'container:app': 'web' } }, 'endpoints', ccnp)).toEqual([]);
    expect(selected({ matchLabels: { 'io.cilium.k8s.policy.name': 'x' } }, 'endpoints', ccnp)).toEqual([]);
    expect(selected({ matchLabels: { 'io.cilium.k8s.policy.serviceaccount': 'sa' } }, 'endpoints', ccnp)).toHaveLength(
      3,
    );
  });

  it('is null for selectors of reserved identities', () => {
    expect(selected({ matchLabels: { 'reserved:host': '' } }, 'endpoints', cnp)).toBeNull();
    expect(selected({ matchLabels: { $world: '' } }, 'requires', ccnp)).toBeNull();
  });

  it('maps a requirement on the pod namespace to NAME_KEY', () => {
    const q = ciliumNamespaceQuery(parseEndpointSelector({ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'x' } }));
    expect(q).toEqual({ op: 'in', key: NAME_KEY, values: ['x'] });
  });

  it('lists positive single-value namespace-label terms only', () => {
    const sel = parseEndpointSelector({
      matchLabels: {
        'io.cilium.k8s.namespace.labels.team': 'payments',
        app: 'web',
        'io.kubernetes.pod.namespace': 'x',
      },
      matchExpressions: [
        { key: 'k8s:io.cilium.k8s.namespace.labels.env', operator: 'In', values: ['prod'] },
        { key: 'k8s:io.cilium.k8s.namespace.labels.tier', operator: 'In', values: ['a', 'b'] },
        { key: 'io.cilium.k8s.namespace.labels.zone', operator: 'NotIn', values: ['x'] },
        { key: 'container:io.cilium.k8s.namespace.labels.owner', operator: 'In', values: ['me'] },
        { key: 'io.cilium.k8s.namespace.labels.failure-domain.beta.kubernetes.io/zone', operator: 'In', values: ['z'] },
      ],
    });
    expect(ciliumNamespaceTerms(sel)).toEqual([
      { key: 'team', value: 'payments' },
      { key: 'env', value: 'prod' },
    ]);
  });
});

describe('identity label filter (default)', () => {
  it.each([
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['kubernetes.io/hostname', false],
    ['k8s.io/x', false],
    ['io.kubernetes.pod.namespace', true],
    ['io.kubernetes.container.name', false],
    ['pod-template-hash', false],
    ['statefulset.kubernetes.io/pod-name', false],
    ['topology.beta.kubernetes.io/zone', false],
    ['io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name', true],
    ['io.cilium.k8s.namespace.labels.env', true],
    ['io.cilium.k8s.namespace.labels.failure-domain.beta.kubernetes.io/zone', false],
    ['io.cilium.k8s.policy.cluster', true],
  ])('%s in identity: %s', (key, expected) => {
    expect(isCiliumIdentityLabel(key)).toBe(expected);
  });
});

describe('the Cilium parsers only ever throw SelectorSyntaxError (property)', () => {
  const onlySyntaxErrors = (run: () => unknown): boolean => {
    try {
      run();
    } catch (e) {
      if (!(e instanceof SelectorSyntaxError)) throw e;
    }
    return true;
  };
  const keyArb = fc.oneof(
    fc.constantFrom(
      'app',
      'k8s:app',
      'any:app',
      'container:app',
      '$host',
      'reserved:host',
      'reserved:init',
      ':',
      'io.kubernetes.pod.namespace',
      'k8s:io.kubernetes.pod.namespace',
      'io.cilium.k8s.namespace.labels.env',
      'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name',
      'io.cilium.k8s.namespace.labels.topology.beta.kubernetes.io/zone',
      'kubernetes.io/hostname',
      'io.cilium.k8s.policy.cluster',
    ),
    fc.string(),
  );
  const valueArb = fc.constantFrom('', 'web', 'team-a', 'team-b', 'prod', 'default', 'z1', 'bad value');
  const expressionArb = fc.record({
    key: keyArb,
    operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
    values: fc.array(valueArb, { maxLength: 2 }),
  });
  const selectorArb = fc.record(
    {
      matchLabels: fc.dictionary(keyArb, valueArb, { maxKeys: 3 }),
      matchExpressions: fc.array(expressionArb, { maxLength: 3 }),
    },
    { requiredKeys: [] },
  );

  it('parseEndpointSelector and translateNetworkPolicyPeer on arbitrary values and selector-shaped objects', () => {
    const input = fc.oneof(fc.anything(), fc.jsonValue(), selectorArb);
    fc.assert(
      fc.property(
        input,
        (sel) =>
          onlySyntaxErrors(() => parseEndpointSelector(sel)) &&
          onlySyntaxErrors(() => translateNetworkPolicyPeer({ podSelector: sel, namespaceSelector: sel }, 'ns')) &&
          onlySyntaxErrors(() => translateNetworkPolicyPeer(sel, 'ns')),
      ),
    );
  });

  it('the namespace-level query never loses the namespace of a pod the effective selector matches', () => {
    const namespaces: Namespace[] = [
      { name: 'team-a', labels: { env: 'prod', 'topology.beta.kubernetes.io/zone': 'z1' } },
      { name: 'team-b', labels: { env: 'dev' } },
      { name: 'kube-system', labels: {} },
    ];
    const index = createNamespaceIndex(namespaces);
    const podArb = fc.record({
      ns: fc.constantFrom(...namespaces),
      labels: fc.dictionary(fc.constantFrom('app', 'kubernetes.io/hostname', 'tier'), valueArb, { maxKeys: 2 }),
    });
    const scopeArb = fc.record({
      namespace: fc.constantFrom('team-a', null),
      namespaceLabels: fc.constantFrom<NamespaceLabels>('cross-namespace', 'policy-namespace'),
      policyDefaultLocalCluster: fc.boolean(),
    });
    const role = fc.constantFrom<CiliumSelectorRole>('subject', 'endpoints', 'requires');
    fc.assert(
      fc.property(selectorArb, podArb, scopeArb, role, (raw, pod, scope, r) => {
        let sel: CiliumSelector;
        try {
          sel = scopeCiliumSelector(parseEndpointSelector(raw), r, scope);
        } catch {
          return true;
        }
        // The identity Cilium gives the pod: filtered pod labels, its namespace, the namespace's labels.
        const identity = [
          ...Object.entries(pod.labels)
            .filter(([k]) => isCiliumIdentityLabel(k))
            .map(([k, v]) => `k8s:${k}=${v}`),
          `k8s:io.kubernetes.pod.namespace=${pod.ns.name}`,
          ...Object.entries(effectiveNamespaceLabels(pod.ns))
            .map(([k, v]) => [`io.cilium.k8s.namespace.labels.${k}`, v] as const)
            .filter(([k]) => isCiliumIdentityLabel(k))
            .map(([k, v]) => `k8s:${k}=${v}`),
          'k8s:io.cilium.k8s.policy.cluster=default',
        ];
        const q = ciliumNamespaceQuery(sel);
        if (q === null || !matchesCiliumIdentity(sel, identity)) return true;
        return index.select(q).has(index.idOf(pod.ns.name)!);
      }),
      { numRuns: 500 },
    );
  });
});
