// ESLint flat config: typescript-eslint's strict, type-aware rule sets on every
// TypeScript file of the project. Formatting is Prettier's job: eslint-config-prettier
// turns off the rules that would fight it. `npm run lint` runs both, with zero warnings.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'src/generated/**', 'web/dist/**', 'web/src/generated/**', '.stack/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and bigints (offsets) in messages are the common case and print exactly.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // `() => void promise` callbacks and shorthand arrow bodies in event handlers read better.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Naming keys next to a `...rest` is how a copy without those keys is written.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests read GraphQL and HTTP answers as untyped JSON and assert on them; a `!`
    // there fails the test loudly, which is what a test wants.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Fakes and cleanup hooks implement async interfaces with synchronous bodies;
      // `async` keeps a throw in them a rejection, as the real implementation's would be.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Build-tool files that no tsconfig includes (the ESLint and Prisma configs, the
    // Vite config, the dashboard's one-off Node scripts): the project service has no
    // program for them, so they are linted with the same rules minus the type-aware ones.
    files: ['**/*.js', '**/*.mjs', 'prisma.config.ts', 'web/vite.config.ts'],
    ...tseslint.configs.disableTypeChecked,
    // The Node globals the scripts use (the globals package is not a dependency).
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
  prettier,
);
