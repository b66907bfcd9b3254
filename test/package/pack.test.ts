/**
 * Packaging: what `npm pack` ships is what users get. Packs the repository (dist/ must already
 * be built: `npm test` builds first), installs the tarball ALONE into a throw-away project outside
 * the repository (a plain `npm install kv-envelope`), and runs an ESM and a CommonJS consumer there,
 * each doing real envelope and field round trips through the public entry points, and the
 * `kv-envelope` command through npx.
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
  for (const f of ['consumer.cjs', 'consumer-vault.mjs', 'consumer-vault.cjs', 'consumer-certificates.mjs', 'consumer-certificates.cjs']) await copyFile(join(FIXTURES, f), join(project, f));
  // The tarball alone, as `npm install kv-envelope` does: nothing else is installed by hand.
  await run(NPM, ['install', join(work, pack.filename), '--prefer-offline', '--no-audit', '--no-fund'], project);
}, TIMEOUT);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

async function consumer(script: string): Promise<ConsumerReport> {
  const stdout = await run(process.execPath, [script], project);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ConsumerReport;
}

describe('npm pack', { timeout: TIMEOUT }, () => {
  it('ships both builds with their declarations and the LICENSE, and no sources or tests', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli.js']));
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

describe('kv-envelope/certificates from the tarball', { timeout: TIMEOUT }, () => {
  it.each(['consumer-certificates.mjs', 'consumer-certificates.cjs'])('%s loads TLS credentials (PFX read by pkijs) and a JWKS with x5c', async (script) => {
    const r = JSON.parse((await run(process.execPath, [script], project)).trim().split('\n').at(-1) ?? '') as {
      subject: string; hasKey: boolean; x5c: number; resolved: string;
    };
    expect(r).toMatchObject({ subject: 'CN=pack.example', hasKey: true, x5c: 1 });
    const ext = script.endsWith('.mjs') ? 'js' : 'cjs';
    expect(r.resolved.startsWith('file:') ? fileURLToPath(r.resolved) : r.resolved).toBe(join(project, 'node_modules', 'kv-envelope', 'dist', `certificates.${ext}`));
  });
});

describe('npx kv-envelope from a plain install', { timeout: TIMEOUT }, () => {
  const npx = async (args: string[], cwd = project) => {
    try {
      const { stdout, stderr } = await exec(NPM === 'npm' ? 'npx' : 'npx.cmd', ['--no-install', 'kv-envelope', ...args], { cwd, env: { ...childEnv(), KV_ENVELOPE_HOME: '', AZURE_KEYVAULT_URL: '' }, timeout: TIMEOUT, maxBuffer: 64 << 20 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  it('--help works (it crashed with ERR_MODULE_NOT_FOUND @azure/keyvault-keys when the Azure SDK was an optional peer)', async () => {
    const r = await npx(['--help']);
    expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kv-envelope <command>/);
  });

  it('key create, encrypt, decrypt round trip on the embedded vault', async () => {
    await writeFile(join(project, 'notes.txt'), 'from a plain install');
    expect((await npx(['key', 'create', 'kek', '--size', '2048'])).code).toBe(0);
    expect((await npx(['encrypt', '--key', 'kek', 'notes.txt'])).code).toBe(0);
    const back = await npx(['decrypt', 'notes.txt.kve', '-o', '-']);
    expect(back.code).toBe(0);
    expect(back.stdout).toBe('from a plain install');
    expect(await readFile(join(project, '.kv-envelope', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('demo runs to its end and its last line is a command that works', async () => {
    const r = await npx(['demo']);
    expect(r.code, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!.trim();
    expect(last).toBe('npx kv-envelope --help');
    expect((await npx(last.split(' ').slice(2))).code).toBe(0);
  });

  it('--vault-url without @azure/identity (an optional peer) is one line with the fix, exit 2', async () => {
    const r = await npx(['--vault-url', 'https://127.0.0.1:9', 'key', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kv-envelope: --vault-url signs in with DefaultAzureCredential from @azure\/identity, which is not installed: npm install @azure\/identity/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

/**
 * The published declarations as a TypeScript user compiles them: skipLibCheck false (every .d.ts
 * checked, so an unresolved name such as KeyClient fails), under each supported module setting.
 * The consumer also asserts that `credential` is typed (a number is rejected), not `any`.
 */
describe('TypeScript consumers of the packed declarations', { timeout: TIMEOUT }, () => {
  let types: string;
  const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  beforeAll(async () => {
    types = join(work, 'types');
    await mkdir(types);
    await writeFile(join(types, 'package.json'), `${JSON.stringify({ name: 'kv-envelope-types', version: '1.0.0', private: true }, null, 2)}\n`);
    const atTypes = `@types/node@${JSON.parse(await readFile(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')).version}`;
    await run(NPM, ['install', join(work, pack.filename), atTypes, '--prefer-offline', '--no-audit', '--no-fund'], types);
    const source = await readFile(join(FIXTURES, 'types', 'consumer.ts'), 'utf8');
    for (const ext of ['ts', 'mts', 'cts']) await writeFile(join(types, `consumer.${ext}`), source);
    for (const f of ['base', 'nodenext', 'bundler', 'node10']) await copyFile(join(FIXTURES, 'types', `tsconfig.${f}.json`), join(types, `tsconfig.${f}.json`));
  }, TIMEOUT);

  it.each(['nodenext', 'bundler', 'node10'])('compiles with skipLibCheck false under moduleResolution %s', async (setting) => {
    await expect(run(process.execPath, [TSC, '-p', `tsconfig.${setting}.json`], types)).resolves.toBe('');
  });
});
