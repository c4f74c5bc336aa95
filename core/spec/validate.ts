// Validate spec data against schemas/dsod.schema.json with ajv, and turn ajv's errors into findings a person can act on:
// one per real problem, pointing at the node it concerns, with "did you mean" where a known name is close.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import schema from '../../schemas/dsod.schema.json';
import type { DiagnosticCode } from '../codes';
import type { Finding, Path } from '../diagnostics';

/** The schema checks' codes, `schema/<kind>`, as core/codes.ts registers them. */
type SchemaKind = DiagnosticCode extends infer C ? (C extends `schema/${infer K}` ? K : never) : never;

export const specSchema = schema;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'markdownDescription', schemaType: 'string' });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/**
 * The spec's data with every section left empty (`backbone:` and nothing under it: YAML's null) read as an empty
 * mapping, as a writer means it while typing the section's keys; the section's own required keys still say what it
 * lacks. Only keys whose schema allows a mapping change (`stem:` reads as `stem: {}`, the stem with its defaults); the data given is not modified.
 */
export function emptySectionsAsMappings(value: unknown, schemaAt: Record<string, any> = schema as Record<string, any>): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !schemaAt.properties) return value;
  let out: Record<string, unknown> | null = null;
  for (const [key, sub] of Object.entries(value as Record<string, unknown>)) {
    const property = schemaAt.properties[key];
    const types: unknown[] = Array.isArray(property?.type) ? property.type : [property?.type];
    if (!types.includes('object')) continue;
    const next = sub === null ? {} : emptySectionsAsMappings(sub, property);
    if (next !== sub) (out ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return out ?? value;
}

export function validateSpec(value: unknown): Finding[] {
  const validate = validator();
  if (validate(value)) return [];
  const errors = relevantErrors(validate.errors ?? []);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const finding = describe(error);
    const key = `${finding.code}|${finding.path.join('/')}|${finding.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(finding);
    }
  }
  return findings;
}

/** JSON pointer -> path segments (array indices as numbers). */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

export function displayPath(path: Path): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out || 'the spec';
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeAccepts(schemaType: unknown, actual: string): boolean {
  const types = Array.isArray(schemaType) ? schemaType : [schemaType];
  return types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
}

/**
 * ajv reports every failing branch of an `anyOf`. Keep the errors of the one branch whose type fits the value
 * (a block given as an object gets the object's errors); when no branch fits, keep the `anyOf` error alone.
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const choices = errors
    .filter((e) => e.keyword === 'anyOf')
    .map((e) => {
      const branches = e.schema as { type?: unknown; enum?: unknown[] }[];
      const actual = jsonType(e.data);
      const fitting = branches.map((b, i) => (b.type !== undefined && typeAccepts(b.type, actual) ? i : -1)).filter((i) => i >= 0);
      return { error: e, branch: fitting.length === 1 ? fitting[0] : -1 };
    });
  const inside = (e: ErrorObject, c: (typeof choices)[number]) =>
    e !== c.error &&
    e.schemaPath.startsWith(c.error.schemaPath + '/') &&
    (e.instancePath === c.error.instancePath || e.instancePath.startsWith(c.error.instancePath + '/'));
  return errors.filter((e) => {
    for (const c of choices) {
      if (e === c.error) {
        if (c.branch >= 0) return false; // the chosen branch's own errors say it better
        continue;
      }
      if (!inside(e, c)) continue;
      if (c.branch < 0) return false;
      const branch = Number(e.schemaPath.slice(c.error.schemaPath.length + 1).split('/')[0]);
      if (branch !== c.branch) return false;
    }
    return true;
  });
}

function describe(e: ErrorObject): Finding {
  const path = pointerToPath(e.instancePath);
  const where = displayPath(path);
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const base = (code: SchemaKind, message: string, at: 'key' | 'value' = 'value', p: Path = path): Finding => ({
    code: `schema/${code}`,
    message,
    path: p,
    at,
  });
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return base('required', `Missing required property "${missing}" in ${where}.`, 'key');
    }
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((parent?.properties as object) ?? {});
      const suggestion = suggest(key, known);
      const hint = suggestion ? ` Did you mean "${suggestion}"?` : known.length ? ` Known properties: ${known.join(', ')}.` : '';
      return { ...base('unknown-key', `Unknown property "${key}" in ${where}.${hint}`, 'key', [...path, key]), suggestion };
    }
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type).split(',');
      return base('type', `Incorrect type for ${where}: expected ${orList(expected)}, got ${jsonType(e.data)}.`);
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      const suggestion = typeof e.data === 'string' ? suggest(e.data, allowed.map(String)) : undefined;
      const hint = suggestion ? ` Did you mean "${suggestion}"?` : '';
      if (path.length === 3 && path[0] === 'hints' && path[1] === 'ignore') {
        // Only the design-principle hints can be silenced; warnings and errors always show.
        return {
          ...base('enum', `${JSON.stringify(e.data)} is not a kind of design-principle hint; hints.ignore takes ${orList(allowed.map(String))}.${hint}`),
          suggestion,
        };
      }
      return {
        ...base('enum', `${JSON.stringify(e.data)} is not allowed for ${where}; expected ${orList(allowed.map((a) => JSON.stringify(a)))}.${hint}`),
        suggestion,
      };
    }
    case 'const':
      return base('const', `${where} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}.`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const { comparison, limit } = e.params as { comparison: string; limit: number };
      return base('range', `${where} must be ${comparison} ${limit} (got ${JSON.stringify(e.data)}).`);
    }
    case 'minItems':
    case 'maxItems': {
      const limit = (e.params as { limit: number }).limit;
      const words = e.keyword === 'minItems' ? 'at least' : 'at most';
      return base('items', `${where} must have ${words} ${limit} item${limit === 1 ? '' : 's'} (has ${(e.data as unknown[]).length}).`);
    }
    case 'uniqueItems': {
      const { i, j } = e.params as { i: number; j: number };
      const [earlier, later] = [Math.min(i, j), Math.max(i, j)];
      return base('unique', `${where} lists ${JSON.stringify((e.data as unknown[])[later])} twice (items ${earlier + 1} and ${later + 1}).`, 'value', [
        ...path,
        later,
      ]);
    }
    case 'minLength':
      return base('empty', `${where} must not be empty.`);
    case 'pattern': {
      const examples = (parent?.examples as unknown[] | undefined)?.map((x) => JSON.stringify(x)).join(' or ');
      return base('format', `${JSON.stringify(e.data)} is not a valid value for ${where}${examples ? `; write it like ${examples}` : ''}.`);
    }
    case 'anyOf': {
      const branches = e.schema as { type?: unknown; enum?: unknown[] }[];
      const options = branches.flatMap((b) => (b.enum ? b.enum.map((v) => JSON.stringify(v)) : [String(b.type)]));
      return base('type', `Invalid value for ${where}: expected ${orList(options)}, got ${jsonType(e.data)}.`);
    }
    default:
      return base('invalid', `${where} ${e.message ?? 'is invalid'} (${e.keyword}).`);
  }
}

/** The closest known name, if it is close enough to be a typo. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower || k.replace(/_/g, '') === lower.replace(/[-_ ]/g, ''));
  if (exact) return exact;
  const best = closest(lower, known as string[]);
  return distance(lower, best.toLowerCase()) <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
