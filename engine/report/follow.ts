// Following a run folder while processes write to it: the events appended to events.jsonl (only the new bytes are
// read; a partial last line waits for its newline) and the other files changing (metrics, curves, the inference
// record, checkpoints, weights). fs.watch on the folder wakes it at once; a poll catches what watching misses
// (network drives, editors' atomic saves, platforms where fs.watch is flaky). Node only, no vscode: the dashboard
// panel uses it and the tests drive it directly.
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../../protocol/engine-events';
import { RUN_FILES } from '../../protocol/run-files';
import { trainingHolder } from '../train/run-lock';
import { INFERENCE_RECORD, parseEventLines } from './run-folder';

const CHUNK = 4 * 1024 * 1024;

/** Reads what was appended to a file of JSON lines since the last call. */
export class EventsTail {
  private partial: Buffer = Buffer.alloc(0);

  /** `offset`: where complete lines already read end (a snapshot's eventsBytes). */
  constructor(
    readonly file: string,
    private offset = 0,
  ) {}

  get position(): number {
    return this.offset;
  }

  /**
   * The complete lines appended since the last read, parsed and validated. `reset` when the file became shorter than
   * what was read (replaced or truncated): the caller should read the folder again from the start.
   */
  read(): { events: EngineEvent[]; skipped: number; reset: boolean } {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return { events: [], skipped: 0, reset: false }; // not there yet
    }
    try {
      const size = fstatSync(fd).size;
      const read = this.offset + this.partial.length;
      if (size < read) {
        this.offset = 0;
        this.partial = Buffer.alloc(0);
        return { events: [], skipped: 0, reset: true };
      }
      const chunks: Buffer[] = [this.partial];
      let pos = read;
      while (pos < size) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        chunks.push(buf.subarray(0, n));
        pos += n;
      }
      const all = Buffer.concat(chunks);
      const end = all.lastIndexOf(0x0a);
      if (end < 0) {
        this.partial = all;
        return { events: [], skipped: 0, reset: false };
      }
      // Split bytes at the newline, not characters: a multi-byte character may straddle two reads.
      const lines = all.subarray(0, end).toString('utf8').split('\n');
      this.partial = Buffer.from(all.subarray(end + 1));
      this.offset += end + 1;
      const parsed = parseEventLines(lines);
      return { events: parsed.events, skipped: parsed.skipped, reset: false };
    } finally {
      closeSync(fd);
    }
  }
}

/** The files whose change means "read the artifacts again". */
const WATCHED = [RUN_FILES.metrics, RUN_FILES.curves, RUN_FILES.weights, INFERENCE_RECORD, RUN_FILES.checkpoints];

/** The watched files' sizes and times, and whether a live process trains the run (a killed one changes nothing on disk). */
function signature(runDir: string): string {
  const training = trainingHolder(runDir) !== null ? 'training' : 'idle';
  return (
    training +
    '|' +
    WATCHED.map((f) => {
      try {
        const s = statSync(join(runDir, f));
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return '-';
      }
    }).join('|')
  );
}

export interface FollowCallbacks {
  events(events: EngineEvent[], skipped: number): void;
  /** metrics.json, pr-curves.json, the inference record, checkpoints or weights changed. */
  artifacts(): void;
  /** events.jsonl was replaced or truncated: read the folder again. */
  reset(): void;
}

export interface FollowOptions {
  pollMs?: number;
  /** Coalesce bursts of watch notifications. */
  debounceMs?: number;
  /** false: poll only (tests of the fallback). */
  watch?: boolean;
}

/** Follows a run folder from `offset` (a snapshot's eventsBytes) until disposed. */
export class RunFollower {
  private readonly tail: EventsTail;
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private lastSignature: string;
  private disposed = false;
  /** How the follower noticed changes so far (tests read it). */
  readonly wakeups = { watch: 0, poll: 0 };

  constructor(
    readonly runDir: string,
    offset: number,
    private readonly on: FollowCallbacks,
    private readonly o: FollowOptions = {},
  ) {
    this.tail = new EventsTail(join(runDir, RUN_FILES.events), offset);
    this.lastSignature = signature(runDir);
    this.startWatching();
    this.poller = setInterval(() => {
      this.wakeups.poll++;
      this.startWatching(); // the folder may not have existed when following began
      this.check();
    }, o.pollMs ?? 1000);
    this.poller.unref?.();
  }

  get watching(): boolean {
    return this.watcher !== null;
  }

  private startWatching(): void {
    if (this.watcher || this.disposed || this.o.watch === false) return;
    try {
      this.watcher = watch(this.runDir, { persistent: false }, () => this.soon());
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = null; // not there yet, or not watchable: the poll does the work
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private soon(): void {
    if (this.disposed || this.debounce) return;
    this.wakeups.watch++;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.check();
    }, this.o.debounceMs ?? 30);
  }

  /** Read what is new now. Safe to call at any time. */
  check(): void {
    if (this.disposed) return;
    let r: ReturnType<EventsTail['read']>;
    try {
      r = this.tail.read();
    } catch {
      return; // a transient read error: the next wake-up tries again
    }
    if (r.reset) {
      this.on.reset();
      return;
    }
    if (r.events.length || r.skipped) this.on.events(r.events, r.skipped);
    const sig = signature(this.runDir);
    if (sig !== this.lastSignature) {
      this.lastSignature = sig;
      this.on.artifacts();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.stopWatching();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
    this.poller = this.debounce = null;
  }
}
