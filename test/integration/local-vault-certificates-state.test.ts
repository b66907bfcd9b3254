/**
 * Certificates in a persisted local vault: a certificate (with its key and secret), a pending
 * operation, the contacts and the issuers survive a restart from the state file, and a second
 * vault process on the same file sees them at once. Adversary: a restart between creating a
 * CSR and merging it, which must not lose the pending key.
 */
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';

const POLL = { intervalInMs: 1 };

describe('local vault certificates persist in the state file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-cert-state-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps certificates, their secrets, pending operations, contacts and issuers across close/start and between processes', async () => {
    const stateFile = join(dir, 'vault.json');
    const first = await LocalKeyVault.start({ stateFile });
    const client = new CertificateClient(first.url, first.credential(), first.clientOptions);
    const created = await (await client.beginCreateCertificate('kept', { issuerName: 'Self', subject: 'CN=kept' }, POLL)).pollUntilDone();
    await client.beginCreateCertificate('waiting', { issuerName: 'Unknown', subject: 'CN=waiting' }, POLL);
    const csr = (await client.getCertificateOperation('waiting')).getOperationState().certificateOperation?.csr;
    await client.setContacts([{ email: 'ops@example.com' }]);
    await client.createIssuer('ca', 'OneCertV2-PrivateCA');
    const pfx = (await new SecretClient(first.url, first.credential(), first.clientOptions).getSecret('kept')).value;

    const second = await LocalKeyVault.start({ stateFile });
    const other = new CertificateClient(second.url, second.credential(), second.clientOptions);
    expect((await other.getCertificate('kept')).properties.version).toBe(created.properties.version);
    await first.close();
    await second.close();

    const again = await LocalKeyVault.start({ stateFile });
    const reopened = new CertificateClient(again.url, again.credential(), again.clientOptions);
    const kept = await reopened.getCertificate('kept');
    expect(Buffer.from(kept.cer ?? new Uint8Array())).toEqual(Buffer.from(created.cer ?? new Uint8Array()));
    expect((await new SecretClient(again.url, again.credential(), again.clientOptions).getSecret('kept')).value).toBe(pfx);
    const operation = (await reopened.getCertificateOperation('waiting')).getOperationState().certificateOperation;
    expect(operation?.status).toBe('inProgress');
    expect(Buffer.from(operation?.csr ?? new Uint8Array())).toEqual(Buffer.from(csr ?? new Uint8Array()));
    expect(await reopened.getContacts()).toEqual([{ email: 'ops@example.com', name: undefined, phone: undefined }]);
    expect((await reopened.getIssuer('ca')).provider).toBe('OneCertV2-PrivateCA');
    await again.close();
  });
});
