// The layer rules of DESIGN.md, enforced instead of only written down:
// - workflow code runs in Temporal's deterministic sandbox: it may import (as values) only
//   other workflow code, the Temporal workflow/common packages and lib/workflow-safe/, and no
//   Node built-in; lib/workflow-safe/ imports (as values) only itself. Type-only imports are
//   erased and so are free.
// - lib/ is shared domain code: it never reaches up into api/, workflows/, activities/ or workers/.
// - activities never import the API.
// - only api/commands/ write the store: a route handler parses, authorises, calls a command and
//   presents, so it imports only reads from lib/store and never calls a write or an audit.
// - no import cycles, and no promise left floating (a lost rejection is a lost failure).
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** The lib modules that are pure and deterministic, and so may run inside a workflow. */
const WORKFLOW_SAFE_LIB = 'lib/workflow-safe/[a-z-]+';

const upTo = (dirs) => dirs.flatMap((d) => [`../${d}`, `../${d}/*`, `../../${d}`, `../../${d}/*`, `../../../${d}/*`]);

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.tools/**', 'data/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  {
    files: ['**/*.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // One block per folder depth, since an import leaves workflows/ after as many `../` as the
  // importing file is deep; fewer stay inside it.
  ...[1, 2, 3].map((depth) => ({
    files: [`workflows/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'import-x/no-nodejs-modules': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./){${depth}}(?!workflows/|${WORKFLOW_SAFE_LIB}$)`,
              allowTypeImports: true,
              message:
                'Workflow code may import values only from workflows/, @temporalio/workflow|common and ' +
                'lib/workflow-safe/ (use `import type` for types; move a pure module there to use it).',
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: upTo(['api', 'serving', 'workflows', 'activities', 'workers']),
              message:
                'lib/ is shared domain code: it must not import api/, serving/, workflows/, activities/ or workers/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The workflow-safe lib modules are bundled into workflows: no I/O may hide behind them.
    files: ['lib/workflow-safe/**/*.ts'],
    rules: {
      'import-x/no-nodejs-modules': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            'mongodb',
            'onnxruntime-node',
            'express',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ],
          patterns: [
            {
              group: ['../*', '../../*'],
              allowTypeImports: true,
              message: 'lib/workflow-safe/ is bundled into workflows: it imports values only from itself.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/routes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // An allow-list, so a new write helper is refused without editing this file: reads
          // (get/list/read/verify/is/query/find...), ids, and capitalised names (types, classes, constants).
          patterns: [
            {
              group: ['../../lib/store/*'],
              allowImportNamePattern: '^((get|list|read|verify|is|query|find)[A-Z]|[A-Z]|[a-z]+Id$)',
              message: 'Only api/commands/ write the store: move the write into a command (DESIGN.md).',
            },
          ],
          paths: [
            {
              name: '../../lib/features/apply',
              importNames: ['applyFeatures'],
              message: 'Writes the store: use api/commands/apply-features.',
            },
            {
              name: '../../lib/monitoring/feedback',
              importNames: ['saveFeedback'],
              message: 'Writes the store: use api/commands/feedback.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.property.name=/^(audit|insertOne|insertMany|updateOne|updateMany|replaceOne|deleteOne|deleteMany|findOneAndUpdate|findOneAndReplace|bulkWrite)$/]',
          message: 'Only api/commands/ write the store or the audit log: call a command from the handler.',
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: upTo(['api']), message: 'activities never import the API (DESIGN.md).' }] },
      ],
    },
  }
);
