/**
 * Issue 8 item 4 against the real @azure/keyvault-keys clients and the local vault: a hostile
 * envelope (16 wrapped keys naming our vault key's current version, none genuine) decrypted
 * 1,000 times costs one unwrapKey call, counted by the vault itself.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { EnvelopeClient, type EnvelopeError, UnwrappedKeyCache, readWrappedKeys } from '../../src/index.js';
import { withWrappedKeys } from '../helpers/forge-envelope.js';

describe.each(['in-process', 'https'] as const)('bounded vault work per hostile envelope (%s)', (transport) => {
  let vault: LocalKeyVault;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    await new KeyClient(vault.url, vault.credential(), vault.clientOptions).createRsaKey('budget', { keySize: 2048 });
  });
  afterAll(() => vault.close());

  const kek = () => new KeyVaultKek({
    vaultUrl: vault.url, keyName: 'budget', credential: vault.credential(), clientOptions: vault.clientOptions, retry: { baseDelayMs: 5, maxDelayMs: 50 },
  });

  it('1,000 decrypts of an envelope with 16 forged wrapped keys cost 1 unwrapKey', async () => {
    const legit = await new EnvelopeClient({ keks: kek() }).encrypt(new TextEncoder().encode('legit'));
    const [w] = readWrappedKeys(legit);
    const forged = Array.from({ length: 16 }, (_, i) => {
      const bytes = w!.bytes.slice();
      bytes[7]! ^= i + 1;
      return { ...w!, bytes };
    });
    const hostile = await withWrappedKeys(legit, forged, kek());
    const client = new EnvelopeClient({ keks: kek(), unwrappedKeyCache: new UnwrappedKeyCache() });
    vault.stats.reset();
    const codes = new Set<string>();
    for (let i = 0; i < 1000; i++) await client.decrypt(hostile).then(() => codes.add('opened'), (e: EnvelopeError) => codes.add(e.code));
    expect([...codes]).toEqual(['ERR_DECRYPTION_FAILED']);
    expect(vault.stats.byOperation.unwrapKey ?? 0).toBe(1);
    // The genuine envelope still opens on the same client (the failure memory is per wrapped key).
    expect(new TextDecoder().decode((await client.decrypt(legit)).plaintext)).toBe('legit');
    expect(vault.stats.byOperation.unwrapKey).toBe(2);
  });
});
