/** Glob with `*` (any run) and `?` (one character), anchored at both ends, case-sensitive. */
export function globMatch(glob: string, s: string): boolean {
  let re = cache.get(glob);
  if (!re) {
    const body = [...glob]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 's');
    cache.set(glob, re);
  }
  return re.test(s);
}

const cache = new Map<string, RegExp>();

export function matchesAny(globs: readonly string[], s: string): boolean {
  return globs.some((g) => globMatch(g, s));
}
