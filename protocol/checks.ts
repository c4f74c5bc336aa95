// Small composable checkers for the messages between the extension host and its webviews (protocol/webview.ts for
// the graph, protocol/dashboard.ts for the run dashboard). A checker returns an error string naming the path of the
// first bad value, or null. No imports: the browser bundles use these as they are.

export type Check = (v: unknown, at: string) => string | null;

export type Validation<T> = { ok: true; message: T } | { ok: false; error: string };

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const MAX_DEFAULT_STRING = 4096;
const MAX_DEFAULT_ITEMS = 100_000;

export const str =
  (max = MAX_DEFAULT_STRING): Check =>
  (v, at) =>
    typeof v !== 'string' ? `${at} must be a string` : v.length > max ? `${at} is longer than ${max} characters` : null;

export const count: Check = (v, at) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : `${at} must be a non-negative integer`);
export const finite: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? null : `${at} must be a finite number`);
export const nonNegative: Check = (v, at) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? null : `${at} must be a finite number >= 0`);
export const bool: Check = (v, at) => (typeof v === 'boolean' ? null : `${at} must be a boolean`);
export const oneOf =
  (...values: string[]): Check =>
  (v, at) =>
    typeof v === 'string' && values.includes(v) ? null : `${at} must be one of ${values.join(', ')}`;
export const literal =
  (value: number | string): Check =>
  (v, at) =>
    v === value ? null : `${at} must be ${JSON.stringify(value)}`;
export const nullable =
  (c: Check): Check =>
  (v, at) =>
    v === null ? null : c(v, at);
/** An optional field: absent (undefined) or valid. */
export const optional =
  (c: Check): Check =>
  (v, at) =>
    v === undefined ? null : c(v, at);
export const arrayOf =
  (c: Check, max = MAX_DEFAULT_ITEMS): Check =>
  (v, at) => {
    if (!Array.isArray(v)) return `${at} must be an array`;
    if (v.length > max) return `${at} has more than ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const e = c(v[i], `${at}[${i}]`);
      if (e) return e;
    }
    return null;
  };
export const tuple =
  (...cs: Check[]): Check =>
  (v, at) => {
    if (!Array.isArray(v) || v.length !== cs.length) return `${at} must be an array of ${cs.length}`;
    for (let i = 0; i < cs.length; i++) {
      const e = cs[i](v[i], `${at}[${i}]`);
      if (e) return e;
    }
    return null;
  };
export const shape =
  (fields: Record<string, Check>): Check =>
  (v, at) => {
    if (!isObject(v)) return `${at} must be an object`;
    for (const [k, c] of Object.entries(fields)) {
      const e = c(v[k], `${at}.${k}`);
      if (e) return e;
    }
    return null;
  };
/** One checker per field of `T`, no more, no fewer: a field added to the type and not to its checker does not compile. */
export type Fields<T> = { [K in keyof T]-?: Check };

/**
 * The checker of an object type, tied to the type: `shapeOf<GraphNode>()({ id: count, ... })` (a missing or extra key
 * is a compile error). Curried so that `T` is given and the fields are still checked as an object literal.
 */
export const shapeOf =
  <T>() =>
  (fields: Fields<T>): Check =>
    shape(fields as Record<string, Check>);

/** A message of the union `U` whose `type` is `K`, less the `type` (validateMessage has matched it). */
export type Body<U extends { type: string }, K extends U['type']> = Omit<Extract<U, { type: K }>, 'type'>;

/** The checkers of a message union, one per `type`, each tied to its variant's fields; `refine` adds a check to some. */
export function messageChecks<U extends { type: string }>(
  fields: { [K in U['type']]: Fields<Body<U, K>> },
  refine: { [K in U['type']]?: Check } = {},
): Record<U['type'], Check> {
  const out = {} as Record<U['type'], Check>;
  for (const type of Object.keys(fields) as U['type'][]) {
    const base = shapeOf<Body<U, typeof type>>()(fields[type]);
    const more = refine[type];
    out[type] = more ? all(base, more) : base;
  }
  return out;
}

export const recordOf =
  (c: Check, max = 1024): Check =>
  (v, at) => {
    if (!isObject(v)) return `${at} must be an object`;
    const entries = Object.entries(v);
    if (entries.length > max) return `${at} has more than ${max} keys`;
    for (const [k, x] of entries) {
      const e = c(x, `${at}.${k}`);
      if (e) return e;
    }
    return null;
  };
/** All of the checks, in order. */
export const all =
  (...cs: Check[]): Check =>
  (v, at) => {
    for (const c of cs) {
      const e = c(v, at);
      if (e) return e;
    }
    return null;
  };

/**
 * The version a peer announced (a page's `ready`, the server's answers) against ours: null when they agree, else what
 * to tell the user. Both sides ship in one extension, so a mismatch is a page or a server left from an older one.
 */
export function protocolMismatch(peer: string, received: number, ours: number): string | null {
  return received === ours ? null : `this ${peer} speaks protocol ${received}, the extension ${ours}: reload the window (Developer: Reload Window)`;
}

/** Check a message against the checker of its `type`; `side` names the sender in errors. */
export function validateMessage<T extends { type: string }>(raw: unknown, checks: Record<string, Check>, side: string): Validation<T> {
  if (!isObject(raw)) return { ok: false, error: `${side} message must be an object` };
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(checks, type)) {
    return { ok: false, error: `unknown ${side} message type ${JSON.stringify(type)?.slice(0, 64)}` };
  }
  const error = checks[type](raw, type);
  return error ? { ok: false, error } : { ok: true, message: raw as unknown as T };
}
