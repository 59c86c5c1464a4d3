import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
  },
  {
    // Plain JavaScript (this file, the browser tests) is outside the TypeScript project.
    files: ['**/*.{js,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The fake Tauri shell runs in the page.
    files: ['browser-tests/fake-tauri.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
    rules: { 'no-throw-literal': 'off' },
  },
  {
    // Modules the fake shell imports in the page.
    files: ['browser-tests/fake-polls.js', 'browser-tests/fake-materials.js', 'browser-tests/fake-groups.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
    rules: { 'no-throw-literal': 'off' },
  },
  {
    // Node test code; callbacks passed to page.evaluate run in the browser.
    files: ['browser-tests/*.mjs'],
    languageOptions: {
      globals: { ...globals.node, ...globals.browser, VideoEncoder: 'readonly', VideoFrame: 'readonly' },
    },
  },
);
