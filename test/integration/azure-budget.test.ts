/**
 * Vault-call budgets of KeyVaultKek behind FieldEncryptor: calls must scale with distinct DEKs,
 * never with rows. 100,000 field encrypts and 100,000 field decrypts (on a fresh encryptor and
 * a fresh KEK), under K = 1 and K = 10 DEKs, counted by the local vault.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { FieldEncryptor, MemoryKeyStore } from '../../src/index.js';

const ROWS = 100_000;

describe.each(['in-process', 'https'] as const)('vault calls for %s field encryption', (transport) => {
  let vault: LocalKeyVault;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    await new KeyClient(vault.url, vault.credential(), vault.clientOptions).createRsaKey('fields', { keySize: 3072 });
  });
  afterAll(() => vault.close());

  const kek = () => new KeyVaultKek({ vaultUrl: vault.url, keyName: 'fields', credential: vault.credential(), clientOptions: vault.clientOptions });
  const calls = () => ({ challenges: vault.stats.challenges, ...vault.stats.byOperation });

  it.each([1, 10])(`${ROWS.toLocaleString('en')} encrypts then ${ROWS.toLocaleString('en')} cold decrypts under K = %i DEKs`, async (k) => {
    const keyStore = new MemoryKeyStore();
    vault.stats.reset();
    const writer = new FieldEncryptor({ keks: kek(), keyStore, limits: { maxEncryptionsPerDek: ROWS / k } });
    const rows: Uint8Array[] = [];
    for (let i = 0; i < ROWS; i++) rows.push(await writer.encrypt(`value ${i}`, { aad: `t.c#${i}` }));
    // One challenge and one getKey (version resolution); the K wraps are local RSA-OAEP-256.
    expect(calls()).toEqual({ challenges: 1, getKey: 1 });
    expect(new Set(rows.map((r) => Buffer.from(r.subarray(1, 9)).toString('hex'))).size).toBe(k);

    vault.stats.reset();
    const reader = new FieldEncryptor({ keks: kek(), keyStore });
    for (let i = 0; i < ROWS; i += 1) {
      const plaintext = await reader.decrypt(rows[i]!, { aad: `t.c#${i}` });
      if (i % 9973 === 0) expect(new TextDecoder().decode(plaintext)).toBe(`value ${i}`);
    }
    // One challenge, one GET by the cold CryptographyClient of the kid, one unwrapKey per DEK.
    expect(calls()).toEqual({ challenges: 1, getKey: 1, unwrapKey: k });
  });
});
