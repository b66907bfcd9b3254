/**
 * Properties of the certificate glue: whatever order a PEM or PFX lists a chain in, it comes
 * out leaf first, then each issuer (what TLS sends and x5c publishes); and the CLI's SAN
 * parser accepts every valid DNS name and refuses any name holding a character DNS forbids.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readPem } from '../../src/certificates/internal/content.js';
import { subjectAlternativeNames } from '../../src/cli/commands/cert-helpers.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('chain order (a root, an intermediate and a leaf made by OpenSSL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kve-chain-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ext = join(dir, 'ca.ext');
  const pem = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('any order of the blocks (key anywhere, or no key) gives leaf, intermediate, root', () => {
    execFileSync('sh', ['-c', `printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=keyCertSign\\n' > ${ext}`]);
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=Root', '-days', '2');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Intermediate');
    openssl('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.pem', '-days', '2', '-extfile', ext);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf.example');
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1');
    const certs = ['leaf.pem', 'int.pem', 'root.pem'].map(pem);
    const key = pem('leaf.key');
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }), fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), (order, keyAt) => {
        const blocks = order.map((i) => certs[i]!);
        if (keyAt !== undefined) blocks.splice(keyAt, 0, key);
        const content = readPem(blocks.join(''));
        expect(content.chain.map((c) => c.subject)).toEqual(['CN=leaf.example', 'CN=Intermediate', 'CN=Root']);
        expect(content.privateKey === undefined).toBe(keyAt === undefined);
      }),
      { numRuns: 60 },
    );
  });
});

describe('the CLI\'s --san dns:NAME', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
  const hostname = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));

  it('accepts every RFC 1123 host name, and a wildcard as the whole left-most label', () => {
    fc.assert(fc.property(hostname, fc.boolean(), (name, wildcard) => {
      const value = wildcard ? `*.${name}.example` : name;
      expect(subjectAlternativeNames([`dns:${value}`])).toEqual({ dnsNames: [value] });
    }));
  });

  it('adversary: a name with any character DNS forbids (or an empty label) is refused before any vault call', () => {
    const bad = fc.constantFrom('_', ' ', '/', '@', ':', '\n', '\u0000', 'é', '..');
    fc.assert(fc.property(hostname, bad, fc.nat(), (name, c, at) => {
      const i = at % (name.length + 1);
      const value = `${name.slice(0, i)}${c}${name.slice(i)}`;
      expect(() => subjectAlternativeNames([`dns:${value}`])).toThrow(/not a valid DNS name/);
    }));
  });
});
