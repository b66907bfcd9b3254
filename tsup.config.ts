import { defineConfig } from 'tsup';

// One entry per subpath export. Later subpaths (azure, local-vault, jwt, rewrap) add entries here.
export default defineConfig({
  entry: { index: 'src/index.ts', azure: 'src/azure/index.ts', 'local-vault': 'src/local-vault/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  target: 'node20',
  platform: 'node',
});
