/**
 * Properties of the certificates data plane's building blocks. Adversaries: a policy subject of
 * any shape (the certificate must say exactly what the policy asked), a SAN list carrying one
 * character a DNS name cannot hold (the policy must be refused, never silently encoded), and a
 * PFX opened with any password but the right one (refused with a 400 that names no password).
 */
import fc from 'fast-check';
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPfx, readPfx } from '../../src/local-vault/certificates/pkcs12.js';
import { parsePolicy } from '../../src/local-vault/certificates/policy.js';
import { selfSignedCertificate, privateKeyObject } from '../../src/local-vault/certificates/x509.js';
import { generateMaterial, type KeyMaterial } from '../../src/local-vault/crypto/key-material.js';
import { VaultHttpError } from '../../src/local-vault/http/errors.js';

const NOW = Date.UTC(2030, 0, 1) / 1000;
const attributeType = fc.constantFrom('CN', 'O', 'OU', 'L', 'ST');
const attributeValue = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .-]{0,20}[A-Za-z0-9]$/);
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));

describe('certificates (property)', () => {
  let material: KeyMaterial;
  beforeAll(async () => {
    material = await generateMaterial({ family: 'EC', curve: 'P-256' });
  });

  it('the certificate carries exactly the subject and DNS names the policy asks for', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(attributeType, attributeValue), { minLength: 1, maxLength: 4 }), fc.array(host, { minLength: 1, maxLength: 4 }), (rdns, hosts) => {
        const subject = rdns.map(([type, value]) => `${type}=${value}`).join(', ');
        const policy = parsePolicy({ issuer: { name: 'Self' }, key_props: { kty: 'EC' }, x509_props: { subject, sans: { dns_names: hosts } } }, NOW);
        const cert = new X509Certificate(selfSignedCertificate(policy, material, NOW));
        expect(cert.subject).toBe([...rdns].reverse().map(([type, value]) => `${type}=${value}`).join('\n'));
        expect(cert.subjectAltName).toBe(hosts.map((h) => `DNS:${h}`).join(', '));
        expect(cert.verify(cert.publicKey)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('a DNS name with any character outside letters, digits, dots and hyphens is refused with 400', () => {
    const bad = fc.constantFrom(' ', '_', '!', '/', '@', ':', '*', 'é', '\n');
    fc.assert(
      fc.property(host, bad, fc.nat(), (name, c, at) => {
        const i = at % (name.length + 1);
        const dns = name.slice(0, i) + c + name.slice(i);
        fc.pre(!(c === '*' && i === 0 && dns.startsWith('*.')));
        const attempt = (): unknown => parsePolicy({ issuer: { name: 'Self' }, x509_props: { sans: { dns_names: [dns] } } }, NOW);
        expect(attempt).toThrow(VaultHttpError);
        expect(attempt).toThrow(`'${dns}' is not a valid DNS name`);
      }),
    );
  });

  it('a PFX opens with its password only; any other is a 400 that does not contain it', async () => {
    const leaf = selfSignedCertificate(parsePolicy({ issuer: { name: 'Self' }, key_props: { kty: 'EC' }, x509_props: { subject: 'CN=pfx' } }, NOW), material, NOW);
    const privateKey = privateKeyObject(material).export({ format: 'der', type: 'pkcs8' });
    await fc.assert(
      // `other` is long enough that finding it in the message would mean the message echoes it.
      fc.asyncProperty(fc.string({ maxLength: 12 }), fc.stringMatching(/^[A-Za-z0-9]{8,12}$/), async (password, other) => {
        fc.pre(password !== other);
        const pfx = await buildPfx({ privateKey, certificates: [leaf] }, password);
        const opened = await readPfx(pfx, password);
        expect(opened.privateKey).toEqual(privateKey);
        expect(opened.certificates).toEqual([leaf]);
        const error = await readPfx(pfx, other).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(VaultHttpError);
        expect((error as VaultHttpError).status).toBe(400);
        expect((error as VaultHttpError).message).not.toContain(other);
      }),
      { numRuns: 8 },
    );
  });
});
