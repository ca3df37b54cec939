/**
 * A list's continue token, read from the head of its body before the rest has arrived.
 *
 * The API server writes a list as `{"kind":…,"apiVersion":…,"metadata":{…,"continue":"…"},
 * "items":[…]}`: the token for the next page is in the first few hundred bytes, ahead of the items.
 * Reading it there lets the next page be asked for while this one is still arriving and being
 * parsed, so the pages of one list no longer wait for each other's transfer and parsing, only for
 * the server. Anything unexpected (items before metadata, a body that is not an object, a head too
 * large) gives up, and the token is then taken from the parsed body as before. The parsed body
 * stays the authority: the reader checks that it carries the same token before using a page asked
 * for early.
 */

import { continueTokenFromProtobufHead, isProtobuf } from './protobuf.js';

/** How much of a body's head (bytes) is looked at before giving up. */
export const LIST_HEAD_MAX_BYTES = 64 * 1024;

/** Not decided yet: more of the body is needed. */
export const MORE = 'more' as const;
/** No token can be read early (last page, or a body not laid out as the API server lays it out). */
export const NONE = 'none' as const;

/** A continue token read early. */
export interface EarlyToken {
  readonly token: string;
}

/** The continue token in `head` (the start of a list body), or MORE, or NONE. Never throws. */
export function continueTokenFromHead(head: string): EarlyToken | typeof MORE | typeof NONE {
  let i = skipSpace(head, 0);
  if (i >= head.length) return MORE;
  if (head.charCodeAt(i) !== 0x7b /* { */) return NONE;
  i++;
  for (;;) {
    i = skipSpace(head, i);
    if (i >= head.length) return MORE;
    if (head.charCodeAt(i) !== 0x22 /* " */) return NONE; // `}` (no metadata) or not JSON
    const keyEnd = stringEnd(head, i);
    if (keyEnd === INCOMPLETE) return MORE;
    const key = parse(head.slice(i, keyEnd));
    if (typeof key !== 'string') return NONE;
    i = skipSpace(head, keyEnd);
    if (i >= head.length) return MORE;
    if (head.charCodeAt(i) !== 0x3a /* : */) return NONE;
    i = skipSpace(head, i + 1);
    if (i >= head.length) return MORE;
    if (key === 'items') return NONE;
    const end = valueEnd(head, i);
    if (end === INCOMPLETE) return MORE;
    if (key === 'metadata') {
      const metadata = parse(head.slice(i, end));
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return NONE;
      const token = (metadata as { continue?: unknown }).continue;
      return typeof token === 'string' && token !== '' ? { token } : NONE;
    }
    i = skipSpace(head, end);
    if (i >= head.length) return MORE;
    if (head.charCodeAt(i) !== 0x2c /* , */) return NONE;
    i++;
  }
}

/**
 * Collects a body's first chunks until its continue token is known, then says so once through
 * `found` (only for a real token; never after giving up). Feed it every chunk of a 2xx body; it
 * never throws, whatever `found` does.
 */
export function listHeadReader(found: (token: string) => void): (chunk: Buffer) => void {
  let decided = false;
  let pending: Buffer[] = [];
  let bytes = 0;
  // Only as much of the head is decoded as it takes: the metadata is in the first few hundred bytes.
  let window = 1024;
  return (chunk) => {
    if (decided) return;
    pending.push(chunk);
    bytes += chunk.length;
    const all = pending.length === 1 ? chunk : Buffer.concat(pending, Math.min(bytes, LIST_HEAD_MAX_BYTES));
    const decide = (early: EarlyToken | typeof MORE | typeof NONE): void => {
      if (early === MORE && bytes < LIST_HEAD_MAX_BYTES) {
        if (pending.length > 1) pending = [all];
        return;
      }
      decided = true;
      pending = [];
      if (typeof early !== 'object') return;
      try {
        found(early.token);
      } catch {
        // Called from the stream's data events: nothing may throw into them. Reading ahead is
        // only an optimisation; the page's own token is used instead.
      }
    };
    // A protobuf list (`k8s\0...`): its metadata comes first too.
    if (all[0] === 0x6b && (all.length < 4 || isProtobuf(all))) {
      decide(continueTokenFromProtobufHead(all.subarray(0, Math.min(bytes, LIST_HEAD_MAX_BYTES))));
      return;
    }
    for (;;) {
      const size = Math.min(bytes, window, LIST_HEAD_MAX_BYTES);
      // A character cut at the end of the window only ever lies in a part not yet complete.
      const early = continueTokenFromHead(all.toString('utf8', 0, size));
      if (early === MORE && size < bytes && size < LIST_HEAD_MAX_BYTES) {
        window *= 4;
        continue;
      }
      decide(early);
      return;
    }
  };
}

const INCOMPLETE = -1;

function skipSpace(s: string, i: number): number {
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
  }
  return i;
}

/** The index after the string starting at `i` (a `"`), or INCOMPLETE. */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j + 1;
  }
  return INCOMPLETE;
}

/** The index after the JSON value starting at `i`, or INCOMPLETE. Validity is JSON.parse's to judge. */
function valueEnd(s: string, i: number): number {
  const first = s.charCodeAt(i);
  if (first === 0x22) return stringEnd(s, i);
  if (first === 0x7b || first === 0x5b /* [ */) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        const e = stringEnd(s, j);
        if (e === INCOMPLETE) return INCOMPLETE;
        j = e - 1;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return INCOMPLETE;
  }
  // A number, true, false or null: ends at the first delimiter (at the end, it may go on).
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return j;
  }
  return INCOMPLETE;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
