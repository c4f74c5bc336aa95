// Lint: typescript-eslint's recommended rules, and the rooms' import rules (ARCHITECTURE.md) enforced here so that a
// wrong import fails `npm run lint` instead of a code review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'crypto',
  'util',
  'net',
  'http',
  'https',
  'stream',
  'worker_threads',
  'url',
  'events',
  'zlib',
];

// core's front door (core/index.ts): the rooms outside the browser import core from there, or from the browser-safe
// leaves named in core/index.ts; a deep import (`../../core/spec/validate`) ties a room to core's insides.
const CORE_FRONT_DOOR = {
  // A regex, not a gitignore group: a group cannot re-allow a file inside a folder it forbids (core/spec/lines).
  regex: '(^|/)core/(?!(format|diagnostics|spec/lines|graph/types)$).+',
  message: "import core through its front door, core/index.ts ('../core'), or a browser-safe leaf named there; export what is missing from core/index.ts",
};

/**
 * `no-restricted-imports` for a room: the modules and the other rooms it must not import, each with the reason;
 * `frontDoor`: core only through core/index.ts.
 */
function room(files, { modules = [], rooms = [], why, frontDoor = false }) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(modules.length ? [{ group: modules, message: why }] : []),
            ...rooms.map((r) => ({ group: [`**/${r}`, `**/${r}/*`, `**/${r}/**`], message: `${why} (${r}/ is another room)` })),
            ...(frontDoor ? [CORE_FRONT_DOOR] : []),
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'results/**', 'runs/**', 'data/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Untyped data (parsed YAML/JSON, messages before validation) is `any` on purpose until a validator narrows it.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  room(['core/**/*.ts'], {
    modules: ['vscode', ...NODE_BUILTINS, '@tensorflow/*', 'sharp'],
    rooms: ['protocol', 'server', 'client', 'webview', 'engine'],
    why: 'core/ is pure: no vscode, node, DOM or tfjs, and no other room',
  }),
  room(['protocol/**/*.ts'], {
    modules: ['vscode', ...NODE_BUILTINS, '@tensorflow/*'],
    rooms: ['server', 'client', 'webview', 'engine'],
    why: 'protocol/ holds types and validators shared by both sides of a boundary',
  }),
  room(['server/**/*.ts'], {
    modules: ['vscode', '@tensorflow/*', 'sharp'],
    rooms: ['client', 'webview', 'engine'],
    why: 'the language server never runs the engine nor reads datasets',
    frontDoor: true,
  }),
  room(['client/**/*.ts'], {
    why: 'the client reaches core through its front door',
    frontDoor: true,
  }),
  room(['webview/**/*.ts'], {
    modules: ['vscode', ...NODE_BUILTINS, '@tensorflow/*'],
    rooms: ['server', 'client', 'engine'],
    why: 'webview/ is browser code talking to the extension by messages only',
  }),
  room(['engine/**/*.ts'], {
    modules: ['vscode', 'vscode-languageclient', 'vscode-languageclient/*'],
    rooms: ['server', 'client'],
    why: 'the engine is a child process that knows nothing of the editor',
    frontDoor: true,
  }),
);
