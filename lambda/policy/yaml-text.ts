/**
 * Serialises generated objects as a YAML stream: key order as built, no line folding, and strings
 * quoted wherever YAML 1.1 (what kubectl and the Kubernetes API read) would take them for
 * something else (`yes`, `on`, `2024-01-15`, `012`).
 */
import { Document } from 'yaml';

export function toYamlStream(header: readonly string[], objects: readonly unknown[]): string {
  const docs = objects.map((obj) =>
    new Document(obj, { version: '1.1' }).toString({ lineWidth: 0, minContentWidth: 0 }),
  );
  const comment = header.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  return `${comment}\n---\n${docs.join('---\n')}`;
}
