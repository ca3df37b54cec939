/**
 * An immutable set of namespaces (indices into a NamespaceIndex), stored sparse (sorted ids) when
 * small and dense (a bitset) when large, so 100,000 namespaces × 10,000 policies stay in memory:
 * a selection of a few namespaces costs a few ints, not a 12 KB bitset.
 */
export class NsSet {
  private constructor(
    readonly size: number,
    private words: Uint32Array | null,
    private readonly ids: Int32Array | null,
  ) {}

  static empty(size: number): NsSet {
    return new NsSet(size, null, new Int32Array(0));
  }

  static full(size: number): NsSet {
    const words = new Uint32Array((size + 31) >>> 5).fill(0xffffffff);
    return NsSet.fromWords(size, words);
  }

  /** From ascending, duplicate-free ids (not copied). */
  static fromSortedIds(size: number, ids: Int32Array): NsSet {
    return new NsSet(size, null, ids);
  }

  /** The union of ascending id lists (one allocation, whatever their number). */
  static fromIdLists(size: number, lists: Iterable<readonly number[]>): NsSet {
    const all = Array.isArray(lists) ? (lists as readonly (readonly number[])[]) : [...lists];
    if (all.length === 0) return NsSet.empty(size);
    if (all.length === 1) return new NsSet(size, null, Int32Array.from(all[0]!));
    let total = 0;
    for (let k = 0; k < all.length; k++) total += all[k]!.length;
    if (total * 32 < size) {
      const ids = new Int32Array(total);
      let n = 0;
      for (let k = 0; k < all.length; k++) {
        const l = all[k]!;
        for (let j = 0; j < l.length; j++) ids[n++] = l[j]!;
      }
      ids.sort();
      return new NsSet(size, null, dedupeSorted(ids));
    }
    const w = new Uint32Array((size + 31) >>> 5);
    for (let k = 0; k < all.length; k++) {
      const l = all[k]!;
      for (let j = 0; j < l.length; j++) {
        const i = l[j]!;
        w[i >>> 5]! |= 1 << (i & 31);
      }
    }
    return NsSet.compact(size, w);
  }

  /** The union of many sets (one allocation, whatever their number). */
  static union(size: number, sets: readonly NsSet[]): NsSet {
    // Selections are memoised, so many policies share one set: each counts once.
    const seen = sets.length > 8 ? new Set<NsSet>() : null;
    const unique: NsSet[] = [];
    let sparseTotal = 0;
    let allSparse = true;
    for (let k = 0; k < sets.length; k++) {
      const s = sets[k]!;
      if (seen !== null) {
        if (seen.has(s)) continue;
        seen.add(s);
      }
      if (s.isEmpty()) continue;
      unique.push(s);
      if (s.ids) sparseTotal += s.ids.length;
      else allSparse = false;
    }
    if (unique.length === 0) return NsSet.empty(size);
    if (unique.length === 1) return unique[0]!;
    if (allSparse && sparseTotal * 32 < size) {
      // Few members: merge the id lists instead of going through a bitset.
      const ids = new Int32Array(sparseTotal);
      let n = 0;
      for (let k = 0; k < unique.length; k++) {
        const s = unique[k]!.ids!;
        ids.set(s, n);
        n += s.length;
      }
      ids.sort();
      return new NsSet(size, null, dedupeSorted(ids));
    }
    const w = new Uint32Array((size + 31) >>> 5);
    for (let k = 0; k < unique.length; k++) {
      const s = unique[k]!;
      if (s.ids) {
        const ids = s.ids;
        for (let j = 0; j < ids.length; j++) {
          const i = ids[j]!;
          w[i >>> 5]! |= 1 << (i & 31);
        }
      } else {
        const b = s.words!;
        for (let i = 0; i < w.length; i++) w[i]! |= b[i]!;
      }
    }
    return NsSet.compact(size, w);
  }

  static fromWords(size: number, words: Uint32Array): NsSet {
    const extra = size & 31;
    if (extra !== 0 && words.length > 0) words[words.length - 1]! &= 0xffffffff >>> (32 - extra);
    return NsSet.compact(size, words);
  }

  /** Keep a dense result only while it is smaller than the sparse form. */
  private static compact(size: number, words: Uint32Array): NsSet {
    const n = popcount(words);
    if (n >= words.length) return new NsSet(size, words, null);
    const ids = new Int32Array(n);
    let k = 0;
    for (let w = 0; w < words.length; w++) {
      let x = words[w]!;
      while (x !== 0) {
        const bit = x & -x;
        ids[k++] = (w << 5) + 31 - Math.clz32(bit);
        x ^= bit;
      }
    }
    return new NsSet(size, null, ids);
  }

  private bits(): Uint32Array {
    if (this.words) return this.words;
    const w = new Uint32Array((this.size + 31) >>> 5);
    const ids = this.ids!;
    for (let j = 0; j < ids.length; j++) {
      const i = ids[j]!;
      w[i >>> 5]! |= 1 << (i & 31);
    }
    this.words = w;
    return w;
  }

  has(i: number): boolean {
    if (this.ids) {
      let lo = 0;
      let hi = this.ids.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const v = this.ids[mid]!;
        if (v === i) return true;
        if (v < i) lo = mid + 1;
        else hi = mid - 1;
      }
      return false;
    }
    return (this.words![i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  and(o: NsSet): NsSet {
    if (this.ids && o.ids) return NsSet.fromSortedIds(this.size, intersectSorted(this.ids, o.ids));
    if (this.ids || o.ids) {
      // Filter the sparse side through the other's bits: cost proportional to the small set.
      const small = this.ids ?? o.ids!;
      const bits = (this.ids ? o : this).words!;
      const out = new Int32Array(small.length);
      let k = 0;
      for (let j = 0; j < small.length; j++) {
        const i = small[j]!;
        if ((bits[i >>> 5]! & (1 << (i & 31))) !== 0) out[k++] = i;
      }
      return NsSet.fromSortedIds(this.size, k === out.length ? out : out.slice(0, k));
    }
    const a = this.bits();
    const b = o.bits();
    const w = new Uint32Array(a.length);
    for (let i = 0; i < w.length; i++) w[i] = a[i]! & b[i]!;
    return NsSet.compact(this.size, w);
  }

  or(o: NsSet): NsSet {
    if (this.ids && this.ids.length === 0) return o;
    if (o.ids && o.ids.length === 0) return this;
    if (this.ids && o.ids && (this.ids.length + o.ids.length) * 32 < this.size)
      return NsSet.fromSortedIds(this.size, unionSorted(this.ids, o.ids));
    const a = this.bits();
    const w = new Uint32Array(a);
    if (o.ids) for (const i of o.ids) w[i >>> 5]! |= 1 << (i & 31);
    else {
      const b = o.words!;
      for (let i = 0; i < w.length; i++) w[i]! |= b[i]!;
    }
    return NsSet.compact(this.size, w);
  }

  not(): NsSet {
    const a = this.bits();
    const w = new Uint32Array(a.length);
    for (let i = 0; i < w.length; i++) w[i] = ~a[i]! >>> 0;
    return NsSet.fromWords(this.size, w);
  }

  isEmpty(): boolean {
    if (this.ids) return this.ids.length === 0;
    const words = this.words!;
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }

  count(): number {
    return this.ids ? this.ids.length : popcount(this.words!);
  }

  /** Member indices in ascending order. */
  indices(): number[] {
    if (this.ids) return Array.from(this.ids);
    const out: number[] = [];
    const words = this.words!;
    for (let w = 0; w < words.length; w++) {
      let x = words[w]!;
      while (x !== 0) {
        const bit = x & -x;
        out.push((w << 5) + 31 - Math.clz32(bit));
        x ^= bit;
      }
    }
    return out;
  }
}

function popcount(words: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    let x = words[i]!;
    x = x - ((x >>> 1) & 0x55555555);
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}

function dedupeSorted(ids: Int32Array): Int32Array {
  let k = 0;
  for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[k++] = ids[i]!;
  return ids.subarray(0, k);
}

function intersectSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(Math.min(a.length, b.length));
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out[k++] = x;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out.subarray(0, k);
}

function unionSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x === y) {
      out[k++] = x;
      i++;
      j++;
    } else if (x < y) {
      out[k++] = x;
      i++;
    } else {
      out[k++] = y;
      j++;
    }
  }
  return out.subarray(0, k);
}
