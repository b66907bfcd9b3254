/**
 * The CLI end to end, as a user types it: the built `dist/cli.js` in a temporary directory, on
 * the embedded local vault persisted in ./.kv-envelope/.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
let dir: string;

interface Run {
  code: number;
  stdout: string;
  raw: Buffer;
  stderr: string;
}

function cli(args: string[], input?: Buffer): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'buffer', env: { ...process.env, KV_ENVELOPE_HOME: '', AZURE_KEYVAULT_URL: '' }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.toString('utf8'), raw: stdout, stderr: stderr.toString('utf8') });
    });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-envelope-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kv-envelope CLI', { timeout: 60_000 }, () => {
  it('prints help with the exit codes, and exits 2 without a command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes: 0 ok · 1 .* · 2 usage or input error/s);
    expect((await cli([])).code).toBe(2);
    for (const c of [['key', '--help'], ['encrypt', '--help'], ['decrypt', '--help'], ['vault', '--help']]) {
      const h = await cli(c);
      expect(h.code, c.join(' ')).toBe(0);
      expect(h.stdout).toMatch(/^Usage: kv-envelope/);
    }
  });

  it('manages keys in the embedded vault, persisted in ./.kv-envelope', async () => {
    expect((await cli(['key', 'create', 'kek'])).code).toBe(0);
    expect(statSync(join(dir, '.kv-envelope', 'vault.json')).mode & 0o777).toBe(0o600);
    const ec = JSON.parse((await cli(['key', 'create', 'signer', '--kty', 'EC', '--curve', 'P-384', '--json'])).stdout);
    expect(ec).toMatchObject({ name: 'signer', kty: 'EC', curve: 'P-384' });
    const list = JSON.parse((await cli(['key', 'list', '--json'])).stdout) as { name: string }[];
    expect(list.map((k) => k.name).sort()).toEqual(['kek', 'signer']);
    const before = JSON.parse((await cli(['key', 'show', 'kek', '--json'])).stdout);
    const rotated = JSON.parse((await cli(['key', 'rotate', 'kek', '--json'])).stdout);
    expect(rotated.version).not.toBe(before.version);
    expect((await cli(['key', 'create', 'tmp', '--kty', 'EC'])).code).toBe(0);
    expect((await cli(['key', 'delete', 'tmp'])).code).toBe(0);
    expect((await cli(['key', 'show', 'tmp'])).code).toBe(1);
    expect((await cli(['key', 'recover', 'tmp'])).code).toBe(0);
    expect((await cli(['key', 'show', 'tmp'])).code).toBe(0);
    expect((await cli(['key', 'delete', 'tmp'])).code).toBe(0);
    expect((await cli(['key', 'purge', 'tmp', '--yes'])).code).toBe(0);
    expect((await cli(['key', 'recover', 'tmp'])).code).toBe(1);
  });

  it('encrypts and decrypts files, with context, and through stdin/stdout', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(dir, 'data.bin'), data);
    const enc = await cli(['encrypt', '--key', 'kek', '--context', 'purpose=backup', 'data.bin', '--json']);
    expect(enc.code).toBe(0);
    expect(JSON.parse(enc.stdout)).toMatchObject({ output: 'data.bin.kve', bytes: data.length, context: { purpose: 'backup' } });
    const dec = await cli(['decrypt', 'data.bin.kve', '-o', 'out.bin', '--json']);
    expect(dec.code).toBe(0);
    expect(JSON.parse(dec.stdout).context).toEqual({ purpose: 'backup' });
    expect(readFileSync(join(dir, 'out.bin')).equals(data)).toBe(true);
    const piped = await cli(['encrypt', '--key', 'kek', '-', '-o', '-'], Buffer.from('from stdin'));
    expect(piped.code).toBe(0);
    const back = await cli(['decrypt', '-', '-o', '-'], piped.raw);
    expect(back.code).toBe(0);
    expect(back.stdout).toBe('from stdin');
    expect(back.stderr).toMatch(/decrypted - → -/);
  });

  it('a tampered or truncated envelope fails and leaves no output file', async () => {
    const env = readFileSync(join(dir, 'data.bin.kve'));
    const tampered = Buffer.from(env);
    tampered[tampered.length - 2 * 1024 * 1024]! ^= 1;
    writeFileSync(join(dir, 'tampered.kve'), tampered);
    const r = await cli(['decrypt', 'tampered.kve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_DECRYPTION_FAILED/);
    writeFileSync(join(dir, 'short.kve'), env.subarray(0, env.length - 100));
    const t = await cli(['decrypt', 'short.kve']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/ERR_ENVELOPE_MALFORMED/);
    expect(existsSync(join(dir, 'tampered'))).toBe(false);
    expect(existsSync(join(dir, 'short'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('bad input gets a clear message and exit 2', async () => {
    writeFileSync(join(dir, 'text.kve'), Buffer.from(randomBytes(64).toString('base64')));
    const b64 = await cli(['decrypt', 'text.kve']);
    expect(b64.code).toBe(2);
    expect(b64.stderr).toMatch(/base64/);
    expect((await cli(['decrypt', 'missing.kve'])).code).toBe(2);
    expect((await cli(['encrypt', 'data.bin'])).stderr).toMatch(/--key/);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['key', 'create', 'x', '--kty', 'DSA'])).code).toBe(2);
    const json = await cli(['decrypt', 'missing.kve', '--json']);
    expect(JSON.parse(json.stdout).error.message).toMatch(/missing\.kve/);
  });

  it('an EC key cannot encrypt: ERR_UNSUPPORTED_KEY_TYPE, exit 1, no output', async () => {
    const r = await cli(['encrypt', '--key', 'signer', 'data.bin', '-o', 'ec.kve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_UNSUPPORTED_KEY_TYPE.*can only sign/);
    expect(existsSync(join(dir, 'ec.kve'))).toBe(false);
  });

  it('demo --json reports each step and its vault calls; vault calls stay per DEK, not per record', async () => {
    const r = await cli(['demo', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { steps: { step: string; vaultCalls?: Record<string, number>; decryptVaultCalls?: Record<string, number>; errors?: Record<string, string> }[] };
    const step = (name: string) => report.steps.find((s) => s.step.startsWith(name))!;
    expect(step('encrypt envelopes').vaultCalls).toEqual({ getKey: 1 });
    expect(step('decrypt envelopes').vaultCalls).toEqual({ getKey: 1, unwrapKey: 1 });
    expect(step('misuse').errors).toEqual({ tampered: 'ERR_DECRYPTION_FAILED', base64: 'ERR_ENVELOPE_MALFORMED' });
    expect(step('fields').decryptVaultCalls).toEqual({ getKey: 1, unwrapKey: 1 });
  });

  it('rewrap: files and directories move to the new key version, a bad file fails the run (exit 1), --jsonl works', async () => {
    const sub = join(dir, 'env');
    mkdirSync(join(sub, 'nested'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      writeFileSync(join(dir, `p${i}.txt`), `payload ${i}`);
      const target = join(sub, i % 2 === 0 ? '' : 'nested', `p${i}.kve`);
      expect((await cli(['encrypt', '--key', 'kek', `p${i}.txt`, '-o', target])).code).toBe(0);
    }
    const before = readFileSync(join(sub, 'p0.kve'));
    const rotated = JSON.parse((await cli(['key', 'rotate', 'kek', '--json'])).stdout) as { id: string };
    const dry = await cli(['rewrap', '--key', 'kek', 'env', '--dry-run']);
    expect(dry.stdout).toMatch(/would re-wrap 12/);
    expect(readFileSync(join(sub, 'p0.kve')).equals(before)).toBe(true);
    const run = await cli(['rewrap', '--key', 'kek', 'env', '--json']);
    expect(run.code).toBe(0);
    const results = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; kekIds?: string[] });
    expect(results.map((r) => r.status)).toEqual(Array(12).fill('rewrapped'));
    expect(results.every((r) => r.kekIds?.[0] === rotated.id)).toBe(true);
    // Payload bytes are unchanged: the frame ('payload 0' in one frame: 4 + 9 + 16 bytes) and the
    // stored context and frame size before it are identical (v2 re-wrap rewrites only the section and its MAC).
    const after = readFileSync(join(sub, 'p0.kve'));
    const tail = 29 + 4 + 2;
    expect(after.subarray(after.length - tail).equals(before.subarray(before.length - tail))).toBe(true);
    expect((await cli(['decrypt', join(sub, 'nested', 'p1.kve'), '-o', '-'])).stdout).toBe('payload 1');
    const again = await cli(['rewrap', '--key', 'kek', 'env']);
    expect(again.stdout).toMatch(/re-wrapped 0, skipped 12/);
    writeFileSync(join(sub, 'zz-broken.kve'), 'not an envelope');
    const bad = await cli(['rewrap', '--key', 'kek', 'env', '--checkpoint', join(dir, 'other-checkpoint.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ERR_ENVELOPE_MALFORMED/);
    rmSync(join(sub, 'zz-broken.kve'));
    const lines = [0, 2].map((i) => JSON.stringify({ id: `row-${i}`, envelope: readFileSync(join(sub, `p${i}.kve`)).toString('base64') }));
    await cli(['key', 'rotate', 'kek']);
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    const jl = await cli(['rewrap', '--key', 'kek', '--jsonl', 'in.jsonl', '-o', 'out.jsonl', '--checkpoint', join(dir, 'jsonl-checkpoint.json')]);
    expect(jl.code).toBe(0);
    const outLines = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; envelope: string });
    expect(outLines.map((l) => l.id)).toEqual(['row-0', 'row-2']);
    writeFileSync(join(dir, 'row2.kve'), Buffer.from(outLines[1]!.envelope, 'base64'));
    expect((await cli(['decrypt', 'row2.kve', '-o', '-'])).stdout).toBe('payload 2');
  });

  it('jwt: sign with a vault EC key, verify locally, print the JWKS; wrong audience or pairing fail', async () => {
    const t = await cli(['jwt', 'sign', '--key', 'signer', '--alg', 'ES384', '--claim', 'scope=orders:read', '--sub', 'alice', '--aud', 'orders', '--json']);
    expect(t.code).toBe(0);
    const { token } = JSON.parse(t.stdout) as { token: string };
    expect(token.split('.')).toHaveLength(3);
    const ok = await cli(['jwt', 'verify', '--key', 'signer', '--alg', 'ES384', '--aud', 'orders', token, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, payload: { sub: 'alice', scope: 'orders:read' }, protectedHeader: { alg: 'ES384', typ: 'JWT' } });
    const bad = await cli(['jwt', 'verify', '--key', 'signer', '--alg', 'ES384', '--aud', 'billing', token]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ERR_JWT/);
    const jwks = JSON.parse((await cli(['jwt', 'jwks', '--key', 'signer', '--alg', 'ES384', '--json'])).stdout) as { keys: { kty: string; crv: string; d?: string }[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-384' });
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const pairing = await cli(['jwt', 'sign', '--key', 'signer', '--alg', 'RS256']);
    expect(pairing.code).toBe(1);
    expect(pairing.stderr).toMatch(/ERR_UNSUPPORTED_KEY_TYPE/);
  });

  it('vault serve: HTTPS on 127.0.0.1 with a CA file and a token the real KeyClient can use; stops on SIGINT', async () => {
    const { spawn } = await import('node:child_process');
    const { KeyClient } = await import('@azure/keyvault-keys');
    const child = spawn(process.execPath, [CLI, 'vault', 'serve', '--json'], { cwd: dir, env: { ...process.env, KV_ENVELOPE_HOME: '' } });
    const first = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`vault serve exited ${code}`)));
    });
    const info = JSON.parse(first) as { url: string; caFile: string; tokenFile: string };
    expect(info.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const token = readFileSync(info.tokenFile, 'utf8');
    const client = new KeyClient(info.url, { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 600_000 }) }, {
      tlsOptions: { ca: readFileSync(info.caFile, 'utf8') }, disableChallengeResourceVerification: true,
    });
    const names: string[] = [];
    for await (const p of client.listPropertiesOfKeys()) names.push(p.name);
    expect(names).toContain('kek');
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  });
});

