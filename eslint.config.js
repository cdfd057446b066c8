import tseslint from 'typescript-eslint'

const LOCALE_COMPARE = {property: 'localeCompare', message: 'sort with byCodeUnit (src/core/order.ts): localeCompare costs every command ~10 ms'}

export default tseslint.config(
  {
    ignores: [
      'src/adapters/supabase/management-api.generated.ts',
      'dist/**',
      'dist-check/**',
      'node_modules/**',
      'bin/**',
      'scripts/**',
      'eslint.config.js',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname}},
    rules: {
      complexity: ['error', 10],
      'max-params': ['error', 4],
      // STYLE.md: a command's run() is about 25 lines; a use case's function names its steps.
      'max-lines-per-function': ['error', {max: 50, skipBlankLines: true, skipComments: true}],
      'max-depth': ['error', 3],
      'max-nested-callbacks': ['error', 3],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_'}],
    },
  },
  {
    // The first localeCompare of a process sets up ICU's collator: ~10 ms of every command (src/core/order.ts).
    files: ['src/**/*.ts'],
    rules: {'no-restricted-properties': ['error', LOCALE_COMPARE]},
  },
  {
    // core/ decides and nothing else: no I/O, no clock, no environment (STYLE.md).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'pg',
                '@electric-sql/*',
                '@kubernetes/*',
                'node:*',
                'fs',
                'child_process',
                'os',
                'conf',
                'listr2',
                '@oclif/*',
                '../adapters/*',
                '../commands/*',
              ],
              message: 'core/ talks to the world only through ports (STYLE.md).',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'fetch', 'process', 'setTimeout'],
      'no-restricted-properties': ['error', {object: 'Date', property: 'now', message: 'take the time from the Clock port'}, LOCALE_COMPARE],
      'no-restricted-syntax': [
        'error',
        {selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'take the time from the Clock port'},
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      complexity: 'off',
      'max-lines-per-function': 'off',
      'max-nested-callbacks': 'off',
      'max-depth': 'off',
      // Fakes implement async ports without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
)
