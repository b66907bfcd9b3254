import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateHosts, createSelfSignedCertificate } from '../../src/local-vault/transport/certificate.js';

/** Precondition: every generated certificate is valid DER that OpenSSL parses (serials were not always minimal). */
describe('local vault certificate', () => {
  it('600 generated certificates all parse, with a positive minimal serial and the SANs', async () => {
    const hosts = certificateHosts('myvault.localhost');
    for (let i = 0; i < 600; i++) {
      const { certPem } = await createSelfSignedCertificate(hosts);
      const cert = new X509Certificate(certPem);
      expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
      if (i === 0) expect(cert.subjectAltName).toContain('DNS:myvault.localhost');
    }
  });
});
