// Lint: typescript-eslint's recommended rules, and the rooms' import rules (ARCHITECTURE.md) enforced here so that a
// wrong import fails `npm run lint` instead of a code review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'util', 'net', 'http', 'https', 'stream', 'worker_threads', 'url', 'events', 'zlib'];

/** `no-restricted-imports` for a room: the modules and the other rooms it must not import, each with the reason. */
function room(files, { modules = [], rooms = [], why }) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(modules.length ? [{ group: modules, message: why }] : []),
            ...rooms.map((r) => ({ group: [`**/${r}`, `**/${r}/*`, `**/${r}/**`], message: `${why} (${r}/ is another room)` })),
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
  }),
);
