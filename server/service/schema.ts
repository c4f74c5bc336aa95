// Look-ups in the spec's JSON Schema by data path: what a key means, which keys and values are allowed there.
import { specSchema, type Path } from '../../core';

export type SchemaNode = Record<string, any>;

/** The object-shaped alternative of a schema (its own properties, or an `anyOf` branch that has them). */
function objectBranch(s: SchemaNode | undefined): SchemaNode | undefined {
  if (!s) return undefined;
  if (s.properties) return s;
  return (s.anyOf as SchemaNode[] | undefined)?.find((b) => b.properties);
}

/** The schema of the value at `path`, or undefined when the path leaves the language. */
export function schemaAt(path: Path): SchemaNode | undefined {
  let s: SchemaNode | undefined = specSchema as SchemaNode;
  for (const segment of path) {
    if (!s) return undefined;
    if (typeof segment === 'number') {
      s = s.items;
    } else {
      s = objectBranch(s)?.properties?.[segment];
    }
  }
  return s;
}

/** The keys allowed in the mapping at `path`, with their schemas. */
export function propertiesAt(path: Path): [string, SchemaNode][] {
  const s = objectBranch(schemaAt(path));
  return s ? Object.entries<SchemaNode>(s.properties) : [];
}

/** Literal values worth offering for a schema: enum members, booleans, the default and the examples. */
export function valuesFor(s: SchemaNode | undefined): unknown[] {
  if (!s) return [];
  const out: unknown[] = [];
  const add = (v: unknown) => {
    if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
  };
  for (const branch of [s, ...((s.anyOf as SchemaNode[]) ?? [])]) {
    for (const v of branch.enum ?? []) add(v);
    if (branch.const !== undefined) add(branch.const);
    const types = Array.isArray(branch.type) ? branch.type : [branch.type];
    if (types.includes('boolean')) [true, false].forEach(add);
  }
  if (s.default !== undefined) add(s.default);
  for (const v of s.examples ?? []) add(v);
  return out;
}

/** A value as it reads in YAML flow style (`[2, 3]`, `{ pool: false, channels: 256 }`). */
export function yamlFlow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlFlow).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${yamlFlow(x)}`)
      .join(', ')} }`;
  if (typeof v === 'string') return /^[A-Za-z_][\w./-]*$/.test(v) && !['true', 'false', 'null', 'yes', 'no'].includes(v) ? v : JSON.stringify(v);
  return String(v);
}
