/**
 * createTlsCredentials against the local vault (the real CertificateClient and SecretClient): an
 * HTTPS server on 127.0.0.1 serves a vault certificate; the vault renews it (a new version);
 * a new connection sees the new certificate while an open keep-alive connection stays up on
 * the old one; no restart. Failures keep the last good certificate serving.
 */
import { once } from 'node:events';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { CertificateClient, type CertificatePolicy } from '@azure/keyvault-certificates';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateError, createTlsCredentials, type TlsCredentials } from '../../src/certificates/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { ManualClock } from '../helpers/local-vault.js';

const POLL = { intervalInMs: 10 };

/** GET / through `agent`: the peer certificate's fingerprint and whether the socket was reused. */
function get(port: number, agent: Agent): Promise<{ fingerprint: string; reused: boolean; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, rejectUnauthorized: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ fingerprint, reused: req.reusedSocket, body }));
    });
    req.on('error', reject).end();
  });
}

describe.each(['application/x-pkcs12', 'application/x-pem-file'] as const)('TLS from a vault certificate stored as %s', (contentType) => {
  let vault: LocalKeyVault;
  let certs: CertificateClient;
  let server: Server;
  let tls: TlsCredentials;
  let port: number;
  const name = contentType.endsWith('pkcs12') ? 'api-tls-pfx' : 'api-tls-pem';
  const policy = { issuerName: 'Self', subject: 'CN=localhost', subjectAlternativeNames: { dnsNames: ['localhost'] }, keyType: 'RSA', keySize: 2048, validityInMonths: 12, exportable: true, contentType } as CertificatePolicy;

  beforeAll(async () => {
    vault = await LocalKeyVault.start();
    certs = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
    await (await certs.beginCreateCertificate(name, policy, POLL)).pollUntilDone();
    tls = await createTlsCredentials({ vaultUrl: vault.url, certificateName: name, credential: vault.credential(), clientOptions: vault.clientOptions, refreshInterval: '1h', retry: { maxRetries: 0 } });
    server = createServer({ ...tls.secureContextOptions(), keepAlive: true }, (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    tls.attach(server);
  });
  afterAll(async () => {
    tls?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await vault?.close();
  });

  it('a renewal reaches new connections; an open keep-alive connection stays up on the old certificate', async () => {
    const v1 = tls.current;
    const kept = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(port, kept);
    expect(first).toMatchObject({ fingerprint: v1.fingerprint256, body: 'ok' });

    const renewed = await (await certs.beginCreateCertificate(name, policy, POLL)).pollUntilDone();
    const events: unknown[] = [];
    tls.on('renewed', (e) => events.push(e));
    expect(await tls.refresh()).toBe(true);
    expect(tls.version).toBe(renewed.properties.version);
    expect(tls.current.fingerprint256).not.toBe(v1.fingerprint256);
    expect(events).toEqual([expect.objectContaining({ version: renewed.properties.version, previousVersion: v1.version })]);
    expect(await tls.refresh()).toBe(false); // nothing new

    const again = await get(port, kept);
    expect(again).toEqual({ fingerprint: v1.fingerprint256, reused: true, body: 'ok' }); // same connection, not dropped
    const fresh = await get(port, new Agent({ keepAlive: false }));
    expect(fresh.fingerprint).toBe(tls.current.fingerprint256);
    kept.destroy();
  });

  it('adversary: the vault fails during a refresh — refreshFailed, and the last good certificate keeps serving', async () => {
    const serving = tls.current.fingerprint256;
    vault.faults.rate(1, { type: '503' });
    try {
      const err = await tls.refresh().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CertificateError);
      expect((err as CertificateError).code).toBe('ERR_CERTIFICATE_UNAVAILABLE');
    } finally {
      vault.faults.clear();
    }
    expect((await get(port, new Agent())).fingerprint).toBe(serving);
  });

  it('adversary: a logger that inspects or JSON-encodes the credentials sees no private key', () => {
    for (const shown of [inspect(tls, { depth: 10, showHidden: true }), JSON.stringify(tls), inspect(tls.current, { depth: 10 })]) {
      expect(shown).not.toMatch(/PRIVATE KEY/);
      expect(shown).not.toContain(tls.key.split('\n')[1]);
    }
    expect(tls.key).toMatch(/BEGIN PRIVATE KEY/);
  });
});

describe('createTlsCredentials: typed failures', () => {
  let vault: LocalKeyVault;
  let certs: CertificateClient;
  const base = () => ({ vaultUrl: vault.url, credential: vault.credential(), clientOptions: vault.clientOptions });
  const policy = (over: Partial<CertificatePolicy> = {}) => ({ issuerName: 'Self', subject: 'CN=localhost', keyType: 'EC', keyCurveName: 'P-256', validityInMonths: 1, exportable: true, ...over }) as CertificatePolicy;
  const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof CertificateError ? e.code : String(e)));

  beforeAll(async () => {
    vault = await LocalKeyVault.start();
    certs = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault?.close());

  it('not found, not exportable, expired (by the caller\'s clock); nearExpiry once per version', async () => {
    expect(await codeOf(createTlsCredentials({ ...base(), certificateName: 'nope' }))).toBe('ERR_CERTIFICATE_NOT_FOUND');
    await (await certs.beginCreateCertificate('locked', policy({ exportable: false }), POLL)).pollUntilDone();
    expect(await codeOf(createTlsCredentials({ ...base(), certificateName: 'locked' }))).toBe('ERR_CERTIFICATE_NOT_EXPORTABLE');
    await (await certs.beginCreateCertificate('short', policy(), POLL)).pollUntilDone();
    const later = Date.now() + 400 * 86_400_000;
    expect(await codeOf(createTlsCredentials({ ...base(), certificateName: 'short', now: () => later }))).toBe('ERR_CERTIFICATE_EXPIRED');

    const tls = await createTlsCredentials({ ...base(), certificateName: 'short', nearExpiry: '40d' });
    const warned: unknown[] = [];
    tls.on('nearExpiry', (e) => warned.push(e));
    await tls.refresh();
    await tls.refresh();
    expect(warned).toEqual([expect.objectContaining({ version: tls.version })]);
    tls.close();
  });

  it('least privilege: Certificate User loads it; Reader (metadata only) is denied the key', async () => {
    await (await certs.beginCreateCertificate('scoped', policy(), POLL)).pollUntilDone();
    vault.assignRole('tls-svc', 'Key Vault Certificate User');
    vault.assignRole('tls-reader', 'Key Vault Reader');
    const as = (principal: string) => createTlsCredentials({ ...base(), credential: vault.credential(principal), certificateName: 'scoped' });
    const tls = await as('tls-svc');
    expect(tls.key).toMatch(/PRIVATE KEY/);
    tls.close();
    expect(await codeOf(as('tls-reader'))).toBe('ERR_CERTIFICATE_ACCESS_DENIED');
  });

  it('the vault\'s CertificateNewVersionCreated event drives refresh(): renewed at once, not at the next refreshInterval', async () => {
    await (await certs.beginCreateCertificate('evented', policy(), POLL)).pollUntilDone();
    const tls = await createTlsCredentials({ ...base(), certificateName: 'evented', refreshInterval: '1d' });
    const renewed = once(tls, 'renewed');
    const stop = vault.events.subscribe((e) => {
      if (e.subject === 'evented') tls.refresh().catch(() => undefined);
    }, { eventTypes: ['Microsoft.KeyVault.CertificateNewVersionCreated'] });
    try {
      const v2 = await (await certs.beginCreateCertificate('evented', policy(), POLL)).pollUntilDone();
      const [event] = (await renewed) as [{ version: string }];
      expect(event.version).toBe(v2.properties.version);
      expect(tls.version).toBe(v2.properties.version);
    } finally {
      stop();
      tls.close();
    }
  });

  it('bad options fail before any vault call', async () => {
    const before = vault.stats.total;
    await expect(createTlsCredentials({ ...base(), certificateName: 'bad_name' })).rejects.toThrow(RangeError);
    await expect(createTlsCredentials({ ...base(), certificateName: 'x', refreshInterval: '0s' })).rejects.toThrow(/refreshInterval/);
    await expect(createTlsCredentials({ ...base(), vaultUrl: 'http://insecure', certificateName: 'x' })).rejects.toThrow(/https/);
    expect(vault.stats.total).toBe(before);
  });
});

describe('TLS from a vault certificate: AutoRenew on the vault\'s clock (HTTPS transport)', () => {
  const clock = new ManualClock(Date.now());
  let vault: LocalKeyVault;
  let server: Server;
  let tls: TlsCredentials;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'https', clock: clock.now });
  });
  afterAll(async () => {
    tls?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await vault?.close();
  });

  it('the vault renews 30 days before expiry; the next refresh serves the new version to new connections, no restart', async () => {
    const certs = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
    const policy = {
      issuerName: 'Self', subject: 'CN=localhost', validityInMonths: 12, exportable: true, contentType: 'application/x-pem-file',
      lifetimeActions: [{ daysBeforeExpiry: 30, action: 'AutoRenew' }],
    } as CertificatePolicy;
    await (await certs.beginCreateCertificate('auto', policy, POLL)).pollUntilDone();
    tls = await createTlsCredentials({ vaultUrl: vault.url, certificateName: 'auto', credential: vault.credential(), clientOptions: vault.clientOptions, now: clock.now });
    server = createServer(tls.secureContextOptions(), (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    tls.attach(server);
    const kept = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = tls.current;
    expect((await get(port, kept)).fingerprint).toBe(before.fingerprint256);

    clock.ms = before.notAfter.getTime() - 31 * 86_400_000; // not due yet
    expect(await tls.refresh()).toBe(false);
    clock.ms = before.notAfter.getTime() - 29 * 86_400_000; // due: the vault renews when the certificate is next read
    expect(await tls.refresh()).toBe(true);
    expect(tls.version).not.toBe(before.version);
    expect(tls.notAfter.getTime()).toBeGreaterThan(before.notAfter.getTime());

    expect(await get(port, kept)).toMatchObject({ fingerprint: before.fingerprint256, reused: true });
    expect((await get(port, new Agent())).fingerprint).toBe(tls.current.fingerprint256);
    kept.destroy();
  });
});
