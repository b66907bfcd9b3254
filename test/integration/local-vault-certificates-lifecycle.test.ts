/**
 * Certificates beyond self-signed creation, through the real CertificateClient (in-process;
 * the transports are covered by local-vault-certificates.test.ts): the `Unknown` issuer whose
 * CSR an outside CA (OpenSSL) signs and the caller merges, cancellation, a named CA that the
 * local vault cannot reach, imports made by OpenSSL (PFX with and without a password, PEM),
 * renewal on the vault's clock, contacts and issuers, RBAC with the certificate roles, and
 * OpenSSL reading what the vault hands out. Adversaries: a merge of a certificate for another
 * key, a wrong PFX password (which must not be echoed), principals with the wrong role.
 * OpenSSL tests skip, saying so, when `openssl` is not installed.
 */
import { CertificateClient, type CertificatePolicy } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, ManualClock, rawRequest, TRANSPORTS } from '../helpers/local-vault.js';

const POLL = { intervalInMs: 1 };
const HAS_OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const withOpenssl = it.skipIf(!HAS_OPENSSL);
if (!HAS_OPENSSL) console.warn('openssl is not installed: the OpenSSL interop tests are skipped');

function innerCode(error: { details?: unknown }): string | undefined {
  return (error.details as { error?: { innerError?: { code?: string } } } | undefined)?.error?.innerError?.code;
}

describe.each(TRANSPORTS)('local vault certificates (%s): issuers, merge, import, renewal, RBAC', (transport) => {
  let vault: LocalKeyVault;
  let certificates: CertificateClient;
  let secrets: SecretClient;
  let dir: string;
  const clock = new ManualClock();
  const openssl = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport, clock: clock.now });
    certificates = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
    secrets = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
    dir = mkdtempSync(join(tmpdir(), 'kv-certs-'));
  });
  afterAll(async () => {
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  });

  withOpenssl('Unknown issuer: the operation waits; a CA signs the CSR; merge completes it with the chain; a certificate for another key is refused', async () => {
    const poller = await certificates.beginCreateCertificate('merged', { issuerName: 'Unknown', subject: 'CN=merged.example', subjectAlternativeNames: { dnsNames: ['merged.example'] }, contentType: 'application/x-pem-file' }, POLL);
    const state = (await certificates.getCertificateOperation('merged')).getOperationState().certificateOperation;
    expect(state?.status).toBe('inProgress');
    expect(poller.isDone()).toBe(false);
    writeFileSync(join(dir, 'merged.csr'), Buffer.from(state?.csr ?? new Uint8Array()));
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Test CA', '-days', '30');
    expect(openssl('req', '-inform', 'DER', '-in', 'merged.csr', '-noout', '-verify', '-subject')).toContain('CN = merged.example');
    openssl('x509', '-req', '-inform', 'DER', '-in', 'merged.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-copy_extensions', 'copy', '-days', '20', '-outform', 'DER', '-out', 'leaf.der');
    const ca = Buffer.from(new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw);
    // The CA's own certificate is not for the CSR's key.
    const wrong = await expectRestError(certificates.mergeCertificate('merged', [ca]), 400, 'BadParameter');
    expect(wrong.message).toContain("doesn't match");
    const merged = await certificates.mergeCertificate('merged', [readFileSync(join(dir, 'leaf.der')), ca]);
    expect(new X509Certificate(Buffer.from(merged.cer ?? new Uint8Array())).issuer).toBe('CN=Test CA');
    expect((await certificates.getCertificateOperation('merged')).getOperationState().certificateOperation?.status).toBe('completed');
    const pem = (await secrets.getSecret('merged')).value ?? '';
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    tls.createSecureContext({ key: pem, cert: pem });
    writeFileSync(join(dir, 'chain.pem'), pem);
    expect(openssl('verify', '-CAfile', 'ca.pem', 'chain.pem')).toContain('chain.pem: OK');
  });

  it('cancelling an Unknown-issuer operation leaves it cancelled; deleting the operation removes the pending certificate', async () => {
    const poller = await certificates.beginCreateCertificate('cancelled', { issuerName: 'Unknown', subject: 'CN=cancelled' }, POLL);
    // While it waits, neither a new create nor an import may start another version.
    await expectRestError(certificates.beginCreateCertificate('cancelled', { issuerName: 'Self', subject: 'CN=other' }, POLL), 409, 'Conflict');
    await poller.cancelOperation();
    const operation = await certificates.getCertificateOperation('cancelled');
    expect(operation.getOperationState().certificateOperation?.status).toBe('cancelled');
    expect(operation.getOperationState().certificateOperation?.cancellationRequested).toBe(true);
    const pending: string[] = [];
    for await (const p of certificates.listPropertiesOfCertificates({ includePending: true })) pending.push(p.name ?? '');
    const completed: string[] = [];
    for await (const p of certificates.listPropertiesOfCertificates()) completed.push(p.name ?? '');
    expect(pending).toContain('cancelled');
    expect(completed).not.toContain('cancelled');
    await certificates.deleteCertificateOperation('cancelled');
    await expectRestError(certificates.getCertificate('cancelled'), 404, 'CertificateNotFound');
    await expectRestError(certificates.getCertificateOperation('cancelled'), 404);
  });

  it('issuers are stored and listed; a certificate from a named CA fails its operation saying the local vault has no CA', async () => {
    await certificates.createIssuer('digi', 'DigiCert', { accountId: 'acct', password: 'issuer-password' });
    const issuer = await certificates.getIssuer('digi');
    expect(issuer.provider).toBe('DigiCert');
    expect([issuer.accountId, issuer.password]).toEqual(['acct', undefined]); // the password is never echoed, as the service
    expect(JSON.stringify(await rawRequest(vault, 'GET', '/certificates/issuers/digi?api-version=7.5'))).not.toContain('issuer-password');
    const listed: string[] = [];
    // 4.x lists the service's items as they come: { id, provider }.
    for await (const issuer of certificates.listPropertiesOfIssuers()) listed.push(`${issuer.id} ${issuer.provider}`);
    expect(listed).toEqual([`${vault.url}/certificates/issuers/digi DigiCert`]);
    const created = certificates.beginCreateCertificate('from-ca', { issuerName: 'digi', subject: 'CN=from-ca' }, POLL).then((p) => p.pollUntilDone());
    await expect(created).rejects.toThrow(/cannot request a certificate from issuer 'digi' \(provider 'DigiCert'\): it has no certificate authority/);
    // The operation stays failed (getCertificateOperation's poller rejects with its error).
    await expect(certificates.getCertificateOperation('from-ca')).rejects.toThrow(/has no certificate authority/);
    expect((await rawRequest(vault, 'GET', '/certificates/from-ca/pending?api-version=7.5')).json.status).toBe('failed');
    // A new create replaces the failed operation (and its never-completed version).
    await (await certificates.beginCreateCertificate('from-ca', { issuerName: 'Self', subject: 'CN=from-ca' }, POLL)).pollUntilDone();
    expect((await rawRequest(vault, 'GET', '/certificates/from-ca/versions?api-version=7.5')).json.value).toHaveLength(1);
    expect((await rawRequest(vault, 'GET', '/certificates/from-ca/pending?api-version=7.5')).json.status).toBe('completed');
    await certificates.deleteIssuer('digi');
    await expectRestError(certificates.getIssuer('digi'), 404);
  });

  it('contacts are set, read and deleted', async () => {
    await certificates.setContacts([{ email: 'ops@example.com', name: 'Ops' }]);
    expect(await certificates.getContacts()).toEqual([{ email: 'ops@example.com', name: 'Ops', phone: undefined }]);
    await certificates.deleteContacts();
    await expectRestError(certificates.getContacts(), 404);
  });

  withOpenssl('imports OpenSSL-made PFX with and without a password and PEM; a wrong password is a 400 that does not echo it', async () => {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'imp.key', '-out', 'imp.pem', '-subj', '/O=Example/CN=imp.example', '-days', '90', '-addext', 'subjectAltName=DNS:imp.example,DNS:www.imp.example');
    openssl('pkcs12', '-export', '-in', 'imp.pem', '-inkey', 'imp.key', '-passout', 'pass:hunter2', '-out', 'pw.pfx');
    openssl('pkcs12', '-export', '-in', 'imp.pem', '-inkey', 'imp.key', '-passout', 'pass:', '-out', 'nopw.pfx');
    const pfx = readFileSync(join(dir, 'pw.pfx'));
    const wrong = await expectRestError(certificates.importCertificate('imported', pfx, { password: 'letmein' }), 400, 'BadParameter');
    expect(wrong.message).not.toContain('letmein');
    const imported = await certificates.importCertificate('imported', pfx, { password: 'hunter2' });
    expect(imported.policy?.subject).toBe('CN=imp.example, O=Example');
    expect(imported.policy?.subjectAlternativeNames?.dnsNames).toEqual(['imp.example', 'www.imp.example']);
    expect(imported.policy?.issuerName).toBe('Unknown');
    expect(Buffer.from(imported.cer ?? new Uint8Array())).toEqual(Buffer.from(new X509Certificate(readFileSync(join(dir, 'imp.pem'))).raw));
    tls.createSecureContext({ pfx: Buffer.from((await secrets.getSecret('imported')).value ?? '', 'base64') });
    await certificates.importCertificate('imported-nopw', readFileSync(join(dir, 'nopw.pfx')));
    const pem = readFileSync(join(dir, 'imp.key'), 'utf8') + readFileSync(join(dir, 'imp.pem'), 'utf8');
    const fromPem = await certificates.importCertificate('imported-pem', Buffer.from(pem), { policy: { contentType: 'application/x-pem-file', issuerName: 'Unknown' } });
    expect(fromPem.properties.x509ThumbprintString).toBe(imported.properties.x509ThumbprintString);
    expect((await secrets.getSecret('imported-pem')).value).toContain('-----BEGIN PRIVATE KEY-----');
    const keyless = await expectRestError(certificates.importCertificate('keyless', readFileSync(join(dir, 'imp.pem')), { policy: { contentType: 'application/x-pem-file', issuerName: 'Unknown' } }),
      400, 'BadParameter');
    expect(keyless.message).toContain('Private key is not specified');
  });

  withOpenssl('OpenSSL reads the cer and the PFX the vault hands out', async () => {
    const cert = await (await certificates.beginCreateCertificate('interop', { issuerName: 'Self', subject: 'CN=interop.example', subjectAlternativeNames: { dnsNames: ['interop.example'] }, validityInMonths: 3 }, POLL)).pollUntilDone();
    writeFileSync(join(dir, 'interop.cer'), Buffer.from(cert.cer ?? new Uint8Array()));
    const text = openssl('x509', '-inform', 'DER', '-in', 'interop.cer', '-noout', '-text');
    expect(text).toContain('Subject: CN = interop.example');
    expect(text).toContain('DNS:interop.example');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    writeFileSync(join(dir, 'interop.pfx'), Buffer.from((await secrets.getSecret('interop')).value ?? '', 'base64'));
    const info = execFileSync('openssl', ['pkcs12', '-info', '-nokeys', '-passin', 'pass:', '-in', 'interop.pfx'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(info).toContain('subject=CN = interop.example');
    const keyOut = execFileSync('openssl', ['pkcs12', '-nocerts', '-nodes', '-passin', 'pass:', '-in', 'interop.pfx'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(keyOut).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('AutoRenew makes a new version with a new key at daysBeforeExpiry on the vault clock; reuseKey keeps the key', async () => {
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    const renewing: CertificatePolicy = { issuerName: 'Self', subject: 'CN=renew', validityInMonths: 12, lifetimeActions: [{ action: 'AutoRenew', daysBeforeExpiry: 30 }] };
    const first = await (await certificates.beginCreateCertificate('renew', renewing, POLL)).pollUntilDone();
    await (await certificates.beginCreateCertificate('renew-same-key', { ...renewing, reuseKey: true }, POLL)).pollUntilDone();
    const firstKey = (await keys.getKey('renew')).key?.n;
    const sameKey = (await keys.getKey('renew-same-key')).key?.n;
    clock.advanceDays(300);
    expect((await certificates.getCertificate('renew')).properties.version).toBe(first.properties.version);
    clock.advanceDays(40); // past 30 days before expiry
    const renewed = await certificates.getCertificate('renew');
    expect(renewed.properties.version).not.toBe(first.properties.version);
    const expected = first.properties.expiresOn!.getTime() / 1000 - 30 * 86_400;
    expect(renewed.properties.notBefore!.getTime() / 1000).toBe(expected);
    expect((await keys.getKey('renew')).key?.n).not.toEqual(firstKey);
    expect((await secrets.getSecret('renew')).properties.version).toBe(renewed.properties.version);
    expect((await keys.getKey('renew-same-key')).key?.n).toEqual(sameKey);
    const versions: string[] = [];
    for await (const v of certificates.listPropertiesOfCertificateVersions('renew-same-key')) versions.push(v.version ?? '');
    expect(versions).toHaveLength(2);
  });

  it('AutoRenew by lifetimePercentage renews at that share of the lifetime; missed renewals are caught up one by one', async () => {
    const policy: CertificatePolicy = { issuerName: 'Self', subject: 'CN=half', validityInMonths: 2, lifetimeActions: [{ action: 'AutoRenew', lifetimePercentage: 50 }] };
    const first = await (await certificates.beginCreateCertificate('half', policy, POLL)).pollUntilDone();
    const nbf = first.properties.notBefore!.getTime() / 1000;
    const exp = first.properties.expiresOn!.getTime() / 1000;
    clock.advanceDays(Math.ceil((exp - nbf) / 86_400) * 2); // two renewals due meanwhile
    const versions = [];
    for await (const v of certificates.listPropertiesOfCertificateVersions('half')) versions.push(v);
    versions.sort((a, b) => a.notBefore!.getTime() - b.notBefore!.getTime());
    expect(versions.length).toBeGreaterThanOrEqual(3);
    expect((versions[1]?.notBefore?.getTime() ?? 0) / 1000).toBe(nbf + Math.floor((exp - nbf) / 2));
  });

  it('HSM key types are kept on the certificate key (EC-HSM P-384 signs with ES384)', async () => {
    const keys = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    await (await certificates.beginCreateCertificate('hsm', { issuerName: 'Self', subject: 'CN=hsm', keyType: 'EC-HSM', keyCurveName: 'P-384' }, POLL)).pollUntilDone();
    const key = await keys.getKey('hsm');
    expect(key.keyType).toBe('EC-HSM');
    expect(key.key?.crv).toBe('P-384');
    await expectRestError(certificates.beginCreateCertificate('k1', { issuerName: 'Self', subject: 'CN=k1', keyType: 'EC', keyCurveName: 'P-256K' }, POLL), 400, 'BadParameter');
  });

  it('RBAC: Certificate User reads certificates and their secrets only; Certificates Officer manages them but cannot read secrets; Reader reads metadata', async () => {
    await (await certificates.beginCreateCertificate('guarded', { issuerName: 'Self', subject: 'CN=guarded' }, POLL)).pollUntilDone();
    vault.assignRole('cert-user', 'Key Vault Certificate User');
    vault.assignRole('cert-officer', 'Key Vault Certificates Officer');
    vault.assignRole('reader', 'Key Vault Reader');
    const as = (principal: string) => ({
      certificates: new CertificateClient(vault.url, vault.credential(principal), vault.clientOptions),
      secrets: new SecretClient(vault.url, vault.credential(principal), vault.clientOptions),
    });
    const user = as('cert-user');
    expect((await user.certificates.getCertificate('guarded')).name).toBe('guarded');
    expect((await user.secrets.getSecret('guarded')).value).toBeTruthy();
    const denied = await expectRestError(user.certificates.beginCreateCertificate('x', { issuerName: 'Self', subject: 'CN=x' }, POLL), 403, 'Forbidden');
    expect(innerCode(denied)).toBe('ForbiddenByRbac');
    expect(denied.message).toContain("Action: 'Microsoft.KeyVault/vaults/certificates/create/action'");
    const officer = as('cert-officer');
    await (await officer.certificates.beginCreateCertificate('by-officer', { issuerName: 'Self', subject: 'CN=o' }, POLL)).pollUntilDone();
    await officer.certificates.setContacts([{ email: 'a@example.com' }]);
    await expectRestError(officer.secrets.getSecret('by-officer'), 403, 'Forbidden');
    const reader = as('reader');
    expect((await reader.certificates.getCertificate('guarded')).name).toBe('guarded');
    await expectRestError(reader.secrets.getSecret('guarded'), 403, 'Forbidden');
    await expectRestError(reader.certificates.beginDeleteCertificate('guarded', POLL), 403, 'Forbidden');
  });

  it('RBAC on one object: Certificate User at certificates/NAME reads the certificate, not its secret, until also assigned at secrets/NAME (as on Azure)', async () => {
    await (await certificates.beginCreateCertificate('scoped', { issuerName: 'Self', subject: 'CN=scoped' }, POLL)).pollUntilDone();
    vault.assignRole('scoped-app', 'Key Vault Certificate User', 'certificates/scoped');
    const app = { certificates: new CertificateClient(vault.url, vault.credential('scoped-app'), vault.clientOptions), secrets: new SecretClient(vault.url, vault.credential('scoped-app'), vault.clientOptions) };
    expect((await app.certificates.getCertificate('scoped')).name).toBe('scoped');
    await expectRestError(app.certificates.getCertificate('guarded'), 403, 'Forbidden');
    const hidden = await expectRestError(app.secrets.getSecret('scoped'), 403, 'Forbidden');
    expect(hidden.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    vault.assignRole('scoped-app', 'Key Vault Certificate User', 'secrets/scoped');
    expect((await app.secrets.getSecret('scoped')).value).toBeTruthy();
    await expectRestError(app.secrets.getSecret('guarded'), 403, 'Forbidden');
  });
});
