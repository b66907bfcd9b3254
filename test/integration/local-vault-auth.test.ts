/**
 * Authentication and authorisation of the local vault through the real clients, on both
 * transports: the built-in roles against create/rotate/delete/wrap/unwrap/sign/get, key-scoped
 * assignments, unassigned principals, and tokens the vault did not sign.
 */
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault, VAULT_ROLES, type VaultRole } from '../../src/local-vault/index.js';
import { expectRestError, forgedCredential, TRANSPORTS, untilRejectsWith } from '../helpers/local-vault.js';

type Action = 'create' | 'rotate' | 'delete' | 'wrap' | 'unwrap' | 'sign' | 'get';

const MATRIX: Record<VaultRole, Record<Action, boolean>> = {
  'Key Vault Administrator': { create: true, rotate: true, delete: true, wrap: true, unwrap: true, sign: true, get: true },
  'Key Vault Crypto Officer': { create: true, rotate: true, delete: true, wrap: true, unwrap: true, sign: true, get: true },
  'Key Vault Crypto User': { create: false, rotate: false, delete: false, wrap: true, unwrap: true, sign: true, get: true },
  'Key Vault Crypto Service Encryption User': { create: false, rotate: false, delete: false, wrap: true, unwrap: true, sign: false, get: true },
  'Key Vault Crypto Service Release User': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: false },
  'Key Vault Secrets Officer': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: false },
  'Key Vault Secrets User': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: false },
  'Key Vault Certificates Officer': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: false },
  // keys/read is in the role (a certificate's key); reading is all it grants on keys.
  'Key Vault Certificate User': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: true },
  'Key Vault Data Access Administrator': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: false },
  'Key Vault Reader': { create: false, rotate: false, delete: false, wrap: false, unwrap: false, sign: false, get: true },
};

describe.each(TRANSPORTS)('local vault RBAC and tokens (%s)', (transport) => {
  let vault: LocalKeyVault;
  let admin: KeyClient;
  let kek: KeyVaultKey;
  let signer: KeyVaultKey;
  let wrapped: Uint8Array;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    admin = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    kek = await admin.createRsaKey('kek', { keySize: 2048 });
    signer = await admin.createEcKey('signer');
    wrapped = (await admin.getCryptographyClient('kek', { keyVersion: kek.properties.version ?? '' }).wrapKey('RSA-OAEP-256', randomBytes(32))).result;
  });
  afterAll(() => vault.close());

  it.each(VAULT_ROLES)('%s: the data actions of the built-in role, nothing more', async (role) => {
    const principal = `p-${role.replaceAll(' ', '-')}`;
    vault.assignRole(principal, role);
    const credential = vault.credential(principal);
    const client = new KeyClient(vault.url, credential, vault.clientOptions);
    const victim = `del-${principal}`.slice(0, 100);
    await admin.createEcKey(victim);
    const actions: Record<Action, () => Promise<unknown>> = {
      create: () => client.createEcKey(`new-${principal}`.slice(0, 100)),
      rotate: () => client.rotateKey('signer'),
      delete: async () => (await client.beginDeleteKey(victim, { intervalInMs: 1 })).pollUntilDone(),
      wrap: () => new CryptographyClient(kek.id ?? '', credential, vault.clientOptions).wrapKey('RSA-OAEP-256', randomBytes(32)),
      unwrap: () => new CryptographyClient(kek.id ?? '', credential, vault.clientOptions).unwrapKey('RSA-OAEP-256', wrapped),
      sign: () => new CryptographyClient(signer.id ?? '', credential, vault.clientOptions).sign('ES256', randomBytes(32)),
      get: () => client.getKey('kek'),
    };
    for (const [action, run] of Object.entries(actions) as [Action, () => Promise<unknown>][]) {
      if (MATRIX[role][action]) {
        await expect(run(), `${role} ${action}`).resolves.toBeDefined();
      } else {
        const error = await expectRestError(run(), 403, 'Forbidden');
        expect((error.details as { error: { innerError: { code: string } } }).error.innerError.code).toBe('ForbiddenByRbac');
      }
    }
  });

  it('an unassigned principal gets 403 Forbidden on everything', async () => {
    const client = new KeyClient(vault.url, vault.credential('nobody'), vault.clientOptions);
    const error = await expectRestError(client.getKey('kek'), 403, 'Forbidden');
    expect(error.message).toContain("Action: 'Microsoft.KeyVault/vaults/keys/read'");
    await expectRestError(client.createEcKey('x'), 403, 'Forbidden');
  });

  it('a key-scoped assignment covers that key only', async () => {
    vault.assignRole('scoped', 'Key Vault Crypto User', 'kek');
    const credential = vault.credential('scoped');
    const dek = await new CryptographyClient(kek.id ?? '', credential, vault.clientOptions).unwrapKey('RSA-OAEP-256', wrapped);
    expect(dek.result).toHaveLength(32);
    await expectRestError(new CryptographyClient(signer.id ?? '', credential, vault.clientOptions).sign('ES256', randomBytes(32)), 403, 'Forbidden');
    const client = new KeyClient(vault.url, credential, vault.clientOptions);
    await expectRestError(client.listPropertiesOfKeys().next(), 403, 'Forbidden');
  });

  it('the real data actions: Crypto User and Crypto Service Encryption User read deleted keys (keys/read); nobody but the admin gets random bytes', async () => {
    await admin.createEcKey('deleted-for-readers');
    await (await admin.beginDeleteKey('deleted-for-readers', { intervalInMs: 1 })).pollUntilDone();
    for (const role of ['Key Vault Crypto User', 'Key Vault Crypto Service Encryption User', 'Key Vault Reader'] as const) {
      const principal = `deleted-reader-${role.replaceAll(' ', '-')}`;
      vault.assignRole(principal, role);
      const client = new KeyClient(vault.url, vault.credential(principal), vault.clientOptions);
      expect((await client.getDeletedKey('deleted-for-readers')).name, role).toBe('deleted-for-readers');
      await expect(client.listDeletedKeys().next(), role).resolves.toBeDefined();
      await expectRestError(client.purgeDeletedKey('deleted-for-readers'), 403, 'Forbidden');
    }
    vault.assignRole('rng-user', 'Key Vault Crypto User');
    const rng = new KeyClient(vault.url, vault.credential('rng-user'), vault.clientOptions);
    const error = await expectRestError(rng.getRandomBytes(16), 403, 'Forbidden');
    expect(error.message).toContain("Action: 'Microsoft.KeyVault/managedHsm/rng/action'");
    vault.assignRole('officer', 'Key Vault Crypto Officer');
    const officer = new KeyClient(vault.url, vault.credential('officer'), vault.clientOptions);
    // keys/purge/action is in keys/*: the Crypto Officer purges.
    await officer.purgeDeletedKey('deleted-for-readers');
    // The deleted key stays visible until the purge completes (operationDelayMs), as in Azure.
    expect((await untilRejectsWith(() => admin.getDeletedKey('deleted-for-readers'), 404)).code).toBe('KeyNotFound');
  });

  it('a token signed with another secret gets 401 Unauthorized', async () => {
    vault.stats.reset();
    const client = new KeyClient(vault.url, forgedCredential(), vault.clientOptions);
    const error = await expectRestError(client.getKey('kek'), 401, 'Unauthorized');
    expect(error.message).toContain('signature');
    // The challenge, then the request with the forged token, refused (the policy does not retry it).
    expect(vault.stats.challenges).toBe(1);
    expect(vault.stats.byStatus['401']).toBe(2);
  });

  it('an expired token (signed by this vault) gets 401 Unauthorized', async () => {
    const token = (await vault.credential().getToken('https://vault.azure.net/.default'))?.token ?? '';
    const original = Date.now;
    // Tokens live one hour of real time; two hours later the same token is refused.
    Date.now = () => original() + 2 * 3_600_000;
    try {
      const stale = new KeyClient(vault.url, { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) }, vault.clientOptions);
      const error = await expectRestError(stale.getKey('kek'), 401, 'Unauthorized');
      expect(error.message).toContain('expired');
    } finally {
      Date.now = original;
    }
  });
});
