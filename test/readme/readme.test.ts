/**
 * The README runs as written: every ```ts block, imports included, is transpiled (types only
 * stripped, by esbuild) and run with node against the built package, resolved the way a user's
 * project resolves it (`kv-envelope` is a self-reference through package.json `exports`, the
 * `@azure/*` clients come from node_modules). Blocks that need a real vault read
 * AZURE_KEYVAULT_URL; it is unset here, so the local vault stands in, as the README says.
 * A block that drifts from the API (a renamed export, an option that no longer exists, a
 * snippet that throws) fails here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Each ```ts block with the nearest heading above it (for the test name). */
export function tsBlocks(markdown: string): { heading: string; code: string }[] {
  const blocks: { heading: string; code: string }[] = [];
  let heading = '(top)';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    if (/^```(ts|typescript)\s*$/.test(line)) {
      const code: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) code.push(lines[i]!);
      blocks.push({ heading: `${heading} #${blocks.filter((b) => b.heading.startsWith(heading)).length + 1}`, code: code.join('\n') });
    }
  }
  return blocks;
}

let scripts: string;
let cwd: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is not built: run `npm run build` first (`npm test` does)');
  // Inside the repository, so `kv-envelope` and `@azure/*` resolve as in a user's project.
  scripts = mkdtempSync(join(ROOT, 'test', 'readme', '.run-'));
  cwd = mkdtempSync(join(tmpdir(), 'kv-envelope-readme-'));
});
afterAll(() => {
  rmSync(scripts, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

describe('README.md', { timeout: 120_000 }, () => {
  const blocks = tsBlocks(README);

  it('has TypeScript examples to run (the extraction can fail)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.every((b) => /^import /m.test(b.code))).toBe(true);
  });

  it.each(blocks.map((b, i) => [b.heading, i] as const))('block "%s" runs as shown', async (_heading, i) => {
    const { code } = await transform(blocks[i]!.code, { loader: 'ts', format: 'esm', target: 'node20' });
    const file = join(scripts, `block-${i}.mjs`);
    writeFileSync(file, code);
    const dir = join(cwd, `block-${i}`);
    mkdirSync(dir);
    const env = { ...process.env };
    delete env.AZURE_KEYVAULT_URL;
    const { stdout, stderr } = await exec(process.execPath, [file], { cwd: dir, env, timeout: 90_000 });
    expect(stderr).toBe('');
    // A line with `console.log(…); // text` promises that output, in that order.
    const promised = [...blocks[i]!.code.matchAll(/console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => m[1]!.trim());
    expect(stdout.trim().split('\n').filter((l) => l !== '')).toEqual(promised);
  });

  it('every block typechecks (strict, NodeNext) against the published declarations', async () => {
    const dir = join(scripts, 'typecheck');
    mkdirSync(dir);
    blocks.forEach((b, i) => writeFileSync(join(dir, `block-${i}.mts`), b.code));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], types: ['node'], skipLibCheck: true },
      include: ['*.mts'],
    }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-p', dir], { cwd: ROOT, timeout: 110_000 }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(result).toBe('');
  });
});
