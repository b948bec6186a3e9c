// ESLint for every project. Module boundaries are derived from .ai/project/DOMAIN_REGISTRY.yaml:
// a slice (tag scope:<slice>) may import only the slices in its depends_on.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const registry = parse(readFileSync(new URL('./.ai/project/DOMAIN_REGISTRY.yaml', import.meta.url), 'utf8'));
const sliceConstraints = Object.entries(registry.slices).map(([name, s]) => ({
  sourceTag: `scope:${name}`,
  onlyDependOnLibsWithTags: (s.depends_on ?? []).map((d) => `scope:${d}`),
}));

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'tmp/**',
      '.nx/**',
      '.weir/**',
      'tools/test/fixtures/**',
      '**/jest.config.js',
      'jest.preset.js',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            ...sliceConstraints,
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:platform', 'scope:tools'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' },
    },
  },
];
