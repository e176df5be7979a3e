import js from '@eslint/js';
import globals from 'globals';
import lit from 'eslint-plugin-lit';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', '.data/', 'coverage/', 'storybook-static/', 'test-results/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Lit elements (components/, loader/, example modules): template and property rules.
  {
    files: ['components/**/*.ts', 'loader/**/*.ts', 'studio/**/*.ts', 'storybook/*.ts', 'examples/*/src/**/*.ts'],
    ...lit.configs['flat/recommended'],
  },
  { files: ['scripts/**/*.mjs', '*/build.mjs', '*.js'], languageOptions: { globals: globals.node } },
  { files: ['examples/**/*.js'], languageOptions: { globals: globals.browser } },
);
