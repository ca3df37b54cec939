/** Stable object names for generated policies: DNS labels of at most 63 characters. */

const MAX_NAME = 63;

/** FNV-1a (32 bit) as 8 hex digits: a short, stable suffix that keeps lossy slugs apart. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * `prefix` + the label key as a DNS label. A key that is already one (`ns`, `team`) is used as it is;
 * any other (`app.kubernetes.io/name`, `Team_X`) is lowercased, runs of other characters become `-`,
 * and a hash of the key is appended so two keys never share a name. Never longer than 63 characters.
 */
export function dnsNameFor(prefix: string, key: string): string {
  const slug = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug === key && prefix.length + slug.length <= MAX_NAME) return prefix + slug;
  const room = MAX_NAME - prefix.length - 9;
  const head = slug.slice(0, room).replace(/-+$/, '');
  return `${prefix}${head === '' ? '' : `${head}-`}${shortHash(key)}`;
}
