import { Tree } from '@nx/devkit';
import { Document, isMap, isSeq, parseDocument, YAMLMap } from 'yaml';

export const REGISTRY_FILE = '.ai/project/DOMAIN_REGISTRY.yaml';

/** The registry as an editable YAML document (comments and order kept). */
export function readRegistryDoc(tree: Tree): Document {
  const text = tree.read(REGISTRY_FILE, 'utf-8');
  if (text === null) throw new Error(`${REGISTRY_FILE} not found: this is not a Weir workspace`);
  return parseDocument(text);
}

export function writeRegistryDoc(tree: Tree, doc: Document): void {
  tree.write(REGISTRY_FILE, doc.toString({ lineWidth: 0 }));
}

/** The registered slice, or an error telling the user to register it first. */
export function requireSlice(doc: Document, name: string, forWhat: string): YAMLMap {
  const slices = doc.get('slices');
  const registered = isMap(slices)
    ? slices.items.map((i) => String((i.key as { value?: unknown })?.value ?? i.key))
    : [];
  const node = isMap(slices) ? slices.get(name) : undefined;
  if (!isMap(node)) {
    throw new Error(
      `Refusing to ${forWhat}: slice "${name}" is not registered in ${REGISTRY_FILE}.\n` +
        `Registered slices: ${registered.join(', ') || 'none'}.\n` +
        `Add it there first (status, schema, purpose, http_prefix, tables, ports, depends_on), then run the generator again.`,
    );
  }
  return node;
}

export function stringList(node: YAMLMap, key: string): string[] {
  const v = node.get(key);
  return isSeq(v) ? v.items.map((i) => String((i as { value?: unknown })?.value ?? i)) : [];
}

export const names = {
  pascal: (s: string) =>
    s
      .split(/[-_\s]+/)
      .filter(Boolean)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(''),
  kebab: (s: string) => s.replace(/_/g, '-'),
  constant: (s: string) => s.replace(/-/g, '_').toUpperCase(),
};
