import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
  // Examples import the package by name, as a user would; in tests that name is the source.
  resolve: {
    alias: [
      { find: /^kv-envelope$/, replacement: src('index.ts') },
      { find: /^kv-envelope\/(azure|local-vault|jwt|rewrap|postgres|drizzle)$/, replacement: src('$1/index.ts') },
    ],
  },
});
