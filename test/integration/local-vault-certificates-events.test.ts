/**
 * Event Grid events of certificates, from the shared object-type machinery: a new version
 * publishes CertificateNewVersionCreated (and its key and secret their NewVersionCreated), a
 * renewal on the vault's clock publishes it at the time the renewal was due, and a certificate
 * nobody renews publishes CertificateNearExpiry 30 days before it expires and CertificateExpired
 * when it does. Adversary: a vault whose clock jumps months ahead between requests, which must
 * publish what it would have published on the way, in order.
 */
import { CertificateClient } from '@azure/keyvault-certificates';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { ManualClock } from '../helpers/local-vault.js';
import { EventRecorder } from '../helpers/vault-events.js';

const POLL = { intervalInMs: 1 };

describe('local vault certificate events', () => {
  let vault: LocalKeyVault;
  let certificates: CertificateClient;
  const clock = new ManualClock(Date.UTC(2031, 0, 1));
  const recorder = new EventRecorder();

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ clock: clock.now, operationDelayMs: 0 });
    vault.events.subscribe(recorder.listener);
    certificates = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  it('a new certificate publishes CertificateNewVersionCreated with its key and secret', async () => {
    const cert = await (await certificates.beginCreateCertificate('evt', { issuerName: 'Self', subject: 'CN=evt' }, POLL)).pollUntilDone();
    const created = recorder.of('Microsoft.KeyVault.CertificateNewVersionCreated', 'evt');
    expect(created).toHaveLength(1);
    expect(created[0]?.data.Version).toBe(cert.properties.version);
    expect(created[0]?.data.Id).toBe(cert.properties.id);
    expect(created[0]?.data.EXP).toBe(cert.properties.expiresOn!.getTime() / 1000);
    expect(recorder.of('Microsoft.KeyVault.KeyNewVersionCreated', 'evt')).toHaveLength(1);
    expect(recorder.of('Microsoft.KeyVault.SecretNewVersionCreated', 'evt')).toHaveLength(1);
  });

  it('AutoRenew on the vault clock publishes the renewal at its due time; NearExpiry and Expired come for a certificate nobody renews', async () => {
    await (
      await certificates.beginCreateCertificate(
        'auto',
        { issuerName: 'Self', subject: 'CN=auto', validityInMonths: 12, lifetimeActions: [{ action: 'AutoRenew', daysBeforeExpiry: 20 }] },
        POLL,
      )
    ).pollUntilDone();
    const first = await certificates.getCertificate('auto');
    await (
      await certificates.beginCreateCertificate(
        'manual',
        { issuerName: 'Self', subject: 'CN=manual', validityInMonths: 1, lifetimeActions: [{ action: 'EmailContacts', lifetimePercentage: 50 }] },
        POLL,
      )
    ).pollUntilDone();
    const manual = await certificates.getCertificate('manual');
    clock.advanceDays(400);
    await vault.events.processDue(); // the vault's timer does this by itself every second
    const renewals = recorder.of('Microsoft.KeyVault.CertificateNewVersionCreated', 'auto');
    expect(renewals).toHaveLength(2);
    const due = first.properties.expiresOn!.getTime() - 20 * 86_400_000;
    expect(Date.parse(renewals[1]?.eventTime ?? '')).toBe(due);
    // The first version's NearExpiry (30 days before) came before the renewal (20 days before).
    const near = recorder.of('Microsoft.KeyVault.CertificateNearExpiry', 'auto');
    expect(near.map((e) => e.data.Version)).toContain(first.properties.version);
    expect(recorder.events.indexOf(near[0]!)).toBeLessThan(recorder.events.indexOf(renewals[1]!));
    expect(recorder.of('Microsoft.KeyVault.CertificateExpired', 'auto')).toHaveLength(0);
    const expired = recorder.of('Microsoft.KeyVault.CertificateExpired', 'manual');
    expect(expired).toHaveLength(1);
    expect(Date.parse(expired[0]?.eventTime ?? '')).toBe(manual.properties.expiresOn!.getTime());
    expect(recorder.of('Microsoft.KeyVault.CertificateNearExpiry', 'manual')).toHaveLength(1);
    expect(recorder.of('Microsoft.KeyVault.CertificateNewVersionCreated', 'manual')).toHaveLength(1);
  });
});
