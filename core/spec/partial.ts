// What a spec with schema errors can still be checked as: its unknown keys dropped and its invalid sections left to their
// defaults, with a record of what was set aside, so that one error hides only what it touches.
import type { Finding, Path } from '../diagnostics';
import { validateSpec } from './validate';

/** The sections whose values shape the network's numbers; the others (name, train, data, budget, ...) shape none. */
export const NETWORK_SECTIONS = ['input', 'classes', 'backbone', 'prediction', 'heads', 'priors'] as const;
export type NetworkSection = (typeof NETWORK_SECTIONS)[number];

/** One part of the spec a partial check left out: an unknown key (it means nothing), or a section with an invalid value. */
export interface SetAside {
  path: Path;
  why: 'unknown-key' | 'invalid-section';
}

/**
 * The sections each kind of number is computed from: the input size shapes every tensor; a backbone stage reads nothing
 * else; a prediction scale also reads the prediction structure and the default boxes; a head also the classes and its
 * own settings. A number is the spec's own only when none of its sections was replaced by defaults.
 */
export const NUMBERS_READ: Record<'backbone' | 'scale' | 'head' | 'totals', readonly NetworkSection[]> = {
  backbone: ['input', 'backbone'],
  scale: ['input', 'backbone', 'prediction', 'priors'],
  head: ['input', 'backbone', 'prediction', 'priors', 'classes', 'heads'],
  totals: NETWORK_SECTIONS,
};

/** The other sections a spec-level check of a section reads (normalize and lintSpec): its findings need them valid. */
const CHECK_READS: Record<string, readonly string[]> = {
  backbone: ['prediction'], // prediction.first picks the transition that feeds scale 1
  prediction: ['backbone'],
  priors: ['input', 'prediction'], // one entry per scale; sizes against the input
};

/** Whether a spec-level finding at `path` reads a section that defaults now stand in for (it would be an artefact). */
export function readsInvalid(path: Path, invalid: readonly string[]): boolean {
  const section = path[0];
  if (typeof section !== 'string') return invalid.length > 0;
  return invalid.includes(section) || (CHECK_READS[section] ?? []).some((s) => invalid.includes(s));
}

type Json = Record<string, any>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A deep copy of parsed spec data (mappings, lists, scalars): what is set aside is removed from the copy only. */
function copyData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyData);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyData(x)]));
  return v;
}

/**
 * The spec data less its schema errors: each unknown key removed where it is, each section with any other error removed
 * whole (what is left out takes DSOD300's defaults). Null when no such spec is valid: an error of the whole spec (not an
 * object, `dsod` missing or not 1), or one that removing its section does not cure.
 */
export function partialData(value: unknown, schemaFindings: readonly Finding[]): { data: Json; setAside: SetAside[] } | null {
  if (!isObject(value)) return null;
  const data = copyData(value) as Json;
  const setAside: SetAside[] = [];
  const sections = new Set<string>();
  for (const f of schemaFindings) {
    const section = f.path[0];
    if (typeof section !== 'string' || section === 'dsod') return null;
    if (f.code === 'schema/unknown-key') continue;
    sections.add(section);
  }
  for (const f of schemaFindings) {
    if (f.code !== 'schema/unknown-key' || sections.has(f.path[0] as string)) continue;
    let parent: unknown = data;
    for (const s of f.path.slice(0, -1)) parent = isObject(parent) || Array.isArray(parent) ? (parent as Json)[s] : undefined;
    const key = f.path[f.path.length - 1];
    if (isObject(parent) && typeof key === 'string' && key in parent) {
      delete parent[key];
      setAside.push({ path: f.path, why: 'unknown-key' });
    }
  }
  for (const section of sections) {
    delete data[section];
    setAside.push({ path: [section], why: 'invalid-section' });
  }
  return validateSpec(data).length === 0 ? { data, setAside } : null;
}
