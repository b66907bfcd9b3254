import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentError, readCertificateFile, readPem, readSecretValue } from '../../src/certificates/internal/content.js';
import { TlsMaterial } from '../../src/certificates/tls-material.js';
import { createSelfSignedCertificate } from '../../src/local-vault/transport/certificate.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const dir = mkdtempSync(join(tmpdir(), 'kve-cert-content-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

/** A CA and a leaf it issued, made by OpenSSL (an independent implementation). */
function opensslChain(): { caPem: string; leafPem: string; keyPem: string } {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Test CA', '-days', '2');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=api.example');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1');
  return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), leafPem: readFileSync(join(dir, 'leaf.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'leaf.key'), 'utf8') };
}

describe('certificate secrets and files: PEM', () => {
  it('a Key Vault PEM secret (key, then the certificate) gives the key and a one-certificate chain', async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate(['api.example']);
    const content = await readSecretValue(`${keyPem}${certPem}`, 'application/x-pem-file');
    expect(content.chain).toHaveLength(1);
    expect(content.chain[0]!.checkPrivateKey(content.privateKey!)).toBe(true);
  });

  it.skipIf(!hasOpenssl)('adversary: a chain stored CA first — the leaf (the key\'s certificate) still comes first', () => {
    const { caPem, leafPem, keyPem } = opensslChain();
    const content = readPem(`${caPem}${keyPem}${leafPem}`);
    expect(content.chain.map((c) => c.subject)).toEqual(['CN=api.example', 'CN=Test CA']);
    expect(content.chain[0]!.checkPrivateKey(content.privateKey!)).toBe(true);
  });

  it('a PEM with no private key (a non-exportable certificate) has privateKey undefined', async () => {
    const { certPem } = await createSelfSignedCertificate(['api.example']);
    const content = readPem(certPem);
    expect(content.privateKey).toBeUndefined();
    expect(content.chain[0]!.subject).toMatch(/CN=/);
  });

  it('adversary: a key that belongs to no certificate in the file is refused', async () => {
    const { certPem } = await createSelfSignedCertificate(['api.example']);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => readPem(`${other}${certPem}`)).toThrow(/no certificate matches the private key/);
  });

  it('adversary: text that is no certificate (a password pasted by mistake) fails without echoing it', async () => {
    const pasted = 'hunter2-not-a-certificate';
    const err = await readSecretValue(pasted, 'application/x-pem-file').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentError);
    expect(String((err as Error).message)).not.toContain('hunter2');
  });
});

describe.skipIf(!hasOpenssl)('certificate secrets and files: PFX (made by OpenSSL)', () => {
  const pfx = (name: string, pass: string, legacy = false) => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`, '-days', '1');
    openssl('pkcs12', '-export', '-inkey', `${name}.key`, '-in', `${name}.pem`, '-out', `${name}.pfx`, '-passout', `pass:${pass}`, ...(legacy ? ['-legacy'] : []));
    return readFileSync(join(dir, `${name}.pfx`));
  };

  it('opens an AES PFX with its password, and a passwordless one as Key Vault stores it (base64 secret)', async () => {
    const withPassword = await readCertificateFile(pfx('pw', 'correct horse'), 'correct horse');
    expect(withPassword.chain[0]!.subject).toBe('CN=pw');
    expect(withPassword.chain[0]!.checkPrivateKey(withPassword.privateKey!)).toBe(true);
    const stored = await readSecretValue(pfx('nopw', '').toString('base64'), 'application/x-pkcs12');
    expect(stored.chain[0]!.subject).toBe('CN=nopw');
    expect(createPublicKey(stored.privateKey!).export({ format: 'jwk' })).toEqual(stored.chain[0]!.publicKey.export({ format: 'jwk' }));
  });

  it('adversary: a wrong password fails with a typed error that names the likely cause and not the password', async () => {
    const err = await readCertificateFile(pfx('wrong', 'right-password'), 'guess-password').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentError);
    expect((err as Error).message).toMatch(/wrong password/);
    expect((err as Error).message).not.toMatch(/guess-password|right-password/);
  });

  it('a legacy (3DES/RC2) PFX fails with a message that says so and what to do', async () => {
    let file: Buffer;
    try {
      file = pfx('legacy', 'pw', true);
    } catch {
      return; // this OpenSSL cannot write legacy PFX (no legacy provider): nothing to test
    }
    await expect(readCertificateFile(file, 'pw')).rejects.toThrow(/legacy PKCS#12 encryption/);
  });
});

describe('TlsMaterial never prints its private key', () => {
  it('adversary: a logger that inspects or JSON-encodes the material sees no key', async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate(['api.example']);
    const m = new TlsMaterial('v1', createPrivateKey(keyPem), [new X509Certificate(certPem)]);
    const body = m.key.split('\n').slice(1, 3).join('');
    expect(m.key).toContain('PRIVATE KEY');
    for (const shown of [inspect(m, { depth: 10, showHidden: true }), JSON.stringify(m), String(m), JSON.stringify({ ...m })]) {
      expect(shown).not.toContain('PRIVATE KEY');
      expect(shown).not.toContain(body);
    }
    expect(m.secureContextOptions()).toEqual({ key: m.key, cert: certPem });
  });
});
