/**
 * `kv-envelope cert …` as a user types it: the built `dist/cli.js` in a temporary directory, on
 * the embedded local vault persisted in ./.kv-envelope/.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
const cli = (...args: string[]) => runCli(args, { cwd: dir });
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kv-envelope-cert-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kv-envelope cert: input checked before any vault call', { timeout: 60_000 }, () => {
  it('--help, and an unknown subcommand or option is a usage error (exit 2)', async () => {
    const help = await cli('cert', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kv-envelope cert/);
    expect((await cli('--help')).stdout).toMatch(/cert create\|list/);
    expect((await cli('cert', 'frobnicate', 'x')).code).toBe(2);
    expect((await cli('cert', 'show', 'x', '--san', 'dns:a.example')).stderr).toMatch(/--san does not apply to "cert show"/);
  });

  it('adversary: a typo in a SAN, key type, size or curve fails with exit 2 and makes no home folder', async () => {
    const cases: [string[], RegExp][] = [
      [['--san', 'dns:bad_host.example'], /not a valid DNS name/],
      [['--san', 'dns:-lead.example'], /not a valid DNS name/],
      [['--san', 'dns:a.*.example'], /not a valid DNS name/],
      [['--san', 'email:not-an-address'], /not a valid e-mail address/],
      [['--san', 'ip:10.0.0.256'], /--san ip:10\.0\.0\.256 is not a valid IP address/],
      [['--san', 'uri:no scheme'], /--san uri:no scheme is not a valid URI/],
      [['--san', 'host:web.example'], /--san expects dns:NAME, email:ADDRESS, upn:USER@DOMAIN, uri:URI or ip:ADDRESS/],
      [['--key-type', 'DSA'], /--key-type is RSA or EC/],
      [['--key-type', 'EC', '--size', '2048'], /--size applies to RSA/],
      [['--size', '1024'], /--size for RSA is 2048, 3072 or 4096/],
      [['--key-type', 'EC', '--curve', 'P-192'], /--curve is P-256/],
      [['--validity-months', '0'], /positive integer/],
    ];
    for (const [extra, message] of cases) {
      const r = await cli('cert', 'create', 'web', '--subject', 'CN=web.example', ...extra);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr, extra.join(' ')).toMatch(message);
    }
    const noSubject = await cli('cert', 'create', 'web');
    expect(noSubject.code).toBe(2);
    expect(noSubject.stderr).toMatch(/needs --subject "CN=…"/);
    expect(existsSync(join(dir, '.kv-envelope'))).toBe(false);
  });

  it.skipIf(!hasOpenssl)('adversary: importing a PFX with the wrong password is a usage error naming the cause, not the password', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'imp.key', '-out', 'imp.pem', '-subj', '/CN=imported.example', '-days', '2'], { cwd: dir, stdio: 'ignore' });
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', 'imp.key', '-in', 'imp.pem', '-out', 'imp.pfx', '-passout', 'pass:right-password'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(join(dir, 'wrong.txt'), 'guessed-password\n');
    const r = await cli('cert', 'import', 'imported', 'imp.pfx', '--password-file', 'wrong.txt');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/wrong password/);
    expect(r.stderr).not.toMatch(/guessed-password|right-password/);
    const notCert = await cli('cert', 'import', 'imported', 'wrong.txt');
    expect(notCert.code).toBe(2);
  });
});

describe('kv-envelope cert: the embedded vault', { timeout: 120_000 }, () => {
  it('create (SANs), show, list, versions, renew: a new version with the same policy', async () => {
    const created = await json('cert', 'create', 'web', '--subject', 'CN=web.example', '--san', 'dns:web.example', '--san', 'dns:*.web.example', '--san', 'email:ops@web.example', '--validity-months', '6');
    expect(created).toMatchObject({ name: 'web', subject: 'CN=web.example', exportable: true, contentType: 'application/x-pkcs12' });
    expect(statSync(join(dir, '.kv-envelope')).mode & 0o777).toBe(0o700);
    const again = await cli('cert', 'create', 'web', '--subject', 'CN=web.example');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists.*cert renew web/);
    const shown = await cli('cert', 'show', 'web');
    expect(shown.stdout).toMatch(/subject: CN=web\.example/);
    expect(((await json('cert', 'list')) as unknown as { name: string }[]).map((c) => c.name)).toEqual(['web']);
    const wide = await cli('cert', 'create', 'mesh', '--subject', 'CN=mesh', '--san', 'upn:svc@web.example', '--san', 'uri:spiffe://web.example/api', '--san', 'ip:10.0.0.7');
    expect(wide.code, wide.stderr).toBe(0);
    expect(wide.stdout).toContain('SANs: upn:svc@web.example, uri:spiffe://web.example/api, ip:10.0.0.7');
    const renewed = await json('cert', 'renew', 'web');
    expect(renewed.version).not.toBe(created.version);
    expect(renewed.subject).toBe('CN=web.example');
    const versions = (await json('cert', 'versions', 'web')) as unknown as { version: string }[];
    expect(versions.map((v) => v.version)).toEqual([renewed.version, created.version]);
  });

  it('download pem (key + chain, 0600), cer (public only), pfx; openssl reads the PEM', async () => {
    await json('cert', 'download', 'web', '-o', 'web.pem');
    const pem = readFileSync(join(dir, 'web.pem'), 'utf8');
    expect(statSync(join(dir, 'web.pem')).mode & 0o777).toBe(0o600);
    expect(pem).toMatch(/-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/);
    expect(new X509Certificate(pem).subjectAltName).toContain('DNS:*.web.example');
    if (hasOpenssl) {
      const subject = execFileSync('openssl', ['x509', '-in', 'web.pem', '-noout', '-subject'], { cwd: dir, encoding: 'utf8' });
      expect(subject).toMatch(/CN\s*=\s*web\.example/);
    }
    const kept = await cli('cert', 'download', 'web', '-o', 'web.pem');
    expect(kept.code).toBe(2);
    expect(kept.stderr).toMatch(/already exists/);
    await json('cert', 'download', 'web', '--format', 'cer');
    const cer = readFileSync(join(dir, 'web.cer'));
    expect(new X509Certificate(cer).subject).toBe('CN=web.example');
    expect(cer.toString('latin1')).not.toMatch(/PRIVATE KEY/);
    await json('cert', 'download', 'web', '--format', 'pfx');
    expect(readFileSync(join(dir, 'web.pfx'))[0]).toBe(0x30); // DER SEQUENCE
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('adversary: a non-exportable certificate never yields its private key (exit 1), its cer does', async () => {
    await json('cert', 'create', 'locked', '--subject', 'CN=locked.example', '--key-type', 'EC', '--curve', 'P-256', '--not-exportable', '--pem');
    const r = await cli('cert', 'download', 'locked', '-o', 'locked.pem');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not exportable.*--format cer/);
    expect(existsSync(join(dir, 'locked.pem'))).toBe(false);
    await json('cert', 'download', 'locked', '--format', 'cer');
    expect(new X509Certificate(readFileSync(join(dir, 'locked.cer'))).publicKey.asymmetricKeyType).toBe('ec');
  });

  it.skipIf(!hasOpenssl)('import a PFX with its password file, and a PEM', async () => {
    writeFileSync(join(dir, 'right.txt'), 'right-password\n');
    const pfx = await json('cert', 'import', 'imported', 'imp.pfx', '--password-file', 'right.txt');
    expect(pfx.name).toBe('imported');
    expect((await cli('cert', 'show', 'imported')).stdout).toMatch(/imported\.example/);
    writeFileSync(join(dir, 'both.pem'), readFileSync(join(dir, 'imp.key'), 'utf8') + readFileSync(join(dir, 'imp.pem'), 'utf8'));
    expect((await json('cert', 'import', 'imported-pem', 'both.pem')).name).toBe('imported-pem');
  });

  it('delete, recover (an error when not deleted), purge', async () => {
    const notDeleted = await cli('cert', 'recover', 'web');
    expect(notDeleted.code).toBe(1);
    expect(notDeleted.stderr).toMatch(/not deleted.*in use/);
    await json('cert', 'delete', 'web');
    expect((await cli('cert', 'show', 'web')).code).toBe(1);
    expect(((await json('cert', 'list', '--deleted')) as unknown as { name: string }[]).map((c) => c.name)).toContain('web');
    await json('cert', 'recover', 'web');
    expect((await cli('cert', 'show', 'web')).code).toBe(0);
    await json('cert', 'delete', 'web');
    expect((await cli('cert', 'purge', 'web')).code).toBe(2); // no terminal: needs --yes
    await json('cert', 'purge', 'web', '--yes');
    const again = await cli('cert', 'purge', 'web', '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not soft-deleted: delete it first/);
    expect(((await json('cert', 'list', '--deleted')) as unknown as { name: string }[]).map((c) => c.name)).not.toContain('web');
  });
});
