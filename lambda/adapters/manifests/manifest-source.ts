/**
 * A ClusterSource over files: manifest folders, multi-document YAML, JSON, and `kubectl get -o json|yaml`
 * dumps (`kind: List` / `*List`). Every Namespace becomes a model Namespace; every other object is kept
 * as a ResourceObject with the file and line it came from, so engines decide what they read.
 *
 * A file that cannot be decoded or parsed is an InputError (the whole read fails: the input is not what
 * the user thinks it is); an object that is merely malformed is an InputProblem and the read goes on.
 * The YAML parser is loaded only when a file is YAML.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { ClusterSnapshot, InputProblem } from '../../audit/index.js';
import { InputError, UsageError } from '../../errors.js';
import type { ClusterSource } from '../../ports.js';
import { parseJsonManifest, snapshotFromObjects, stripBom, type ManifestItem } from './manifest-objects.js';

export interface ManifestSourceOptions {
  /** Files or folders; folders are walked recursively for .yaml, .yml and .json files. */
  readonly paths: readonly string[];
  /** The cluster name; defaults to the base name of the first path, without its extension. */
  readonly cluster?: string;
}

const MANIFEST_FILE_RE = /\.(ya?ml|json)$/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function createManifestSource(options: ManifestSourceOptions): ClusterSource {
  const first = options.paths[0];
  if (first === undefined) throw new UsageError('the manifest source needs at least one file or folder');
  const cluster = options.cluster ?? defaultClusterName(first);

  return {
    cluster,
    async read(): Promise<ClusterSnapshot> {
      const problems: InputProblem[] = [];
      const files = await listManifestFiles(options.paths, problems);
      if (files.length === 0) {
        throw new InputError(options.paths.join(', '), 'no .yaml, .yml or .json files found');
      }
      const items: ManifestItem[] = [];
      for (const file of files) {
        const text = stripBom(await readText(file));
        const parsed =
          parseJsonManifest(text, file) ?? (await import('./manifest-yaml.js')).parseYamlManifest(text, file);
        for (const item of parsed.objects) items.push(item);
        for (const problem of parsed.problems) problems.push(problem);
      }
      const snapshot = snapshotFromObjects(cluster, items);
      return { ...snapshot, problems: [...problems, ...snapshot.problems] };
    },
  };
}

/** `dumps/prod-eu.json` -> "prod-eu"; `clusters/staging/` -> "staging"; `.` -> the current folder's name. */
export function defaultClusterName(path: string): string {
  const base = basename(resolve(path));
  return MANIFEST_FILE_RE.test(base) ? base.slice(0, -extname(base).length) : base;
}

// ---------------------------------------------------------------------------------------------
// Files

async function listManifestFiles(paths: readonly string[], problems: InputProblem[]): Promise<string[]> {
  const files: string[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const add = (file: string): void => {
    const key = resolve(file);
    if (!seenFiles.has(key)) {
      seenFiles.add(key);
      files.push(file);
    }
  };

  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const entries = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(full);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          problems.push({ message: 'broken symbolic link skipped', source: { file: full } });
          continue;
        }
      }
      if (isDir) await walk(full);
      else if (isFile && MANIFEST_FILE_RE.test(entry.name)) add(full);
    }
  };

  for (const path of paths) {
    try {
      const info = await stat(path);
      // A file named explicitly is read whatever its extension.
      if (info.isDirectory()) await walk(path);
      else add(path);
    } catch (e) {
      throw asInputError(path, e);
    }
  }
  return files;
}

async function readText(file: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw asInputError(file, e);
  }
  return decodeUtf8(bytes, file);
}

function asInputError(file: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : `cannot read: ${e instanceof Error ? e.message : String(e)}`;
  return new InputError(file, message, { cause: e });
}

/** Decodes strict UTF-8 (a BOM is dropped); anything else is an InputError naming the byte offset. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (e) {
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
      throw new InputError(file, 'not UTF-8: the file is UTF-16 (byte-order mark at byte offset 0); save it as UTF-8', {
        line: 1,
        cause: e,
      });
    }
    const offset = invalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
    throw new InputError(file, `not valid UTF-8: byte 0x${byte} at byte offset ${offset}`, { line, cause: e });
  }
}

/** The offset of the first byte that starts an invalid UTF-8 sequence (bytes.length when none does). */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    const extra = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (extra === 0) return i;
    // The second byte's range is narrower after E0, ED, F0 and F4 (no overlongs, surrogates or > U+10FFFF).
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += extra + 1;
  }
  return bytes.length;
}
