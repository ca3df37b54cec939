/**
 * Istio mesh enrollment by labels (selector-semantics §6.1–6.2): which sidecar-injector webhook a
 * pod reaches and whether it is injected, and whether ambient mode enrolls it. Namespace labels are
 * what decides, so a removed `istio-injection` or `istio.io/dataplane-mode` label silently takes a
 * namespace out of the mesh (and out of every AuthorizationPolicy that expects mTLS identities).
 */
import { compileLabelSelector } from './selectors/kubernetes.js';
import { matchLabels } from './selectors/query.js';

type Labels = Readonly<Record<string, string>>;

export interface MeshPod {
  readonly namespace?: string;
  readonly namespaceLabels: Labels;
  readonly podLabels: Labels;
  readonly podAnnotations?: Labels;
  readonly hostNetwork?: boolean;
}

export interface InjectionOptions {
  /** The revision of the installed istiod ("default" for the default revision). */
  readonly revision?: string;
}

const INJECT = 'sidecar.istio.io/inject';
const REV = 'istio.io/rev';
const INJECTION = 'istio-injection';
/** Namespaces the injector never injects (pkg/kube/inject IgnoredNamespaces). */
export const IGNORED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

/** The default-revision installation's webhooks, in the order they are listed. */
function webhooks(revision: string) {
  const sel = (s: object) => compileLabelSelector(s);
  const notFalse = { key: INJECT, operator: 'NotIn', values: ['false'] };
  const injectionAbsent = { key: INJECTION, operator: 'DoesNotExist' };
  const revAbsent = { key: REV, operator: 'DoesNotExist' };
  return [
    {
      name: 'rev.namespace.',
      ns: sel({ matchExpressions: [{ key: REV, operator: 'In', values: [revision] }, injectionAbsent] }),
      obj: sel({ matchExpressions: [notFalse] }),
    },
    {
      name: 'rev.object.',
      ns: sel({ matchExpressions: [revAbsent, injectionAbsent] }),
      obj: sel({ matchExpressions: [notFalse, { key: REV, operator: 'In', values: [revision] }] }),
    },
    {
      name: 'namespace.',
      ns: sel({ matchExpressions: [{ key: INJECTION, operator: 'In', values: ['enabled'] }] }),
      obj: sel({ matchExpressions: [notFalse] }),
    },
    {
      name: 'object.',
      ns: sel({ matchExpressions: [injectionAbsent, revAbsent] }),
      obj: sel({ matchExpressions: [{ key: INJECT, operator: 'In', values: ['true'] }, revAbsent] }),
    },
  ];
}

export function sidecarInjection(
  pod: MeshPod,
  options: InjectionOptions = {},
): { injected: boolean; webhookInvoked: string | null } {
  const hook = webhooks(options.revision ?? 'default').find(
    (w) => matchLabels(w.ns, pod.namespaceLabels) && matchLabels(w.obj, pod.podLabels),
  );
  if (!hook) return { injected: false, webhookInvoked: null };
  const done = (injected: boolean) => ({ injected, webhookInvoked: hook.name });
  if (pod.hostNetwork) return done(false);
  if (pod.namespace !== undefined && IGNORED_NAMESPACES.includes(pod.namespace)) return done(false);
  // The pod label, when present, wins over the deprecated annotation, whatever its value.
  const own = (l: Labels | undefined) => (l && Object.prototype.hasOwnProperty.call(l, INJECT) ? l[INJECT] : undefined);
  const choice = own(pod.podLabels) ?? own(pod.podAnnotations) ?? '';
  if (choice.toLowerCase() === 'true') return done(true);
  if (choice.toLowerCase() === 'false') return done(false);
  return done(true); // empty or invalid: the injection policy, enabled by default
}

/** Ambient enrollment with the default enablementSelectors (Istio >= 1.27; the same logic before). */
export function ambientEnrolled(pod: MeshPod): boolean {
  const mode = 'istio.io/dataplane-mode';
  if (pod.hostNetwork) return false;
  if (pod.podAnnotations && Object.prototype.hasOwnProperty.call(pod.podAnnotations, 'sidecar.istio.io/status'))
    return false;
  const podMode = pod.podLabels[mode];
  return podMode === 'ambient' || (pod.namespaceLabels[mode] === 'ambient' && podMode !== 'none');
}
