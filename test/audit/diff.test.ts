import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  diffStates,
  keyFindings,
  nextState,
  type ClusterState,
  type DriftEvent,
  type Finding,
  type Labels,
} from '../../lambda/audit/index.js';
import { DAY1, SELECTION, observe, partial, shopSnapshot } from '../helpers/history-scenario.js';

const ALLOW_TEAMS = { kind: 'CiliumNetworkPolicy', namespace: 'monitoring', name: 'allow-teams' };
const ALLOW_DNS = { kind: 'GlobalNetworkPolicy', namespace: null, name: 'allow-dns' };

function stateOf(namespaces: Readonly<Record<string, Labels>>, previous: ClusterState | null = null): ClusterState {
  return nextState(previous, observe(shopSnapshot(namespaces)))!;
}

function drift(before: Readonly<Record<string, Labels>>, after: Readonly<Record<string, Labels>>): DriftEvent[] {
  const previous = stateOf(before);
  return diffStates(previous, nextState(previous, observe(shopSnapshot(after))), SELECTION);
}

const ofType = (events: readonly DriftEvent[], ...types: DriftEvent['type'][]): DriftEvent[] =>
  events.filter((e) => types.includes(e.type));

const event = (e: Partial<DriftEvent> & Pick<DriftEvent, 'type'>): DriftEvent => ({
  cluster: 'shop',
  namespace: null,
  key: null,
  before: null,
  after: null,
  policy: null,
  direction: null,
  ...e,
});

describe('diffStates', () => {
  it('reports nothing when nothing changed', () => {
    expect(drift(DAY1, DAY1)).toEqual([]);
  });

  it('treats the first run as the baseline: only the findings it opens are events', () => {
    const first = stateOf({ ...DAY1, sandbox: {} });
    const events = diffStates(null, first, SELECTION);
    expect(events.length).toBe(first.findings.length);
    expect(events.every((e) => e.type === 'finding-opened')).toBe(true);
    expect(events).toContainEqual(
      event({
        type: 'finding-opened',
        namespace: 'sandbox',
        key: 'label-missing',
        after: expect.stringContaining('sandbox') as string,
      }),
    );
  });

  it('names a removed label and what it broke: the peer that no longer selects the namespace, the policy that no longer applies', () => {
    const events = drift(DAY1, { ...DAY1, 'team-b': { tenant: 'payments' } });
    expect(ofType(events, 'label-removed', 'selection-lost', 'selection-gained')).toEqual([
      event({ type: 'label-removed', namespace: 'team-b', key: 'ns', before: 'team-b' }),
      event({ type: 'selection-lost', namespace: 'team-b', policy: ALLOW_TEAMS, direction: 'egress' }),
      event({ type: 'selection-lost', namespace: 'team-b', policy: ALLOW_DNS }),
    ]);
    expect(ofType(events, 'finding-opened').map((e) => e.key)).toEqual(
      expect.arrayContaining(['label-missing', 'near-miss']),
    );
  });

  it('reports a changed label with both values, and selection gained when a label starts to match', () => {
    const before = { ...DAY1, 'team-b': { ns: 'team-bee', tenant: 'payments' } };
    const events = drift(before, DAY1);
    expect(ofType(events, 'label-changed', 'selection-gained', 'selection-lost')).toEqual([
      event({ type: 'label-changed', namespace: 'team-b', key: 'ns', before: 'team-bee', after: 'team-b' }),
      event({ type: 'selection-gained', namespace: 'team-b', policy: ALLOW_TEAMS, direction: 'egress' }),
    ]);
    expect(ofType(events, 'finding-resolved').map((e) => e.key)).toContain('label-invalid');
  });

  it('reports an added label', () => {
    const events = drift(DAY1, { ...DAY1, 'team-a': { ns: 'team-a', tenant: 'payments', tier: 'gold' } });
    expect(events).toEqual([event({ type: 'label-added', namespace: 'team-a', key: 'tier', after: 'gold' })]);
  });

  it('reports created and deleted namespaces with their labels; a created one names what now selects it', () => {
    const { sandbox: _gone, ...rest } = DAY1;
    const events = drift(DAY1, { ...rest, 'team-c': { ns: 'team-c', tenant: 'search' } });
    expect(ofType(events, 'namespace-created', 'namespace-deleted', 'selection-gained', 'selection-lost')).toEqual([
      event({ type: 'namespace-deleted', namespace: 'sandbox', before: 'ns=sandbox' }),
      event({ type: 'namespace-created', namespace: 'team-c', after: 'ns=team-c,tenant=search' }),
      event({ type: 'selection-gained', namespace: 'team-c', policy: ALLOW_DNS }),
    ]);
  });

  it('reports opened and resolved findings with the rule in key and the message in after/before', () => {
    const opened = drift(DAY1, { ...DAY1, 'team-a': { tenant: 'payments' } });
    const resolved = drift({ ...DAY1, 'team-a': { tenant: 'payments' } }, DAY1);
    const missing = ofType(opened, 'finding-opened').find((e) => e.key === 'label-missing')!;
    expect(missing).toEqual(
      event({ type: 'finding-opened', namespace: 'team-a', key: 'label-missing', after: missing.after }),
    );
    expect(missing.after).toContain('team-a');
    expect(ofType(resolved, 'finding-resolved').find((e) => e.key === 'label-missing')).toEqual(
      event({ type: 'finding-resolved', namespace: 'team-a', key: 'label-missing', before: missing.after }),
    );
  });

  it('names the selection change of an edited policy', () => {
    const previous = stateOf(DAY1);
    const edited = shopSnapshot(DAY1, {
      policies: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: allow-teams, namespace: monitoring }
spec:
  endpointSelector: { matchLabels: { app: prometheus } }
  egress:
    - toEndpoints:
        - matchLabels: { io.cilium.k8s.namespace.labels.ns: team-a }
`,
    });
    const events = diffStates(previous, nextState(previous, observe(edited)), SELECTION);
    expect(ofType(events, 'selection-lost')).toEqual([
      event({ type: 'selection-lost', namespace: 'team-b', policy: ALLOW_TEAMS, direction: 'egress' }),
    ]);
  });

  it('lists changes and their impact before findings', () => {
    const events = drift(DAY1, { ...DAY1, 'team-b': { tenant: 'payments' } });
    const firstFinding = events.findIndex((e) => e.type.startsWith('finding-'));
    expect(events.slice(firstFinding).every((e) => e.type.startsWith('finding-'))).toBe(true);
    expect(events[0]!.type).toBe('label-removed');
  });

  it('keeps the label changes, whatever the labels: applying the events to the old labels gives the new ones', () => {
    const labels = fc.dictionary(fc.constantFrom('ns', 'tenant', 'tier', 'env'), fc.constantFrom('a', 'b', 'team-b'), {
      maxKeys: 4,
    });
    fc.assert(
      fc.property(labels, labels, (before, after) => {
        const events = drift({ ...DAY1, 'team-x': before }, { ...DAY1, 'team-x': after });
        const result: Record<string, string> = { ...before };
        for (const e of events.filter((e) => e.namespace === 'team-x' && e.type.startsWith('label-'))) {
          if (e.after === null) delete result[e.key!];
          else result[e.key!] = e.after;
        }
        expect(result).toEqual(after);
      }),
      { numRuns: 25 },
    );
  });
});

describe('nextState: an incomplete read is unknown where it could not see', () => {
  it('keeps everything when the namespaces could not be read, and a never-read cluster stays unknown', () => {
    const previous = stateOf(DAY1);
    const failed = observe(
      partial(shopSnapshot(DAY1), [{ resource: 'namespaces', status: 'failed', reason: 'timeout' }], {
        namespaces: null,
      }),
    );
    expect(nextState(previous, failed)).toBe(previous);
    expect(nextState(null, failed)).toBeNull();
    expect(diffStates(previous, nextState(previous, failed), SELECTION)).toEqual([]);
  });

  it('does not delete namespaces a partial list left out, and diffs the next complete read against the last known state', () => {
    const day1 = stateOf(DAY1);
    // Day 2: the list broke off after two namespaces; team-b lost its label meanwhile, and sandbox is really gone.
    const { sandbox: _gone, ...rest } = DAY1;
    const changed = { ...rest, 'team-b': { tenant: 'payments' } };
    const broken = observe(
      partial(shopSnapshot(changed), [{ resource: 'namespaces', status: 'failed', reason: 'connection reset' }], {
        namespaces: ['team-a', 'team-b'],
      }),
    );
    const day2 = nextState(day1, broken)!;
    const events2 = diffStates(day1, day2, SELECTION);
    expect(ofType(events2, 'namespace-deleted')).toEqual([]);
    expect(ofType(events2, 'label-removed')).toEqual([
      event({ type: 'label-removed', namespace: 'team-b', key: 'ns', before: 'team-b' }),
    ]);
    expect(day2.namespaces.map((n) => n.name)).toEqual(['kube-system', 'monitoring', 'sandbox', 'team-a', 'team-b']);

    // Day 3 reads everything: the deletion shows now, the label removal is not repeated.
    const day3 = nextState(day2, observe(shopSnapshot(changed)))!;
    const events3 = diffStates(day2, day3, SELECTION);
    expect(ofType(events3, 'namespace-deleted', 'label-removed')).toEqual([
      event({ type: 'namespace-deleted', namespace: 'sandbox', before: 'ns=sandbox' }),
    ]);
  });

  it('keeps policies of a kind it could not read, and resolves no finding whose rule could not run', () => {
    const before = { ...DAY1, 'team-b': { tenant: 'payments' } };
    const day1 = stateOf(before);
    expect(day1.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['near-miss', 'label-missing']));
    // Day 2: the Cilium policies are forbidden; team-b is fixed.
    const forbidden = observe(
      partial(
        shopSnapshot(DAY1),
        [{ resource: 'ciliumnetworkpolicies.cilium.io', status: 'forbidden', reason: '403' }],
        {
          dropKinds: ['CiliumNetworkPolicy'],
        },
      ),
    );
    const day2 = nextState(day1, forbidden)!;
    expect(day2.policies.map((p) => p.kind)).toContain('CiliumNetworkPolicy');
    const events = diffStates(day1, day2, SELECTION);
    // label-missing needs only the namespaces: resolved. near-miss needs the policies too: still open, unknown.
    expect(ofType(events, 'finding-resolved').map((e) => e.key)).toEqual(['label-missing']);
    expect(day2.findings.map((f) => f.rule)).toContain('near-miss');
    // The kept Cilium policy still counts its selection against the new labels: team-b is selected again.
    expect(ofType(events, 'selection-gained')).toContainEqual(
      event({ type: 'selection-gained', namespace: 'team-b', policy: ALLOW_TEAMS, direction: 'egress' }),
    );
    expect(ofType(events, 'selection-lost')).toEqual([]);
  });

  it('follows a namespace that disappears and comes back, through a failed read in between', () => {
    const { 'team-b': _b, ...without } = DAY1;
    const s1 = stateOf(DAY1);
    const s2 = nextState(s1, observe(shopSnapshot(without)))!;
    const gone = diffStates(s1, s2, SELECTION);
    expect(ofType(gone, 'namespace-deleted')).toEqual([
      event({ type: 'namespace-deleted', namespace: 'team-b', before: 'ns=team-b,tenant=payments' }),
    ]);
    // A deleted namespace's lost selections are implied by its deletion, not listed.
    expect(ofType(gone, 'selection-lost')).toEqual([]);

    const failed = observe(
      partial(shopSnapshot(DAY1), [{ resource: 'namespaces', status: 'failed' }], { namespaces: null }),
    );
    const s3 = nextState(s2, failed)!;
    expect(diffStates(s2, s3, SELECTION)).toEqual([]);

    const s4 = nextState(s3, observe(shopSnapshot(DAY1)))!;
    const back = diffStates(s3, s4, SELECTION);
    // Every policy that covers the namespace again says so (its own default-deny included).
    expect(ofType(back, 'namespace-created', 'selection-gained')).toEqual([
      event({ type: 'namespace-created', namespace: 'team-b', after: 'ns=team-b,tenant=payments' }),
      event({ type: 'selection-gained', namespace: 'team-b', policy: ALLOW_TEAMS, direction: 'egress' }),
      event({ type: 'selection-gained', namespace: 'team-b', policy: ALLOW_DNS }),
      event({
        type: 'selection-gained',
        namespace: 'team-b',
        policy: { kind: 'NetworkPolicy', namespace: 'team-b', name: 'default-deny' },
      }),
    ]);
  });
});

describe('keyFindings', () => {
  it('keeps a finding that occurs twice, keyed apart', () => {
    const f: Finding = {
      rule: 'label-missing',
      severity: 'high',
      cluster: 'c',
      namespace: 'a',
      policy: null,
      message: 'm',
      fix: null,
    };
    expect([...keyFindings([f, f]).keys()]).toEqual([
      '["label-missing","a",null,null,null,"m"]',
      '["label-missing","a",null,null,null,"m"]#2',
    ]);
  });
});
