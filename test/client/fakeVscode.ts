// A stand-in for the `vscode` module, just the API the run manager uses, recording what the user would see
// (notifications, progress, status bar, output, diagnostics, quick picks) so node tests can drive client/runs/ against
// the real engine. Install it with installFakeVscode() before requiring the modules that import `vscode`.
import Module from 'node:module';
import { resolve } from 'node:path';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', resolve(p));
  }
  static parse(s: string): Uri {
    return s.startsWith('file://') ? Uri.file(decodeURIComponent(s.slice(7))) : new Uri(s.split(':')[0], s);
  }
  static joinPath(u: Uri, ...parts: string[]): Uri {
    return Uri.file(resolve(u.fsPath, ...parts));
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return `file://${this.fsPath}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c!, d!) : (b as Position);
  }
}

export class Diagnostic {
  source?: string;
  code?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}

export class MarkdownString {
  value = '';
  constructor(v = '') {
    this.value = v;
  }
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
  appendText(s: string): this {
    this.value += s;
    return this;
  }
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; arguments?: unknown[] },
  ) {}
}

export class RelativePattern {
  constructor(
    readonly base: unknown,
    readonly pattern: string,
  ) {}
}

export class ProcessExecution {
  constructor(
    readonly process: string,
    readonly args: string[],
    readonly options?: { cwd?: string; env?: Record<string, string> },
  ) {}
}

export class Task {
  detail?: string;
  isBackground = false;
  constructor(
    readonly definition: { type: string },
    readonly scope: unknown,
    readonly name: string,
    readonly source: string,
    readonly execution: ProcessExecution,
    readonly problemMatchers: string[],
  ) {}
}

export interface Shown {
  kind: 'info' | 'warning' | 'error';
  message: string;
  items: string[];
}

export interface ProgressRecord {
  title: string;
  cancellable: boolean;
  messages: string[];
  increments: number;
  cancel: () => void;
  done: boolean;
}

/** Everything the fake recorded, and the knobs tests turn. */
export const state = {
  trusted: true,
  workspaceFolder: '' as string,
  config: {} as Record<string, unknown>,
  shown: [] as Shown[],
  /** Answers for the next notifications' buttons (by message regex), else undefined. */
  answers: [] as { match: RegExp; item: string }[],
  progress: [] as ProgressRecord[],
  output: [] as string[],
  status: { text: '', visible: false, command: undefined as unknown, tooltip: undefined as unknown },
  statusMessages: [] as string[],
  diagnostics: new Map<string, Diagnostic[]>(),
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  executed: [] as { id: string; args: unknown[] }[],
  contexts: new Map<string, unknown>(),
  quickPicks: [] as { items: { label: string; detail?: string }[] }[],
  /** Index of the item a quick pick answers (undefined: dismissed). */
  pickIndex: 0 as number | undefined,
  activeEditorPath: undefined as string | undefined,
  codeLensProviders: [] as { provideCodeLenses(doc: unknown): CodeLens[] | Promise<CodeLens[]> }[],
  taskProviders: new Map<string, unknown>(),
  trustGranted: new EventEmitter<void>(),
};

function show(kind: Shown['kind']) {
  return (message: string, ...items: string[]) => {
    state.shown.push({ kind, message, items });
    const a = state.answers.find((x) => x.match.test(message));
    return Promise.resolve(a && items.includes(a.item) ? a.item : undefined);
  };
}

const disposable = { dispose() {} };

export const vscode = {
  EventEmitter,
  Uri,
  Position,
  Range,
  Diagnostic,
  MarkdownString,
  CodeLens,
  RelativePattern,
  ProcessExecution,
  Task,
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  TaskScope: { Global: 1, Workspace: 2 },
  window: {
    get activeTextEditor() {
      const p = state.activeEditorPath;
      return p ? { document: { uri: Uri.file(p), languageId: /\.dsod\.ya?ml$/.test(p) ? 'dsod' : 'other', isDirty: false } } : undefined;
    },
    tabGroups: { activeTabGroup: { activeTab: undefined } },
    createOutputChannel: () => ({
      appendLine: (l: string) => state.output.push(l),
      append: (l: string) => state.output.push(l),
      show: () => undefined,
      dispose: () => undefined,
    }),
    createStatusBarItem: () => {
      const item = {
        name: '',
        set text(t: string) {
          state.status.text = t;
        },
        get text() {
          return state.status.text;
        },
        set tooltip(t: unknown) {
          state.status.tooltip = t;
        },
        set command(c: unknown) {
          state.status.command = c;
        },
        show: () => (state.status.visible = true),
        hide: () => (state.status.visible = false),
        dispose: () => undefined,
      };
      return item;
    },
    setStatusBarMessage: (m: string) => {
      state.statusMessages.push(m);
      return disposable;
    },
    showInformationMessage: show('info'),
    showWarningMessage: show('warning'),
    showErrorMessage: show('error'),
    showQuickPick: async <T extends { label: string; detail?: string }>(items: T[]) => {
      state.quickPicks.push({ items });
      return state.pickIndex === undefined ? undefined : items[state.pickIndex];
    },
    showTextDocument: async () => undefined,
    withProgress: async <R>(o: { title: string; cancellable: boolean }, task: (p: unknown, token: unknown) => Promise<R>) => {
      const cancelled = new EventEmitter<void>();
      const rec: ProgressRecord = { title: o.title, cancellable: o.cancellable, messages: [], increments: 0, cancel: () => cancelled.fire(), done: false };
      state.progress.push(rec);
      const progress = {
        report: (v: { message?: string; increment?: number }) => {
          if (v.message !== undefined) rec.messages.push(v.message);
          if (v.increment) rec.increments += v.increment;
        },
      };
      try {
        return await task(progress, { isCancellationRequested: false, onCancellationRequested: cancelled.event });
      } finally {
        rec.done = true;
      }
    },
  },
  workspace: {
    get isTrusted() {
      return state.trusted;
    },
    get workspaceFolders() {
      return state.workspaceFolder ? [{ uri: Uri.file(state.workspaceFolder), name: 'ws', index: 0 }] : undefined;
    },
    textDocuments: [],
    getWorkspaceFolder: () => (state.workspaceFolder ? { uri: Uri.file(state.workspaceFolder), name: 'ws', index: 0 } : undefined),
    getConfiguration: () => ({ get: <T>(key: string, def?: T) => (key in state.config ? (state.config[key] as T) : def) }),
    onDidGrantWorkspaceTrust: state.trustGranted.event,
    onDidChangeConfiguration: () => disposable,
    createFileSystemWatcher: () => ({ onDidCreate: () => disposable, onDidChange: () => disposable, onDidDelete: () => disposable, dispose: () => undefined }),
    findFiles: async () => [],
    asRelativePath: (u: Uri) => u.fsPath,
  },
  languages: {
    createDiagnosticCollection: () => ({
      set: (uri: Uri, d: Diagnostic[]) => state.diagnostics.set(uri.fsPath, d),
      get: (uri: Uri) => state.diagnostics.get(uri.fsPath),
      clear: () => state.diagnostics.clear(),
      dispose: () => undefined,
    }),
    registerCodeLensProvider: (_sel: unknown, p: { provideCodeLenses(doc: unknown): CodeLens[] | Promise<CodeLens[]> }) => {
      state.codeLensProviders.push(p);
      return disposable;
    },
  },
  commands: {
    registerCommand: (id: string, f: (...args: unknown[]) => unknown) => {
      state.commands.set(id, f);
      return { dispose: () => state.commands.delete(id) };
    },
    executeCommand: async (id: string, ...args: unknown[]) => {
      state.executed.push({ id, args });
      if (id === 'setContext') state.contexts.set(args[0] as string, args[1]);
      return state.commands.get(id)?.(...args);
    },
    getCommands: async () => [...state.commands.keys()],
  },
  tasks: {
    registerTaskProvider: (type: string, p: unknown) => {
      state.taskProviders.set(type, p);
      return disposable;
    },
  },
};

let installed = false;

/** Make `require('vscode')` return the fake (idempotent). */
export function installFakeVscode(): typeof state {
  if (installed) return state;
  installed = true;
  const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const load = M._load;
  M._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === 'vscode') return vscode;
    return load.call(this, request, parent, isMain);
  };
  return state;
}

/** A fake extension context whose subscriptions the test disposes. */
export function fakeContext(extensionPath: string): { extensionPath: string; subscriptions: { dispose(): unknown }[]; extensionUri: Uri } {
  return { extensionPath, subscriptions: [], extensionUri: Uri.file(extensionPath) };
}
