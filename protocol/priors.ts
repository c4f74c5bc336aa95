// The "Default boxes" view (`DSOD: Show Default Boxes`, issue 13, item 2): what `dsod priors --json --view` gives
// the extension host (the engine reads the dataset; the host only validates and forwards), and the messages between
// the host (client/priorsPanel.ts) and the page (webview/priors/). Both sides validate everything they receive.
// No imports but the checkers: the browser bundle uses this file.
import {
  arrayOf,
  bool,
  count,
  finite,
  messageChecks,
  nonNegative,
  nullable,
  oneOf,
  shapeOf,
  str,
  tuple,
  validateMessage,
  type Check,
  type Validation,
} from './checks';

export const PRIORS_PROTOCOL_VERSION = 1;

/** The largest image the view shows, as a data: URI (a warped input-size JPEG is some tens of KB). */
export const MAX_IMAGE_URI = 4 * 1024 * 1024;
/** Box sizes the scatter draws at most (a spread sample of the dataset's). */
export const MAX_SCATTER = 5000;

export interface PriorsViewScale {
  name: string;
  rows: number;
  columns: number;
  /** Centre spacing in input px (x, y) and the offset of the first centre, in cells. */
  stepX: number;
  stepY: number;
  offset: number;
  /** The boxes of one location, input px. */
  shapes: { width: number; height: number }[];
  positives: number;
}

export interface PriorsViewSettings {
  minSize: number;
  maxSize: number | null;
  aspectRatios: number[];
}

export interface PriorsViewEdit {
  /** 0-based, as VS Code's ranges. */
  start: { line: number; character: number };
  end: { line: number; character: number };
  newText: string;
}

export interface PriorsViewData {
  protocol: number;
  spec: string;
  input: { width: number; height: number };
  images: number;
  objects: number;
  matched: number;
  meanBestIou: number;
  scales: PriorsViewScale[];
  /** A spread sample of the objects: width, height (input px) and whether a default box matches it. */
  sizes: [number, number, number][];
  /** One training image warped to the input (data:image/jpeg), with its objects (input px), or null. */
  image: { uri: string; file: string; boxes: [number, number, number, number][] } | null;
  suggestion: {
    improved: boolean;
    before: PriorsViewSettings[];
    after: PriorsViewSettings[];
    matchedAfter: number;
    edits: PriorsViewEdit[];
    error: string | null;
  } | null;
}

/** Host -> page. */
export type PriorsHostMessage = { type: 'priors'; data: PriorsViewData } | { type: 'status'; message: string };

/** Page -> host. */
export type PriorsWebviewMessage =
  | { type: 'ready'; protocol: number }
  /** Apply the suggestion's edit to the spec (a WorkspaceEdit the user can undo). */
  | { type: 'apply' }
  /** Drawn (tests wait for it): the scale and cell shown. */
  | { type: 'rendered'; scale: number; row: number; column: number; boxes: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

const text = str(4096);
const position = shapeOf<PriorsViewEdit['start']>()({ line: count, character: count });
const settings = shapeOf<PriorsViewSettings>()({ minSize: nonNegative, maxSize: nullable(nonNegative), aspectRatios: arrayOf(finite, 64) });
const imageUri: Check = (v, at) =>
  typeof v !== 'string' || !v.startsWith('data:image/jpeg;base64,') || v.length > MAX_IMAGE_URI
    ? `${at} must be a data:image/jpeg URI under ${MAX_IMAGE_URI} characters`
    : null;

export const checkPriorsViewData: Check = shapeOf<PriorsViewData>()({
  protocol: count,
  spec: text,
  input: shapeOf<PriorsViewData['input']>()({ width: count, height: count }),
  images: count,
  objects: count,
  matched: count,
  meanBestIou: nonNegative,
  scales: arrayOf(
    shapeOf<PriorsViewScale>()({
      name: str(256),
      rows: count,
      columns: count,
      stepX: nonNegative,
      stepY: nonNegative,
      offset: nonNegative,
      shapes: arrayOf(shapeOf<PriorsViewScale['shapes'][number]>()({ width: nonNegative, height: nonNegative }), 64),
      positives: count,
    }),
    64,
  ),
  sizes: arrayOf(tuple(nonNegative, nonNegative, count), MAX_SCATTER),
  image: nullable(shapeOf<NonNullable<PriorsViewData['image']>>()({ uri: imageUri, file: text, boxes: arrayOf(tuple(finite, finite, finite, finite), 1000) })),
  suggestion: nullable(
    shapeOf<NonNullable<PriorsViewData['suggestion']>>()({
      improved: bool,
      before: arrayOf(settings, 64),
      after: arrayOf(settings, 64),
      matchedAfter: count,
      edits: arrayOf(shapeOf<PriorsViewEdit>()({ start: position, end: position, newText: text }), 16),
      error: nullable(text),
    }),
  ),
});

const hostMessages = messageChecks<PriorsHostMessage>({ priors: { data: checkPriorsViewData }, status: { message: text } });

const webviewMessages = messageChecks<PriorsWebviewMessage>({
  ready: { protocol: count },
  apply: {},
  rendered: { scale: count, row: count, column: count, boxes: count },
  log: { level: oneOf('info', 'warn', 'error'), message: text },
});

/** Used by the host on what the engine printed, before anything is shown. */
export function validatePriorsViewData(raw: unknown): Validation<PriorsViewData> {
  const error = checkPriorsViewData(raw, 'priors');
  return error ? { ok: false, error } : { ok: true, message: raw as PriorsViewData };
}

/** Used by the page on everything the host posts. */
export function validatePriorsHostMessage(raw: unknown): Validation<PriorsHostMessage> {
  return validateMessage<PriorsHostMessage>(raw, hostMessages, 'host');
}

/** Used by the host on everything the page posts. */
export function validatePriorsWebviewMessage(raw: unknown): Validation<PriorsWebviewMessage> {
  return validateMessage<PriorsWebviewMessage>(raw, webviewMessages, 'priors view');
}
