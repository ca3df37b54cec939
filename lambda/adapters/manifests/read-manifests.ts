/**
 * The manifest reader's public surface: the ClusterSource over files (manifest-source.ts) and the
 * pure steps it is made of, text -> objects (JSON in manifest-objects.ts, YAML in manifest-yaml.ts)
 * and objects -> snapshot.
 */
import { parseJsonManifest, stripBom, type ManifestParseResult } from './manifest-objects.js';
import { parseYamlManifest } from './manifest-yaml.js';

export { createManifestSource, decodeUtf8, defaultClusterName, type ManifestSourceOptions } from './manifest-source.js';
export { snapshotFromObjects, type ManifestItem, type ManifestParseResult } from './manifest-objects.js';

/**
 * Parses one file's text into objects, flattening Lists. Pure. JSON goes through JSON.parse (fast
 * enough for a 100,000-namespace dump), where all items of a List share the line the List starts on;
 * YAML (possibly multi-document) gives every document and List item its own line.
 * A `.json` file is JSON unless it does not start with `{` or `[` (YAML saved as .json); any other
 * file is YAML, tried as JSON first when it starts with `{`.
 * Throws InputError (file:line) when the text is not valid YAML or JSON.
 */
export function parseManifestText(text: string, file: string): ManifestParseResult {
  const source = stripBom(text);
  return parseJsonManifest(source, file) ?? parseYamlManifest(source, file);
}
