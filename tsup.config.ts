import { defineConfig } from 'tsup';

// One entry per subpath export (the library), plus the CLI as its own ESM bundle with a shebang.
export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      azure: 'src/azure/index.ts',
      'local-vault': 'src/local-vault/index.ts',
      jwt: 'src/jwt/index.ts',
      rewrap: 'src/rewrap/index.ts',
      postgres: 'src/postgres/index.ts',
      drizzle: 'src/drizzle/index.ts',
      secrets: 'src/secrets/index.ts',
      certificates: 'src/certificates/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    target: 'node20',
    platform: 'node',
  },
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
