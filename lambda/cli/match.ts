/**
 * `labelguard match`: a selector debugger. One selector against labels (or every namespace of a
 * manifest dump), saying which terms fail; or `--batch`: JSON lines in, one JSON line out per input.
 */
import { createInterface } from 'node:readline';
import {
  compileLabelSelector,
  createNamespaceIndex,
  matchLabels,
  parseCalicoSelector,
  parseSelectorString,
  validateLabelKey,
  validateLabelValue,
  type LabelQuery,
  type Labels,
} from '../audit/index.js';
import { calicoToQuery } from '../audit/selectors/calico.js';
import { NONE } from '../audit/selectors/query.js';
import { createManifestSource } from '../adapters/manifests/manifest-source.js';
import { UsageError } from '../errors.js';

export type SelectorEngine = 'kubernetes' | 'calico';

/** Compile a selector as the given engine reads it; throws SelectorSyntaxError when invalid. */
export function compileSelector(engine: SelectorEngine, selector: unknown): LabelQuery {
  if (engine === 'calico') {
    if (typeof selector !== 'string') throw new UsageError('a Calico selector is a string');
    return calicoToQuery(parseCalicoSelector(selector), { global: NONE });
  }
  return typeof selector === 'string' ? parseSelectorString(selector) : compileLabelSelector(selector);
}

/** One batch request → one response object (the `match --batch` contract). */
export function answerBatchLine(line: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = JSON.parse(line);
  } catch {
    return { id: null, valid: false, error: 'input is not valid JSON' };
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { id: null, valid: false, error: 'input must be a JSON object' };
  const req = input as Record<string, unknown>;
  const id = req.id ?? null;
  if ('labelKey' in req)
    return { id, valid: typeof req.labelKey === 'string' && validateLabelKey(req.labelKey) === null };
  if ('labelValue' in req)
    return { id, valid: typeof req.labelValue === 'string' && validateLabelValue(req.labelValue) === null };
  const engine = req.engine ?? 'kubernetes';
  if (engine !== 'kubernetes' && engine !== 'calico')
    return { id, valid: false, error: `unknown engine ${JSON.stringify(engine)}` };
  let query: LabelQuery;
  try {
    query = compileSelector(engine, req.selector);
  } catch (e) {
    return { id, valid: false, error: e instanceof Error ? e.message : String(e) };
  }
  if (!('labels' in req)) return { id, valid: true };
  const labels = req.labels;
  if (
    typeof labels !== 'object' ||
    labels === null ||
    Array.isArray(labels) ||
    !Object.values(labels).every((v) => typeof v === 'string')
  )
    return { id, valid: false, error: 'labels must be an object of strings' };
  return { id, match: matchLabels(query, labels as Labels) };
}

export function parseLabelsArg(text: string): Labels {
  const t = text.trim();
  if (t.startsWith('{')) {
    const v: unknown = JSON.parse(t);
    if (typeof v !== 'object' || v === null || !Object.values(v).every((x) => typeof x === 'string'))
      throw new UsageError('--labels JSON must be an object of strings');
    return v as Labels;
  }
  const out: Record<string, string> = {};
  for (const pair of t === '' ? [] : t.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`--labels: expected key=value, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

/** The top-level AND terms of a query that a label set fails. */
export function failingTerms(q: LabelQuery, labels: Labels): LabelQuery[] {
  const terms = q.op === 'and' ? q.terms : [q];
  return terms.filter((t) => !matchLabels(t, labels));
}

export function describeQuery(q: LabelQuery): string {
  switch (q.op) {
    case 'all':
      return 'everything';
    case 'none':
      return 'nothing';
    case 'in':
      return q.values.length === 1 ? `${q.key}=${q.values[0]}` : `${q.key} in (${q.values.join(',')})`;
    case 'notin':
      return `${q.key} notin (${q.values.join(',')})`;
    case 'exists':
      return `has ${q.key}`;
    case 'notexists':
      return `!${q.key}`;
    case 'gt':
      return `${q.key}>${q.bound}`;
    case 'lt':
      return `${q.key}<${q.bound}`;
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return `${q.key} ${q.op} ${JSON.stringify(q.value)}`;
    case 'and':
      return q.terms.map(describeQuery).join(' && ');
    case 'or':
      return `(${q.terms.map(describeQuery).join(' || ')})`;
    case 'not':
      return `!(${describeQuery(q.term)})`;
  }
}

export interface MatchOptions {
  readonly engine?: string;
  readonly selector?: string;
  readonly labels?: string;
  readonly manifests?: string[];
  readonly batch?: boolean;
}

export async function matchCommand(opts: MatchOptions): Promise<number> {
  if (opts.batch) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      process.stdout.write(`${JSON.stringify(answerBatchLine(line))}\n`);
    }
    return 0;
  }
  if (opts.selector === undefined) throw new UsageError('give --selector (or --batch)');
  const engine = (opts.engine ?? 'kubernetes') as SelectorEngine;
  const raw =
    engine === 'kubernetes' && opts.selector.trim().startsWith('{')
      ? (JSON.parse(opts.selector) as unknown)
      : opts.selector;
  let query: LabelQuery;
  try {
    query = compileSelector(engine, raw);
  } catch (e) {
    process.stdout.write(`invalid selector: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  process.stdout.write(`selector: ${describeQuery(query)}\n`);
  if (opts.manifests?.length) {
    const snapshot = await createManifestSource({ paths: opts.manifests }).read();
    const index = createNamespaceIndex(snapshot.namespaces ?? []);
    const selected = index.select(query);
    for (let i = 0; i < index.size; i++) {
      const name = index.names[i]!;
      if (selected.has(i)) process.stdout.write(`  match     ${name}\n`);
      else
        process.stdout.write(
          `  no match  ${name}: fails ${failingTerms(query, index.effectiveLabels(i)).map(describeQuery).join(', ')}\n`,
        );
    }
    return selected.isEmpty() ? 1 : 0;
  }
  const labels = parseLabelsArg(opts.labels ?? '');
  const ok = matchLabels(query, labels);
  process.stdout.write(
    ok ? 'match\n' : `no match: fails ${failingTerms(query, labels).map(describeQuery).join(', ')}\n`,
  );
  return ok ? 0 : 1;
}
