/**
 * kubeconfig files → a KubeConfig, and one KubeConfig per context. Files are merged the way kubectl
 * merges `KUBECONFIG`: the first file to define a cluster, user or context name wins, and the first
 * file that sets `current-context` decides it. Which files to read is the caller's business (the
 * CLI resolves `--kubeconfig`, `KUBECONFIG` and `~/.kube/config`): adapters never read the env.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { InputError, UsageError } from '../../errors.js';

export interface LoadKubeconfigOptions {
  /** Skip files that do not exist (kubectl does for the entries of KUBECONFIG). */
  readonly ignoreMissing?: boolean;
}

export function loadKubeconfigFiles(files: readonly string[], options: LoadKubeconfigOptions = {}): KubeConfig {
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: undefined });
  let loaded = 0;
  for (const file of files) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && options.ignoreMissing) continue;
      const message =
        code === 'ENOENT'
          ? 'no such kubeconfig file'
          : code === 'EACCES'
            ? 'permission denied'
            : `not a valid kubeconfig: ${e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e)}`;
      throw new InputError(file, message, { cause: e });
    }
    loaded++;
    mergeFirstWins(merged, one);
  }
  if (loaded === 0) throw new InputError(files.join(', ') || '(none)', 'no kubeconfig file found');
  return merged;
}

/** A KubeConfig from YAML text (for tests and for configs held in memory). */
export function kubeconfigFromText(text: string, file = 'kubeconfig'): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (e) {
    throw new InputError(
      file,
      `not a valid kubeconfig: ${e instanceof Error ? (e.message.split('\n', 1)[0] ?? '') : String(e)}`,
      {
        cause: e,
      },
    );
  }
  return kc;
}

export function contextNames(kubeConfig: KubeConfig): string[] {
  return kubeConfig.getContexts().map((c) => c.name);
}

/**
 * The contexts to scan: the current one by default, every one with `'all'`, or those named.
 * Throws UsageError for a name the kubeconfig does not define (listing those it does).
 */
export function selectContexts(kubeConfig: KubeConfig, which: 'current' | 'all' | readonly string[]): string[] {
  const known = contextNames(kubeConfig);
  if (which === 'all') {
    if (known.length === 0) throw new UsageError('the kubeconfig defines no contexts');
    return known;
  }
  if (which === 'current') {
    const current = kubeConfig.getCurrentContext();
    if (!current) throw new UsageError('the kubeconfig sets no current-context: give --context NAME or --all-contexts');
    if (!known.includes(current))
      throw new UsageError(`the current-context "${current}" is not defined in the kubeconfig`);
    return [current];
  }
  const unknown = which.filter((c) => !known.includes(c));
  if (unknown.length > 0) {
    throw new UsageError(
      `no such kubeconfig context: ${unknown.join(', ')} (defined: ${known.length > 0 ? known.join(', ') : 'none'})`,
    );
  }
  return [...new Set(which)];
}

/** A KubeConfig whose current context is `context`, sharing the (read-only) entries of `kubeConfig`. */
export function kubeConfigForContext(kubeConfig: KubeConfig, context: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: kubeConfig.getClusters(),
    users: kubeConfig.getUsers(),
    contexts: kubeConfig.getContexts(),
    currentContext: context,
  });
  return kc;
}

function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
  const has = <T extends { name: string }>(list: readonly T[], name: string): boolean =>
    list.some((x) => x.name === name);
  for (const c of from.getClusters()) if (!has(into.getClusters(), c.name)) into.addCluster(c);
  for (const u of from.getUsers()) if (!has(into.getUsers(), u.name)) into.addUser(u);
  for (const c of from.getContexts()) if (!has(into.getContexts(), c.name)) into.addContext(c);
  if (!into.getCurrentContext() && from.getCurrentContext()) into.setCurrentContext(from.getCurrentContext());
}
