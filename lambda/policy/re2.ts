/**
 * The config's `pattern` is a JavaScript regular expression (Unicode mode); Kyverno's `regex_match`
 * and Gatekeeper's `regex.match` use Go's RE2. Most patterns mean the same in both; these
 * JavaScript features do not exist in RE2 and would make the generated policy fail to load or
 * match something else, so they are refused.
 */
import { PolicyGenerationError } from './errors.js';

const GROUPS: readonly { readonly re: RegExp; readonly what: string }[] = [
  { re: /^\(\?[=!]/, what: 'a lookahead (?= or (?!' },
  { re: /^\(\?<[=!]/, what: 'a lookbehind (?<= or (?<!' },
  { re: /^\[\^?\]/, what: 'an empty class [] or [^]' },
];
const ESCAPES: readonly { readonly re: RegExp; readonly what: string }[] = [
  { re: /^\\[1-9]/, what: 'a backreference such as \\1' },
  { re: /^\\k</, what: 'a named backreference \\k<name>' },
  { re: /^\\u/, what: 'a \\u escape (write the character, or \\x{...})' },
  { re: /^\\c/, what: 'a control escape \\cX' },
];

/** What in `source` RE2 lacks, or null when the pattern means the same in RE2 as far as labelguard can tell. */
export function re2Incompatibility(source: string): string | null {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const rest = source.slice(i);
    const c = source[i];
    if (c === '\\') {
      const hit = ESCAPES.find((u) => u.re.test(rest));
      if (hit) return hit.what;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else {
      const hit = GROUPS.find((u) => u.re.test(rest));
      if (hit) return hit.what;
      if (c === '[') {
        inClass = true;
        if (source[i + 1] === '^') i++;
      }
    }
  }
  return null;
}

/** Throws a `PolicyGenerationError` naming the label when its pattern is not RE2-compatible. */
export function assertRe2(key: string, pattern: string): void {
  const problem = re2Incompatibility(pattern);
  if (problem !== null) {
    throw new PolicyGenerationError(
      key,
      `the pattern uses ${problem}, which Kyverno and Gatekeeper (Go RE2) do not support`,
    );
  }
}
