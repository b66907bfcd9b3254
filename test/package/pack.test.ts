/**
 * Packaging: what `npm pack` ships is what users get. Packs the repository (dist/ must already
 * be built: `npm test` builds first), installs the tarball into a throw-away project outside the
 * repository, and runs an ESM and a CommonJS consumer there, each doing real envelope and field
 * round trips through the public entry points.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TIMEOUT = 120_000;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

interface ErrorInfo {
  name: string;
  code: string;
  isEnvelopeError: boolean;
}

interface ConsumerReport {
  format: 'esm' | 'cjs';
  resolved: string;
  exports: string[];
  envelope: { roundTrip: boolean; context: Record<string, string>; overhead: number; tampered: ErrorInfo | null };
  field: { text: string; binaryRoundTrip: boolean; overhead: number; wrongAad: ErrorInfo | null };
  packageJson: { name: string; version: string };
}

/** npm's own npm_* variables (set when this runs under `npm test`) must not leak into the nested npm. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^npm_(lifecycle_|package_|config_local_prefix$|config_prefix$)/i.test(k) || k === 'INIT_CWD') delete env[k];
  }
  return env;
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { cwd, env: childEnv(), timeout: TIMEOUT, maxBuffer: 64 * 1024 * 1024, shell: process.platform === 'win32' });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

let work: string;
let project: string;
let pack: PackResult;
const rootPackage = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

beforeAll(async () => {
  const missing = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].filter((f) => !existsSync(join(ROOT, 'dist', f)));
  if (missing.length > 0) throw new Error(`dist/ is not (fully) built, missing ${missing.join(', ')}: run \`npm run build\` first (\`npm test\` does)`);
  work = await realpath(await mkdtemp(join(tmpdir(), 'kv-envelope-pack-')));
  const packed = JSON.parse(await run(NPM, ['pack', '--json', '--pack-destination', work], ROOT)) as PackResult[];
  expect(packed).toHaveLength(1);
  pack = packed[0]!;

  project = join(work, 'consumer');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'kv-envelope-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
  await copyFile(join(FIXTURES, 'consumer.mjs'), join(project, 'consumer.mjs'));
  for (const f of ['consumer.cjs', 'consumer-vault.mjs', 'consumer-vault.cjs']) await copyFile(join(FIXTURES, f), join(project, f));
  // The optional peer the subpaths need, at the version the project is tested with.
  const peer = `@azure/keyvault-keys@${JSON.parse(await readFile(join(ROOT, 'node_modules/@azure/keyvault-keys/package.json'), 'utf8')).version}`;
  await run(NPM, ['install', join(work, pack.filename), peer, '--prefer-offline', '--no-audit', '--no-fund'], project);
}, TIMEOUT);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

async function consumer(script: string): Promise<ConsumerReport> {
  const stdout = await run(process.execPath, [script], project);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ConsumerReport;
}

describe('npm pack', { timeout: TIMEOUT }, () => {
  it('ships both builds with their declarations, and no sources or tests', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']));
    expect(files.filter((f) => /^(src|test|bench|examples|\.ci|node_modules)\//.test(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(tsconfig[^/]*\.json|tsup\.config\.ts|vitest\.config\.ts|\.gitignore|package-lock\.json)$/.test(f))).toEqual([]);
    expect(pack.filename).toBe(`${rootPackage.name}-${rootPackage.version}.tgz`);
  });

  it.each(['consumer.mjs', 'consumer.cjs'])('%s round-trips an envelope and a field through the installed tarball', async (script) => {
    const r = await consumer(script);
    const format = script.endsWith('.mjs') ? 'esm' : 'cjs';
    expect(r.format).toBe(format);
    // Resolved from the consumer's node_modules, to the build that matches the consumer's format.
    const installed = join(project, 'node_modules', 'kv-envelope', 'dist', format === 'esm' ? 'index.js' : 'index.cjs');
    expect(format === 'esm' ? fileURLToPath(r.resolved) : r.resolved).toBe(installed);

    expect(r.exports).toEqual(expect.arrayContaining(['EnvelopeClient', 'EnvelopeError', 'FieldEncryptor', 'LocalAesKek', 'MemoryKeyStore']));
    expect(r.envelope).toMatchObject({ roundTrip: true, context: { purpose: 'pack-test' } });
    expect(r.envelope.overhead).toBeGreaterThan(0);
    expect(r.envelope.tampered).toEqual({ name: 'DecryptionFailedError', code: 'ERR_DECRYPTION_FAILED', isEnvelopeError: true });
    expect(r.field).toMatchObject({ text: '078-05-1120', binaryRoundTrip: true, overhead: 37 });
    expect(r.field.wrongAad).toEqual({ name: 'DecryptionFailedError', code: 'ERR_DECRYPTION_FAILED', isEnvelopeError: true });
    expect(r.packageJson).toEqual({ name: rootPackage.name, version: rootPackage.version });
  });

  it('exports the same names from import and require', async () => {
    const [esm, cjs] = await Promise.all([consumer('consumer.mjs'), consumer('consumer.cjs')]);
    expect(cjs.exports).toEqual(esm.exports);
  });

  it.each(['consumer-vault.mjs', 'consumer-vault.cjs'])('%s uses kv-envelope/azure and kv-envelope/local-vault from the tarball', async (script) => {
    const r = JSON.parse((await run(process.execPath, [script], project)).trim().split('\n').at(-1) ?? '') as {
      format: string; text: string; resolved: string[]; unwraps: number;
    };
    const ext = script.endsWith('.mjs') ? 'js' : 'cjs';
    expect(r.text).toBe('via the vault');
    expect(r.unwraps).toBe(1);
    expect(r.resolved.map((x) => (x.startsWith('file:') ? fileURLToPath(x) : x))).toEqual([
      join(project, 'node_modules', 'kv-envelope', 'dist', `azure.${ext}`),
      join(project, 'node_modules', 'kv-envelope', 'dist', `local-vault.${ext}`),
    ]);
  });
});
