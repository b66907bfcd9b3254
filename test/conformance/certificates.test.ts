/**
 * Conformance: certificates, minimally — a self-signed certificate is created through the
 * create poller, read back with its key and secret, and deleted through a poller that sees the
 * delete in progress first (issue 13, item 2, for the third object type).
 * Adversary: an emulator whose certificate create or delete completes before the first poll, or
 * whose certificate lacks the key and secret the service creates beside it — code that never
 * waits on the poller or reads the secret too early passes there and fails in Azure.
 */
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRestError } from '../helpers/local-vault.js';
import { cleanUp, noticeAzureSkipped, openTarget, recordingPolicy, TARGET_KINDS, withPolicy, type Target } from './target.js';

noticeAzureSkipped('conformance: certificates');

const POLL = { intervalInMs: 250 };

describe.each(TARGET_KINDS)('conformance: certificates (%s)', (kind) => {
  let target: Target;
  let certificates: CertificateClient;
  let keys: KeyClient;
  let secrets: SecretClient;
  const log: string[] = [];
  beforeAll(async () => {
    target = await openTarget(kind);
    const options = withPolicy(target, recordingPolicy(log));
    certificates = new CertificateClient(target.url, target.credential, options);
    keys = new KeyClient(target.url, target.credential, target.clientOptions);
    secrets = new SecretClient(target.url, target.credential, target.clientOptions);
  });
  afterAll(() => cleanUp(target, { certificates }));

  const count = (entry: string): number => log.filter((line) => line === entry).length;

  it('creates a Self-issued certificate through the poller; get returns it with its key and secret', async () => {
    const name = target.unique('conf-cert');
    const poller = await certificates.beginCreateCertificate(name, { issuerName: 'Self', subject: 'CN=conformance' }, POLL);
    const created = await poller.pollUntilDone();
    expect(created.name).toBe(name);
    expect(created.properties.id).toMatch(new RegExp(`^${target.url}/certificates/${name}/[0-9a-f]{32}$`));
    const read = await certificates.getCertificate(name);
    expect(read.properties.id).toBe(created.properties.id);
    expect(read.cer!.length).toBeGreaterThan(100);
    expect(read.policy?.issuerName).toBe('Self');
    expect(read.policy?.subject).toBe('CN=conformance');
    expect(read.keyId).toBe(`${target.url}/keys/${name}/${created.properties.version}`);
    expect(read.secretId).toBe(`${target.url}/secrets/${name}/${created.properties.version}`);
    expect((await keys.getKey(name)).id).toBe(read.keyId);
    expect((await secrets.getSecret(name)).properties.contentType).toBe('application/x-pkcs12');
  });

  it('beginDeleteCertificate polls more than once: the first poll sees the delete in progress; then the certificate is a 404', async () => {
    const name = target.unique('conf-cert-del');
    await (await certificates.beginCreateCertificate(name, { issuerName: 'Self', subject: 'CN=deleted' }, POLL)).pollUntilDone();
    const deleted = await (await certificates.beginDeleteCertificate(name, POLL)).pollUntilDone();
    expect(deleted.name).toBe(name);
    expect(deleted.recoveryId).toBe(`${target.url}/deletedcertificates/${name}`);
    expect(count(`GET /deletedcertificates/${name}`)).toBeGreaterThanOrEqual(2);
    await expectRestError(certificates.getCertificate(name), 404, 'CertificateNotFound');
    expect((await certificates.getDeletedCertificate(name)).name).toBe(name);
  });
});
