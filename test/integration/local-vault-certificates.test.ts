/**
 * The certificates data plane of the local vault through the real, unmodified CertificateClient
 * on both transports, with the certificate's key through CryptographyClient and its secret
 * through SecretClient. Adversaries: a relying party that checks the certificate against the
 * policy (subject, SANs, validity, key usage, thumbprint), a verifier holding only the `cer`,
 * TLS stacks loading the PFX/PEM, a caller who downloads the secret of a non-exportable
 * certificate hoping for the private key, a caller who deletes the certificate's key or secret
 * behind its back, and bad policies (unknown issuer, a SAN that is not a DNS name, a malformed IP
 * address or URI SAN).
 */
import { CertificateClient, type CertificatePolicy, type SubjectAlternativeNames } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, id_ce_keyUsage, KeyUsage } from '@peculiar/asn1-x509';
import { createHash, createPrivateKey, verify, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, ManualClock, rawRequest, TRANSPORTS } from '../helpers/local-vault.js';

const POLL = { intervalInMs: 1 };
const ISSUE_POLICY: CertificatePolicy = {
  issuerName: 'Self',
  subject: 'CN=api.myapp.com',
  subjectAlternativeNames: { dnsNames: ['api.myapp.com', '*.myapp.com'], emails: ['ops@myapp.com'], userPrincipalNames: ['svc@myapp.com'] },
  keyType: 'RSA',
  keySize: 2048,
  reuseKey: false,
  exportable: true,
  contentType: 'application/x-pkcs12',
  validityInMonths: 12,
  lifetimeActions: [{ daysBeforeExpiry: 30, action: 'AutoRenew' }],
};

function keyUsageOf(der: Uint8Array): string[] {
  const cert = AsnConvert.parse(der, Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_keyUsage);
  return ext ? AsnConvert.parse(ext.extnValue.buffer, KeyUsage).toJSON() : [];
}

describe.each(TRANSPORTS)('local vault certificates (%s)', (transport) => {
  let vault: LocalKeyVault;
  let certificates: CertificateClient;
  let secrets: SecretClient;
  let keys: KeyClient;
  // Real time: CryptographyClient checks the key's nbf/exp (the certificate's) against its own clock.
  const clock = new ManualClock();

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport, clock: clock.now });
    certificates = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
    secrets = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
    keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  it('creates a self-signed certificate whose cer matches the policy, x5t is its SHA-1, kid signs and sid is the PFX', async () => {
    const poller = await certificates.beginCreateCertificate('api', ISSUE_POLICY, POLL);
    const created = await poller.pollUntilDone();
    const operation = await certificates.getCertificateOperation('api');
    expect(operation.getOperationState().certificateOperation?.status).toBe('completed');
    const cert = await certificates.getCertificate('api');
    expect(cert.properties.version).toBe(created.properties.version);
    const der = Buffer.from(cert.cer ?? new Uint8Array());
    const x509 = new X509Certificate(der);
    expect(x509.subject).toBe('CN=api.myapp.com');
    expect(x509.subjectAltName).toBe('DNS:api.myapp.com, DNS:*.myapp.com, email:ops@myapp.com, othername:UPN:svc@myapp.com');
    const notBefore = new Date(clock.seconds * 1000);
    const notAfter = new Date(notBefore);
    notAfter.setUTCMonth(notAfter.getUTCMonth() + 12);
    expect(new Date(x509.validFrom)).toEqual(notBefore);
    expect(new Date(x509.validTo)).toEqual(notAfter);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // node's keyUsage is the EKU list
    expect(keyUsageOf(der)).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(Buffer.from(cert.properties.x509Thumbprint ?? new Uint8Array())).toEqual(createHash('sha1').update(der).digest());
    expect(cert.properties.expiresOn).toEqual(new Date(x509.validTo));
    expect(cert.keyId).toBe(`${vault.url}/keys/api/${cert.properties.version}`);
    expect(cert.secretId).toBe(`${vault.url}/secrets/api/${cert.properties.version}`);
    expect(cert.policy?.lifetimeActions).toEqual([{ action: 'AutoRenew', daysBeforeExpiry: 30, lifetimePercentage: undefined }]);

    // A verifier holding only the cer checks what the certificate's key signed in the vault.
    const crypto = new CryptographyClient(cert.keyId ?? '', vault.credential(), vault.clientOptions);
    const signed = await crypto.signData('RS256', Buffer.from('payload'));
    expect(verify('sha256', Buffer.from('payload'), x509.publicKey, Buffer.from(signed.result))).toBe(true);
    expect(verify('sha256', Buffer.from('other'), x509.publicKey, Buffer.from(signed.result))).toBe(false);
    const key = await keys.getKey('api');
    expect(key.properties.managed).toBe(true);

    const secret = await secrets.getSecret('api');
    expect(secret.properties.contentType).toBe('application/x-pkcs12');
    expect(secret.properties.managed).toBe(true);
    expect(secret.properties.certificateKeyId).toBe(cert.keyId);
    const pfx = Buffer.from(secret.value ?? '', 'base64');
    const context = tls.createSecureContext({ pfx });
    expect(context.context).toBeDefined();
  });

  it('an EC certificate in PEM carries the private key and the certificate; ES256 from the kid verifies with the cer', async () => {
    const policy: CertificatePolicy = { issuerName: 'Self', subject: 'CN=ec.myapp.com, O=Contoso', keyType: 'EC', keyCurveName: 'P-256', contentType: 'application/x-pem-file' };
    const cert = await (await certificates.beginCreateCertificate('ec-pem', policy, POLL)).pollUntilDone();
    const x509 = new X509Certificate(Buffer.from(cert.cer ?? new Uint8Array()));
    expect(x509.subject).toBe('O=Contoso\nCN=ec.myapp.com');
    expect(keyUsageOf(cert.cer ?? new Uint8Array())).toEqual(['digitalSignature']);
    const pem = (await secrets.getSecret('ec-pem')).value ?? '';
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----BEGIN CERTIFICATE-----/);
    const privateKey = createPrivateKey(pem);
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    tls.createSecureContext({ key: pem, cert: pem });
    const crypto = new CryptographyClient(cert.keyId ?? '', vault.credential(), vault.clientOptions);
    const signed = await crypto.signData('ES256', Buffer.from('jwt'));
    expect(verify('sha256', Buffer.from('jwt'), { key: x509.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signed.result))).toBe(true);
  });

  it('the secret of a non-exportable certificate holds the certificate but not the private key (the service documents this)', async () => {
    await (await certificates.beginCreateCertificate('locked', { issuerName: 'Self', subject: 'CN=locked', exportable: false, contentType: 'application/x-pem-file' }, POLL)).pollUntilDone();
    const pem = (await secrets.getSecret('locked')).value ?? '';
    expect(pem).toContain('-----BEGIN CERTIFICATE-----');
    expect(pem).not.toContain('PRIVATE KEY');
    await (await certificates.beginCreateCertificate('locked-pfx', { issuerName: 'Self', subject: 'CN=locked', exportable: false }, POLL)).pollUntilDone();
    const pfx = (await secrets.getSecret('locked-pfx')).value ?? '';
    // The same PFX handed out by an exportable certificate is longer by its shrouded key bag.
    const open = (await secrets.getSecret('api')).value ?? '';
    expect(Buffer.from(pfx, 'base64').length).toBeLessThan(Buffer.from(open, 'base64').length - 1000);
  });

  it('lists certificates and versions with paging, updates properties and the policy', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await (await certificates.beginCreateCertificate(name, { issuerName: 'Self', subject: `CN=${name}` }, POLL)).pollUntilDone();
    }
    const names: string[] = [];
    for await (const p of certificates.listPropertiesOfCertificates()) names.push(p.name ?? '');
    expect(names).toEqual(expect.arrayContaining(['api', 'page-a', 'page-b', 'page-c']));
    // Pages of two, following nextLink, give the same list.
    const paged: string[] = [];
    let path: string | undefined = '/certificates?api-version=7.5&maxresults=2';
    while (path) {
      const page = await rawRequest(vault, 'GET', path);
      expect(page.json.value.length).toBeLessThanOrEqual(2);
      paged.push(...page.json.value.map((item: { id: string }) => item.id.split('/').at(-1)));
      path = page.json.nextLink ? page.json.nextLink.slice(vault.url.length) : undefined;
    }
    expect(paged).toEqual(names);
    const second = await (await certificates.beginCreateCertificate('page-a', { issuerName: 'Self', subject: 'CN=page-a2' }, POLL)).pollUntilDone();
    const versions: string[] = [];
    for await (const p of certificates.listPropertiesOfCertificateVersions('page-a')) versions.push(p.version ?? '');
    expect(versions).toHaveLength(2);
    expect(versions).toContain(second.properties.version);

    const updated = await certificates.updateCertificateProperties('page-a', '', { tags: { env: 'test' }, enabled: false });
    expect(updated.properties.tags).toEqual({ env: 'test' });
    expect(updated.properties.enabled).toBe(false);
    // (4.x's updateCertificatePolicy resolves to an empty policy whatever the service answers.)
    await certificates.updateCertificatePolicy('page-a', { issuerName: 'Self', subject: 'CN=page-a3', validityInMonths: 6 });
    const policy = await certificates.getCertificatePolicy('page-a');
    expect(policy.subject).toBe('CN=page-a3');
    expect(policy.validityInMonths).toBe(6);
    const renewed = await (await certificates.beginCreateCertificate('page-a', policy, POLL)).pollUntilDone();
    expect(new X509Certificate(Buffer.from(renewed.cer ?? new Uint8Array())).subject).toBe('CN=page-a3');
    const version = await certificates.getCertificateVersion('page-a', second.properties.version ?? '');
    expect(new X509Certificate(Buffer.from(version.cer ?? new Uint8Array())).subject).toBe('CN=page-a2');
  });

  it("deletes, lists, recovers and purges a certificate with its key and secret; its key and secret cannot be deleted alone", async () => {
    await (await certificates.beginCreateCertificate('gone', { issuerName: 'Self', subject: 'CN=gone' }, POLL)).pollUntilDone();
    const keyDelete = await expectRestError(keys.beginDeleteKey('gone').then((p) => p.pollUntilDone()), 403, 'Forbidden');
    expect(keyDelete.message).toBe('Operation "delete" is not allowed as this object\'s lifetime is managed by Key Vault.');
    await expectRestError(secrets.setSecret('gone', 'overwrite'), 403, 'Forbidden');
    const deleted = await (await certificates.beginDeleteCertificate('gone', POLL)).pollUntilDone();
    expect(deleted.recoveryId).toBe(`${vault.url}/deletedcertificates/gone`);
    await expectRestError(secrets.getSecret('gone'), 404, 'SecretNotFound');
    await expectRestError(keys.getKey('gone'), 404, 'KeyNotFound');
    const listed: string[] = [];
    for await (const d of certificates.listDeletedCertificates()) listed.push(d.name ?? '');
    expect(listed).toContain('gone');
    const deletedSecrets: string[] = [];
    for await (const d of secrets.listDeletedSecrets()) deletedSecrets.push(d.name);
    expect(deletedSecrets).not.toContain('gone');
    await (await certificates.beginRecoverDeletedCertificate('gone', POLL)).pollUntilDone();
    expect((await secrets.getSecret('gone')).value).toBeTruthy();
    expect((await keys.getKey('gone')).properties.managed).toBe(true);
    await (await certificates.beginDeleteCertificate('gone', POLL)).pollUntilDone();
    await certificates.purgeDeletedCertificate('gone');
    clock.ms += 2_000; // a purge completes after operationDelayMs on the vault clock, as in Azure (seconds)
    await expectRestError(certificates.getDeletedCertificate('gone'), 404, 'CertificateNotFound');
    await expectRestError(keys.getDeletedKey('gone'), 404, 'KeyNotFound');
    // The name is free again for all three objects.
    await (await certificates.beginCreateCertificate('gone', { issuerName: 'Self', subject: 'CN=again' }, POLL)).pollUntilDone();
  });

  it('backs up and restores a certificate with its key and secret; the backup does not restore as a secret', async () => {
    const original = await (await certificates.beginCreateCertificate('saved', { issuerName: 'Self', subject: 'CN=saved' }, POLL)).pollUntilDone();
    const pfx = (await secrets.getSecret('saved')).value;
    const modulus = (await keys.getKey('saved')).key?.n;
    const blob = await certificates.backupCertificate('saved');
    await expectRestError(secrets.restoreSecretBackup(blob ?? new Uint8Array()), 400, 'BadParameter');
    await (await certificates.beginDeleteCertificate('saved', POLL)).pollUntilDone();
    await certificates.purgeDeletedCertificate('saved');
    clock.ms += 2_000; // the purge completes
    const restored = await certificates.restoreCertificateBackup(blob ?? new Uint8Array());
    expect(restored.properties.version).toBe(original.properties.version);
    expect((await secrets.getSecret('saved')).value).toBe(pfx);
    expect((await keys.getKey('saved')).key?.n).toEqual(modulus);
    await expectRestError(certificates.restoreCertificateBackup(blob ?? new Uint8Array()), 409, 'Conflict');
  });

  it('URI and IP address SANs (API 7.6): in the cer and the policy, imported back; a malformed one is a 400', async () => {
    const sans = { uniformResourceIdentifiers: ['spiffe://myapp.com/api'], ipAddresses: ['10.0.0.7', '2001:db8::1'] } satisfies SubjectAlternativeNames;
    const created = await (await certificates.beginCreateCertificate('by-ip', { issuerName: 'Self', subject: 'CN=by-ip', subjectAlternativeNames: sans }, POLL)).pollUntilDone();
    expect(new X509Certificate(Buffer.from(created.cer ?? new Uint8Array())).subjectAltName).toBe('URI:spiffe://myapp.com/api, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:1');
    expect(created.policy?.subjectAlternativeNames).toEqual(sans);
    const pfx = Buffer.from((await secrets.getSecret('by-ip')).value ?? '', 'base64');
    expect((await certificates.importCertificate('by-ip-copy', pfx)).policy?.subjectAlternativeNames).toEqual(sans);
    const ip = await expectRestError(certificates.beginCreateCertificate('bad-ip', { issuerName: 'Self', subject: 'CN=x', subjectAlternativeNames: { ipAddresses: ['10.0.0.256'] } }, POLL), 400, 'BadParameter');
    expect(ip.message).toBe("The subject alternative name '10.0.0.256' is not a valid IP address.");
    const uri = await expectRestError(certificates.beginCreateCertificate('bad-uri', { issuerName: 'Self', subject: 'CN=x', subjectAlternativeNames: { uniformResourceIdentifiers: ['no scheme'] } }, POLL), 400, 'BadParameter');
    expect(uri.message).toBe("The subject alternative name 'no scheme' is not a valid URI.");
  });

  it('refuses an unknown issuer and a SAN that is not a DNS name with 400 BadParameter', async () => {
    const unknown = await expectRestError(certificates.beginCreateCertificate('bad', { issuerName: 'NoSuchCA', subject: 'CN=x' }, POLL), 400, 'BadParameter');
    expect(unknown.message).toContain("The issuer 'NoSuchCA' is unknown");
    const san = await expectRestError(
      certificates.beginCreateCertificate('bad', { issuerName: 'Self', subjectAlternativeNames: { dnsNames: ['not a host!'] } }, POLL),
      400,
      'BadParameter',
    );
    expect(san.message).toBe("The subject alternative name 'not a host!' is not a valid DNS name.");
    await expectRestError(certificates.getCertificate('bad'), 404, 'CertificateNotFound');
  });
});
