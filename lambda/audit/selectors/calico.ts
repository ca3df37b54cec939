/**
 * Calico's selector language (projectcalico/calico libcalico-go/lib/selector: tokenizer, parser, ast),
 * parsed once into an AST that can be matched against label sets, printed in Calico's canonical
 * form and compiled to the LabelQuery IR.
 *
 * Grammar (selector-semantics.md §5.1):
 *   selector := "" | orExpr                       (empty or all-whitespace selects everything)
 *   orExpr   := andExpr ("||" andExpr)*
 *   andExpr  := op ("&&" op)*
 *   op       := "!"* ( "has(" LABEL ")" | "all()" | "global()" | "(" orExpr ")"
 *               | LABEL ("==" | "!=" | "contains" | "starts with" | "ends with") STRING
 *               | LABEL ("in" | "not in") "{" [STRING ("," STRING)* [","]] "}" )
 */
import type { Labels } from '../model.js';
import type { NamespaceTerm } from '../engines/types.js';
import { SelectorSyntaxError } from './errors.js';
import { SelectorMemo } from './memo.js';
import { ALL, NAME_KEY, NONE, and, not, or, type LabelQuery } from './query.js';

/** Longest label Calico's tokenizer accepts (tokenizer.MaxLabelLength). */
export const CALICO_MAX_LABEL_LENGTH = 512;

/** The namespace-name label Calico puts on every namespace profile (conversion.NameLabel). */
export const CALICO_NAMESPACE_NAME_LABEL = 'projectcalico.org/name';

/** Deepest parenthesis nesting accepted (Calico has no limit; this keeps every walk off the stack limit). */
const MAX_NESTING = 256;

export type CalicoNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'global' }
  | { readonly kind: 'has'; readonly label: string }
  | {
      readonly kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
      readonly label: string;
      readonly value: string;
    }
  /** values de-duplicated and sorted in byte (code point) order, as Calico's StringSet */
  | { readonly kind: 'in' | 'notIn'; readonly label: string; readonly values: readonly string[] }
  | { readonly kind: 'not'; readonly operand: CalicoNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly CalicoNode[] };

export interface CalicoSelector {
  /** The selector text as written. */
  readonly source: string;
  readonly ast: CalicoNode;
  /** Calico's canonical string form (parser.Selector.String()). */
  canonical(): string;
  /** Evaluate against one label set, with Calico's semantics (`!=` and `not in` match absent labels). */
  matches(labels: Labels): boolean;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer (tokenizer.go)

type TokenKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'not'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'all'
  | 'has'
  | 'lparen'
  | 'rparen'
  | 'and'
  | 'or'
  | 'global'
  | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  readonly pos: number;
}

function isIdentifierChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x2d // -
  );
}

/** Only space and tab are whitespace (tokenizer.trimWhitespace): a newline is an error. */
function skipWhitespace(src: string, i: number): number {
  while (i < src.length && (src[i] === ' ' || src[i] === '\t')) i++;
  return i;
}

/** End of a word: end of input or a character that cannot continue a label. */
function atWordBoundary(src: string, i: number): boolean {
  return i >= src.length || !isIdentifierChar(src.charCodeAt(i));
}

/** Reads a label at i; returns its end. Throws when there is none or it is too long. */
function readIdentifier(src: string, i: number): number {
  let end = i;
  while (end < src.length && isIdentifierChar(src.charCodeAt(end))) end++;
  if (end === i) {
    throw new SelectorSyntaxError(
      i < src.length ? `unexpected character ${JSON.stringify(src[i])}` : 'expected a label',
      i,
    );
  }
  if (end - i > CALICO_MAX_LABEL_LENGTH) {
    throw new SelectorSyntaxError(`label longer than ${CALICO_MAX_LABEL_LENGTH} characters`, i);
  }
  return end;
}

/**
 * Matches an operator made of one or more words at i, each optionally followed by spaces/tabs
 * ("starts with", "startswith"); only the last word needs a word boundary after it.
 * Returns the index after the operator (and trailing whitespace for multi-word ones), or -1.
 */
function matchOperatorWords(src: string, i: number, words: readonly string[]): number {
  let at = i;
  for (const word of words) {
    if (!src.startsWith(word, at)) return -1;
    at += word.length;
    if (words.length > 1) at = skipWhitespace(src, at);
  }
  return atWordBoundary(src, at) ? at : -1;
}

const LABEL_OPERATORS: readonly { readonly words: readonly string[]; readonly kind: TokenKind }[] = [
  { words: ['contains'], kind: 'contains' },
  { words: ['starts', 'with'], kind: 'startsWith' },
  { words: ['ends', 'with'], kind: 'endsWith' },
  { words: ['not', 'in'], kind: 'notIn' },
  { words: ['in'], kind: 'in' },
];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, pos: number, value = ''): void => {
    tokens.push({ kind, value, pos });
  };
  for (;;) {
    i = skipWhitespace(src, i);
    if (i >= src.length) {
      push('eof', i);
      return tokens;
    }
    const start = i;
    const c = src[i];
    switch (c) {
      case '(':
        push('lparen', start);
        i++;
        continue;
      case ')':
        push('rparen', start);
        i++;
        continue;
      case '{':
        push('lbrace', start);
        i++;
        continue;
      case '}':
        push('rbrace', start);
        i++;
        continue;
      case ',':
        push('comma', start);
        i++;
        continue;
      case '"':
      case "'": {
        const close = src.indexOf(c, i + 1);
        if (close < 0) throw new SelectorSyntaxError('unterminated string', start);
        push('string', start, src.slice(i + 1, close));
        i = close + 1;
        continue;
      }
      case '=':
        if (src[i + 1] !== '=') throw new SelectorSyntaxError("expected '=='", start);
        push('eq', start);
        i += 2;
        continue;
      case '!':
        if (src[i + 1] === '=') {
          push('ne', start);
          i += 2;
        } else {
          push('not', start);
          i++;
        }
        continue;
      case '&':
        if (src[i + 1] !== '&') throw new SelectorSyntaxError("expected '&&'", start);
        push('and', start);
        i += 2;
        continue;
      case '|':
        if (src[i + 1] !== '|') throw new SelectorSyntaxError("expected '||'", start);
        push('or', start);
        i += 2;
        continue;
    }
    if (tokens.at(-1)?.kind === 'label') {
      // After a label only an operator may follow; operator words are not reserved elsewhere.
      let matched = false;
      for (const op of LABEL_OPERATORS) {
        const end = matchOperatorWords(src, i, op.words);
        if (end >= 0) {
          push(op.kind, start);
          i = end;
          matched = true;
          break;
        }
      }
      if (!matched) throw new SelectorSyntaxError(`expected an operator after label '${tokens.at(-1)?.value}'`, start);
      continue;
    }
    if (src.startsWith('has(', i)) {
      i = skipWhitespace(src, i + 4);
      const end = readIdentifier(src, i);
      const label = src.slice(i, end);
      i = skipWhitespace(src, end);
      if (src[i] !== ')') throw new SelectorSyntaxError("no closing ')' after has(", i);
      push('has', start, label);
      i++;
      continue;
    }
    const call = src.startsWith('all(', i) ? 'all' : src.startsWith('global(', i) ? 'global' : undefined;
    if (call !== undefined) {
      i = skipWhitespace(src, i + call.length + 1);
      if (src[i] !== ')') throw new SelectorSyntaxError(`no closing ')' after ${call}(`, i);
      push(call, start);
      i++;
      continue;
    }
    const end = readIdentifier(src, i);
    push('label', start, src.slice(i, end));
    i = end;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser (parser.go)

class Parser {
  private at = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    // The token list always ends with 'eof', and the parser never moves past it.
    return this.tokens[Math.min(this.at, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.at++;
    return t;
  }

  parseRoot(): CalicoNode {
    if (this.peek().kind === 'eof') return { kind: 'all' };
    const node = this.parseOr(0);
    const rest = this.peek();
    if (rest.kind !== 'eof') throw new SelectorSyntaxError(`unexpected ${describe(rest)} at end of selector`, rest.pos);
    return node;
  }

  private parseOr(depth: number): CalicoNode {
    const operands = [this.parseAnd(depth)];
    while (this.peek().kind === 'or') {
      this.next();
      operands.push(this.parseAnd(depth));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private parseAnd(depth: number): CalicoNode {
    const operands = [this.parseOperation(depth)];
    while (this.peek().kind === 'and') {
      this.next();
      operands.push(this.parseOperation(depth));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private parseOperation(depth: number): CalicoNode {
    // Any number of leading "!" collapse to one negation of the whole following operation.
    let negated = false;
    while (this.peek().kind === 'not') {
      this.next();
      negated = !negated;
    }
    const node = this.parseOperand(depth);
    return negated ? { kind: 'not', operand: node } : node;
  }

  private parseOperand(depth: number): CalicoNode {
    const t = this.next();
    switch (t.kind) {
      case 'has':
        return { kind: 'has', label: t.value };
      case 'all':
        return { kind: 'all' };
      case 'global':
        return { kind: 'global' };
      case 'lparen': {
        if (depth >= MAX_NESTING) throw new SelectorSyntaxError('selector nested too deeply', t.pos);
        const inner = this.parseOr(depth + 1);
        const close = this.next();
        if (close.kind !== 'rparen') throw new SelectorSyntaxError(`expected ')', found ${describe(close)}`, close.pos);
        return inner;
      }
      case 'label':
        return this.parseComparison(t.value);
      default:
        throw new SelectorSyntaxError(`unexpected ${describe(t)}`, t.pos);
    }
  }

  private parseComparison(label: string): CalicoNode {
    const op = this.next();
    switch (op.kind) {
      case 'eq':
      case 'ne':
      case 'contains':
      case 'startsWith':
      case 'endsWith': {
        const value = this.next();
        if (value.kind !== 'string')
          throw new SelectorSyntaxError(`expected a string, found ${describe(value)}`, value.pos);
        return { kind: op.kind, label, value: value.value };
      }
      case 'in':
      case 'notIn': {
        const open = this.next();
        if (open.kind !== 'lbrace') throw new SelectorSyntaxError(`expected a set literal '{'`, open.pos);
        const values: string[] = [];
        // STRING ("," STRING)* with an optional trailing comma, as parser.go accepts.
        while (this.peek().kind === 'string') {
          values.push(this.next().value);
          if (this.peek().kind !== 'comma') break;
          this.next();
        }
        const close = this.next();
        if (close.kind !== 'rbrace') throw new SelectorSyntaxError(`expected '}', found ${describe(close)}`, close.pos);
        return { kind: op.kind, label, values: toStringSet(values) };
      }
      default:
        throw new SelectorSyntaxError(`expected an operator after label '${label}', found ${describe(op)}`, op.pos);
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of selector';
    case 'label':
      return `label '${t.value}'`;
    case 'string':
      return `string ${JSON.stringify(t.value)}`;
    default:
      return `'${TOKEN_TEXT[t.kind]}'`;
  }
}

const TOKEN_TEXT: Readonly<Record<TokenKind, string>> = {
  label: 'label',
  string: 'string',
  lbrace: '{',
  rbrace: '}',
  comma: ',',
  eq: '==',
  ne: '!=',
  in: 'in',
  not: '!',
  notIn: 'not in',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  all: 'all()',
  has: 'has()',
  lparen: '(',
  rparen: ')',
  and: '&&',
  or: '||',
  global: 'global()',
  eof: 'end of selector',
};

/**
 * Compares strings in code point order (the byte order of their UTF-8 form, which is how Go's
 * sort.Strings orders Calico's sets), not UTF-16 code unit order.
 */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function toStringSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareCodePoints);
}

// ---------------------------------------------------------------------------------------------
// Canonical form (ast.go collectFragments)

/** Calico quotes with `"` unless the value contains one (a parsed value never holds both quotes). */
function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

const COMPARISON_TEXT = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

function canonicalOf(node: CalicoNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.label})`;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return node.label + COMPARISON_TEXT[node.kind] + quote(node.value);
    case 'in':
    case 'notIn':
      return `${node.label} ${node.kind === 'in' ? 'in' : 'not in'} {${node.values.map(quote).join(', ')}}`;
    case 'not':
      return `!${canonicalOf(node.operand)}`;
    case 'and':
    case 'or':
      return `(${node.operands.map(canonicalOf).join(node.kind === 'and' ? ' && ' : ' || ')})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the AST is compiled once into closures.

type Matcher = (labels: Labels) => boolean;

function valueOf(labels: Labels, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
}

/** Each node as ast.go evaluates it: only `!=` and `not in` match an absent label. */
function compileMatcher(node: CalicoNode): Matcher {
  switch (node.kind) {
    case 'all':
    case 'global':
      // As a plain endpoint selector global() selects everything, like all().
      return () => true;
    case 'has': {
      const { label } = node;
      return (l) => valueOf(l, label) !== undefined;
    }
    case 'eq': {
      const { label, value } = node;
      return (l) => valueOf(l, label) === value;
    }
    case 'ne': {
      const { label, value } = node;
      return (l) => valueOf(l, label) !== value;
    }
    case 'contains': {
      const { label, value } = node;
      return (l) => valueOf(l, label)?.includes(value) ?? false;
    }
    case 'startsWith': {
      const { label, value } = node;
      return (l) => valueOf(l, label)?.startsWith(value) ?? false;
    }
    case 'endsWith': {
      const { label, value } = node;
      return (l) => valueOf(l, label)?.endsWith(value) ?? false;
    }
    case 'in':
    case 'notIn': {
      const { label } = node;
      const set = new Set(node.values);
      const wanted = node.kind === 'in';
      return (l) => {
        const v = valueOf(l, label);
        return v === undefined ? !wanted : set.has(v) === wanted;
      };
    }
    case 'not': {
      const inner = compileMatcher(node.operand);
      return (l) => !inner(l);
    }
    case 'and': {
      const parts = node.operands.map(compileMatcher);
      return (l) => parts.every((p) => p(l));
    }
    case 'or': {
      const parts = node.operands.map(compileMatcher);
      return (l) => parts.some((p) => p(l));
    }
  }
}

class ParsedCalicoSelector implements CalicoSelector {
  private canonicalText: string | undefined;
  private matcher: Matcher | undefined;
  constructor(
    readonly source: string,
    readonly ast: CalicoNode,
  ) {}
  canonical(): string {
    return (this.canonicalText ??= canonicalOf(this.ast));
  }
  matches(labels: Labels): boolean {
    return (this.matcher ??= compileMatcher(this.ast))(labels);
  }
}

/** Parses a Calico selector. Throws only SelectorSyntaxError. */
export function parseCalicoSelector(src: string): CalicoSelector {
  if (typeof src !== 'string') throw new SelectorSyntaxError('a Calico selector must be a string');
  let sel = parsed.get(src);
  if (sel === undefined) parsed.set(src, (sel = new ParsedCalicoSelector(src, new Parser(tokenize(src)).parseRoot())));
  return sel;
}

/** Parsed selectors by their text: immutable, so policies that repeat a selector share one. */
const parsed = new SelectorMemo<CalicoSelector>();

// ---------------------------------------------------------------------------------------------
// Compilation to the LabelQuery IR

export interface CalicoQueryOptions {
  /** Rewrites each label key (e.g. projectcalico.org/name to NAME_KEY). Default: unchanged. */
  readonly mapKey?: (key: string) => string;
  /** What `global()` means here: it depends on where the selector sits (§5.3). */
  readonly global: LabelQuery;
}

export function calicoToQuery(sel: CalicoSelector, options: CalicoQueryOptions): LabelQuery {
  const mapKey = options.mapKey ?? ((k: string) => k);
  const compile = (node: CalicoNode): LabelQuery => {
    switch (node.kind) {
      case 'all':
        return ALL;
      case 'global':
        return options.global;
      case 'has':
        return { op: 'exists', key: mapKey(node.label) };
      case 'eq':
        return { op: 'in', key: mapKey(node.label), values: [node.value] };
      case 'ne':
        return { op: 'notin', key: mapKey(node.label), values: [node.value] };
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        return { op: node.kind, key: mapKey(node.label), value: node.value };
      case 'in':
        return node.values.length === 0 ? NONE : { op: 'in', key: mapKey(node.label), values: node.values };
      case 'notIn':
        return node.values.length === 0 ? ALL : { op: 'notin', key: mapKey(node.label), values: node.values };
      case 'not':
        return not(compile(node.operand));
      case 'and':
        return and(...node.operands.map(compile));
      case 'or':
        return or(...node.operands.map(compile));
    }
  };
  return compile(sel.ast);
}

function namespaceKey(key: string): string {
  return key === CALICO_NAMESPACE_NAME_LABEL ? NAME_KEY : key;
}

/**
 * A namespaceSelector as a query over namespaces (rules.go getEndpointSelector, conversion.go
 * NamespaceToProfile): `projectcalico.org/name` is the namespace name, every other key a namespace
 * label; `all()` selects every namespace. `global()` selects only non-namespaced endpoints, so it
 * selects no namespace (the default); a GlobalNetworkPolicy's policy-level namespaceSelector, where
 * Felix leaves `global()` unrewritten and evaluates it as true, passes ALL.
 */
export function calicoNamespaceQuery(sel: CalicoSelector, global: LabelQuery = NONE): LabelQuery {
  return calicoToQuery(sel, { mapKey: namespaceKey, global });
}

/**
 * The positive `key == "v"` and `key in {...}` terms (one per value) that sit under an even number
 * of negations, de-duplicated, in selector order. Used for near-miss detection.
 */
export function positiveEqualityTerms(sel: CalicoSelector): NamespaceTerm[] {
  const out: NamespaceTerm[] = [];
  collectEqualityTerms(sel.ast, false, out, new Map<string, Set<string>>());
  return out;
}

function collectEqualityTerms(
  node: CalicoNode,
  negated: boolean,
  out: NamespaceTerm[],
  seen: Map<string, Set<string>>,
): void {
  switch (node.kind) {
    case 'eq':
      if (!negated) addTerm(node.label, node.value, out, seen);
      return;
    case 'in':
      if (!negated) for (let i = 0; i < node.values.length; i++) addTerm(node.label, node.values[i]!, out, seen);
      return;
    case 'not':
      collectEqualityTerms(node.operand, !negated, out, seen);
      return;
    case 'and':
    case 'or':
      for (let i = 0; i < node.operands.length; i++) collectEqualityTerms(node.operands[i]!, negated, out, seen);
      return;
    default:
      return;
  }
}

function addTerm(key: string, value: string, out: NamespaceTerm[], seen: Map<string, Set<string>>): void {
  let values = seen.get(key);
  if (values === undefined) seen.set(key, (values = new Set<string>()));
  if (values.has(value)) return;
  values.add(value);
  out.push({ key, value });
}
