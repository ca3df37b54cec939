/**
 * Kubernetes label selectors (selector-semantics §1): the object form `metav1.LabelSelector`
 * (`LabelSelectorAsSelector` + API validation) and the string syntax of `labels.Parse`, both compiled
 * to a LabelQuery. Parsers throw only SelectorSyntaxError.
 */
import type { NamespaceTerm } from '../engines/types.js';
import { SelectorSyntaxError } from './errors.js';
import { validateLabelKey, validateLabelValue } from './labels.js';
import { ALL, and, NONE, parseInt64, type LabelQuery } from './query.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** One requirement of an object-form selector, after type and syntax checks. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Deduplicated and sorted; empty for Exists/DoesNotExist. */
  readonly values: readonly string[];
  /** True for a `matchLabels` entry (some engines overwrite those by key). */
  readonly fromMatchLabels: boolean;
}

/**
 * Check the shape and syntax of an object-form selector and list its requirements (matchLabels
 * first, then matchExpressions). Returns null for a nil selector (null/undefined). `checkKey` lets
 * engines whose keys carry extra syntax (Cilium sources) validate keys their own way.
 */
export function decodeLabelSelector(
  sel: unknown,
  field = 'selector',
  checkKey: (key: string) => string | null = validateLabelKey,
): SelectorRequirement[] | null {
  if (sel === null || sel === undefined) return null;
  if (!isRecord(sel))
    throw new SelectorSyntaxError(`${field}: a label selector must be an object, got ${typeName(sel)}`);
  const out: SelectorRequirement[] = [];
  const { matchLabels, matchExpressions } = sel;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isRecord(matchLabels))
      throw new SelectorSyntaxError(
        `${field}.matchLabels: must be a map of label keys to values, got ${typeName(matchLabels)}`,
      );
    for (const [key, value] of Object.entries(matchLabels)) {
      // The path is built only for a message: most selectors are valid.
      const path = (): string => `${field}.matchLabels[${JSON.stringify(key)}]`;
      if (typeof value !== 'string')
        throw new SelectorSyntaxError(
          `${path()}: the value must be a string, got ${typeName(value)} (quote it in YAML)`,
        );
      const error = checkKey(key) ?? validateLabelValue(value);
      if (error !== null) throw new SelectorSyntaxError(`${path()}: ${error}`);
      out.push({ key, operator: 'In', values: [value], fromMatchLabels: true });
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions))
      throw new SelectorSyntaxError(`${field}.matchExpressions: must be a list, got ${typeName(matchExpressions)}`);
    matchExpressions.forEach((expr: unknown, i) =>
      out.push(decodeExpression(expr, `${field}.matchExpressions[${i}]`, checkKey)),
    );
  }
  return out;
}

function decodeExpression(expr: unknown, path: string, checkKey: (key: string) => string | null): SelectorRequirement {
  if (!isRecord(expr))
    throw new SelectorSyntaxError(`${path}: must be an object with key and operator, got ${typeName(expr)}`);
  const { key, operator, values } = expr;
  if (typeof key !== 'string') throw new SelectorSyntaxError(`${path}.key: must be a string, got ${typeName(key)}`);
  check(checkKey(key), `${path}.key`);
  if (typeof operator !== 'string')
    throw new SelectorSyntaxError(
      `${path}.operator: must be one of ${OPERATORS.join(', ')}, got ${typeName(operator)}`,
    );
  const op = OPERATORS.find((o) => o === operator);
  if (!op) {
    const hint = OPERATORS.find((o) => o.toLowerCase() === operator.toLowerCase());
    throw new SelectorSyntaxError(
      `${path}.operator: unknown operator ${JSON.stringify(operator)}` +
        (hint
          ? ` (operators are case-sensitive: did you mean ${hint}?)`
          : ` (expected one of ${OPERATORS.join(', ')})`),
    );
  }
  let list: string[] = [];
  if (values !== undefined && values !== null) {
    if (!Array.isArray(values))
      throw new SelectorSyntaxError(`${path}.values: must be a list of strings, got ${typeName(values)}`);
    list = values.map((v: unknown, j) => {
      if (typeof v !== 'string')
        throw new SelectorSyntaxError(`${path}.values[${j}]: must be a string, got ${typeName(v)} (quote it in YAML)`);
      check(validateLabelValue(v), `${path}.values[${j}]`);
      return v;
    });
  }
  if ((op === 'In' || op === 'NotIn') && list.length === 0)
    throw new SelectorSyntaxError(`${path}.values: must be specified when operator is 'In' or 'NotIn'`);
  if ((op === 'Exists' || op === 'DoesNotExist') && list.length > 0)
    throw new SelectorSyntaxError(`${path}.values: may not be specified when operator is 'Exists' or 'DoesNotExist'`);
  return { key, operator: op, values: uniqueSorted(list), fromMatchLabels: false };
}

/** The LabelQuery atom of one requirement. */
export function requirementQuery(key: string, operator: SelectorOperator, values: readonly string[]): LabelQuery {
  switch (operator) {
    case 'In':
      return { op: 'in', key, values };
    case 'NotIn':
      return { op: 'notin', key, values };
    case 'Exists':
      return { op: 'exists', key };
    case 'DoesNotExist':
      return { op: 'notexists', key };
  }
}

/**
 * Compile a `metav1.LabelSelector`: nil (null/undefined) matches nothing, `{}` matches everything,
 * matchLabels and matchExpressions are ANDed. Invalid selectors throw SelectorSyntaxError naming `field`.
 */
export function compileLabelSelector(sel: unknown, field = 'selector'): LabelQuery {
  const reqs = decodeLabelSelector(sel, field);
  if (reqs === null) return NONE;
  return reqs.length === 0 ? ALL : and(...reqs.map((r) => requirementQuery(r.key, r.operator, r.values)));
}

/**
 * The positive `key=value` terms of an object-form selector: every matchLabels entry and every
 * single-value In. Total: malformed parts are skipped.
 */
export function namespaceTermsOf(sel: unknown): NamespaceTerm[] {
  if (!isRecord(sel)) return [];
  const terms: NamespaceTerm[] = [];
  if (isRecord(sel.matchLabels))
    for (const [key, value] of Object.entries(sel.matchLabels))
      if (typeof value === 'string') terms.push({ key, value });
  if (Array.isArray(sel.matchExpressions))
    for (const e of sel.matchExpressions as unknown[]) {
      if (!isRecord(e) || typeof e.key !== 'string' || e.operator !== 'In' || !Array.isArray(e.values)) continue;
      const [value, ...rest] = e.values as unknown[];
      if (typeof value === 'string' && rest.length === 0) terms.push({ key: e.key, value });
    }
  return terms;
}

// ---------------------------------------------------------------------------------------------
// String syntax (`labels.Parse`, pkg/labels/selector.go): a port of its lexer and parser.

type TokenType = 'eos' | 'ident' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Token {
  readonly type: TokenType;
  readonly lit: string;
  readonly pos: number;
}

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOLS = new Set<string>(['=', '!', '(', ')', ',', '>', '<', '==', '!=']);
/** Go's lexer reads bytes and treats a byte 0 (or the end of input) as the end of a token. */
const NUL = '\0';

function lex(s: string): Token[] {
  let pos = 0;
  const read = (): string => (pos < s.length ? s[pos++]! : NUL);
  const tokens: Token[] = [];
  for (;;) {
    let ch = read();
    while (WHITESPACE.has(ch)) ch = read();
    const start = Math.max(0, pos - 1);
    if (ch === NUL) {
      tokens.push({ type: 'eos', lit: '', pos: Math.min(start, s.length) });
      return tokens;
    }
    let lit = ch;
    if (SPECIAL.has(ch)) {
      // scanSpecialSymbol: extend the symbol while the longer text is still a symbol.
      for (;;) {
        const c = read();
        if (c === NUL) break;
        if (SPECIAL.has(c) && SYMBOLS.has(lit + c)) lit += c;
        else {
          pos--;
          break;
        }
      }
      tokens.push({ type: lit as TokenType, lit, pos: start });
    } else {
      // scanIDOrKeyword: everything up to whitespace or a special symbol.
      for (;;) {
        const c = read();
        if (c === NUL) break;
        if (SPECIAL.has(c) || WHITESPACE.has(c)) {
          pos--;
          break;
        }
        lit += c;
      }
      tokens.push({ type: lit === 'in' ? 'in' : lit === 'notin' ? 'notin' : 'ident', lit, pos: start });
    }
  }
}

/** In value position `in`/`notin` are plain identifiers; only where an operator is expected are they keywords. */
type Context = 'values' | 'operator';

class Parser {
  private i = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  peek(ctx: Context): Token {
    return this.view(this.tokens[Math.min(this.i, this.tokens.length - 1)]!, ctx);
  }
  next(ctx: Context): Token {
    const t = this.peek(ctx);
    this.i++;
    return t;
  }
  private view(t: Token, ctx: Context): Token {
    return ctx === 'values' && (t.type === 'in' || t.type === 'notin') ? { ...t, type: 'ident' } : t;
  }
  fail(message: string, at: Token): never {
    throw new SelectorSyntaxError(
      `invalid selector ${JSON.stringify(this.source)}: ${message} (at offset ${at.pos})`,
      at.pos,
    );
  }

  parse(): LabelQuery[] {
    const out: { key: string; q: LabelQuery }[] = [];
    for (;;) {
      const t = this.peek('values');
      if (t.type === 'eos') break;
      if (t.type !== 'ident' && t.type !== '!')
        this.fail(`found '${t.lit}', expected: !, identifier, or end of string`, t);
      out.push(this.requirement());
      const sep = this.next('values');
      if (sep.type === 'eos') break;
      if (sep.type !== ',') this.fail(`found '${sep.lit}', expected: ',' or end of string`, sep);
      const after = this.peek('values');
      if (after.type !== 'ident' && after.type !== '!')
        this.fail(`found '${after.lit || 'end of string'}', expected: identifier after ','`, after);
    }
    // labels.Parse sorts requirements by key (TestDeterministicParse); the meaning is unchanged.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => r.q);
  }

  private requirement(): { key: string; q: LabelQuery } {
    let t = this.next('values');
    const negated = t.type === '!';
    if (negated) t = this.next('values');
    if (t.type !== 'ident') this.fail(`found '${t.lit || 'end of string'}', expected: identifier`, t);
    const key = t.lit;
    const keyError = validateLabelKey(key);
    if (keyError) this.fail(keyError, t);
    if (negated) return { key, q: { op: 'notexists', key } };
    const la = this.peek('values');
    if (la.type === 'eos' || la.type === ',') return { key, q: { op: 'exists', key } };
    const op = this.next('operator');
    switch (op.type) {
      case 'in':
      case 'notin': {
        const values = this.setValues();
        this.checkValues(values, op);
        return { key, q: { op: op.type, key, values } };
      }
      case '=':
      case '==':
      case '!=': {
        const value = this.exactValue();
        this.checkValues([value], op);
        return { key, q: { op: op.type === '!=' ? 'notin' : 'in', key, values: [value] } };
      }
      case '>':
      case '<': {
        const value = this.exactValue();
        const bound = parseInt64(value);
        if (bound === undefined) this.fail(`for '>' and '<' the value must be an integer, got '${value}'`, op);
        this.checkValues([value], op);
        return { key, q: { op: op.type === '>' ? 'gt' : 'lt', key, bound } };
      }
      default:
        return this.fail(`found '${op.lit || 'end of string'}', expected: in, notin, =, ==, !=, >, <`, op);
    }
  }

  private checkValues(values: readonly string[], at: Token): void {
    for (const v of values) {
      const e = validateLabelValue(v);
      if (e) this.fail(e, at);
    }
  }

  /** `(` VALUE (`,` VALUE)* `)`; empty entries are the empty value. */
  private setValues(): string[] {
    const open = this.next('values');
    if (open.type !== '(') this.fail(`found '${open.lit || 'end of string'}', expected: '('`, open);
    const first = this.peek('values');
    if (first.type === ')') {
      this.next('values');
      return [''];
    }
    if (first.type !== 'ident' && first.type !== ',')
      this.fail(`found '${first.lit || 'end of string'}', expected: ',', ')' or identifier`, first);
    const set = new Set<string>();
    for (;;) {
      const t = this.next('values');
      if (t.type === 'ident') {
        set.add(t.lit);
        const la = this.peek('values');
        if (la.type === ')') break;
        if (la.type !== ',') this.fail(`found '${la.lit || 'end of string'}', expected: ',' or ')'`, la);
      } else if (t.type === ',') {
        if (set.size === 0) set.add(''); // "(,"
        const la = this.peek('values');
        if (la.type === ')') {
          set.add(''); // ",)"
          break;
        }
        if (la.type === ',') set.add(''); // ",,"
      } else {
        this.fail(`found '${t.lit || 'end of string'}', expected: ',' or identifier`, t);
      }
    }
    this.next('values'); // the ')' seen by the lookahead above
    return uniqueSorted([...set]);
  }

  /** One value after `=`, `==`, `!=`, `>`, `<`; nothing before `,` or the end means "". */
  private exactValue(): string {
    const la = this.peek('values');
    if (la.type === 'eos' || la.type === ',') return '';
    const t = this.next('values');
    if (t.type !== 'ident') this.fail(`found '${t.lit}', expected: identifier`, t);
    return t.lit;
  }
}

/**
 * Parse the `labels.Parse` string syntax: comma-separated requirements (AND only), `key`, `!key`,
 * `key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key>n`, `key<n`. The empty
 * string selects everything. Throws SelectorSyntaxError on any error.
 */
export function parseSelectorString(s: string): LabelQuery {
  if (typeof s !== 'string') throw new SelectorSyntaxError(`a string selector must be a string, got ${typeName(s)}`);
  return and(...new Parser(s, lex(s)).parse());
}

// ---------------------------------------------------------------------------------------------

function check(error: string | null, path: string): void {
  if (error !== null) throw new SelectorSyntaxError(`${path}: ${error}`);
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    return `${typeof v} ${JSON.stringify(v)}`;
  return typeof v;
}
