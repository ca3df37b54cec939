/**
 * YAML manifests (possibly multi-document) -> objects, every document and List item with its own
 * line. The only module of the manifest source that loads the YAML parser; it is imported only
 * when a file is YAML.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '../../errors.js';
import { collect, type ManifestParseResult, type YamlNodes } from './manifest-objects.js';

/** Parses YAML text into objects, flattening Lists. Throws InputError (file:line) when it is not valid YAML. */
export function parseYamlManifest(text: string, file: string): ManifestParseResult {
  const out: ManifestParseResult = { objects: [], problems: [] };
  const lineCounter = new LineCounter();
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const nodes: YamlNodes = {
    itemNodes(node) {
      const itemsNode = isMap(node) ? node.get('items', true) : undefined;
      return isSeq(itemsNode) ? itemsNode.items : [];
    },
    lineOf,
  };
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(docs)) return out; // an empty stream: only comments or nothing
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) {
      throw new InputError(file, `invalid YAML: ${error.message}`, { line: lineOf(error.pos[0]), cause: error });
    }
    const node = doc.contents;
    const line = lineOf(node?.range?.[0] ?? 0);
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (e) {
      throw new InputError(file, `invalid YAML: ${e instanceof Error ? e.message : String(e)}`, { line, cause: e });
    }
    if (value === null || value === undefined) continue; // an empty document (`---` with nothing after it)
    collect(value, { file, line }, '', node, nodes, out);
  }
  return out;
}
