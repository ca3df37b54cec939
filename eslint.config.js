// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'node:os',
  'node:process',
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'child_process',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', '.labelguard/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use string-literal unions, not enums.' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No TypeScript namespaces.' },
      ],
    },
  },
  {
    // The audit core is pure: no I/O, no SDKs, no environment, no clock.
    files: ['lambda/audit/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({ name, message: 'The audit core is pure: pass data in instead.' })),
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', '@kubernetes/*', '@slack/*', 'dynalite'],
              message: 'The audit core is pure: no SDKs or clients.',
            },
            {
              group: ['../adapters/*', '../cli/*', '../../*', '../scan*', '../handler*'],
              message: 'The audit core imports only from itself.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'The audit core never reads the environment.' },
        { object: 'Date', property: 'now', message: 'Time comes in as data.' },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'The audit core never touches the process.' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
