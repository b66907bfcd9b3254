/**
 * Vault flavours through the real KeyClient / CryptographyClient: a standard vault refuses
 * -HSM key types, a premium vault (the default) has them but not oct-HSM, the AES algorithms
 * or /rng, and a Managed HSM has those and only HSM-protected keys, with its own URL shape and
 * token audience. Plus the throttle's weights.
 *
 * Adversary: code written against one SKU that would pass locally and fail on the real one
 * (an AES KEK on a premium vault, an RSA-HSM key on a standard vault), and a burst of RSA-4096
 * operations that a per-class counter would let through.
 */
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault, type VaultFlavour } from '../../src/local-vault/index.js';
import { expectRestError, ManualClock, rawRequest, TRANSPORTS } from '../helpers/local-vault.js';

function innerCode(error: { details?: unknown }): string | undefined {
  return (error.details as { error?: { innerError?: { code?: string } } }).error?.innerError?.code;
}

describe.each(TRANSPORTS)('local vault flavours (%s)', (transport) => {
  const vaults = {} as Record<VaultFlavour, { vault: LocalKeyVault; client: KeyClient }>;

  beforeAll(async () => {
    for (const flavour of ['standard', 'premium', 'managed-hsm'] as const) {
      const vault = await LocalKeyVault.start({ transport, ...(flavour === 'premium' ? {} : { flavour }) });
      vaults[flavour] = { vault, client: new KeyClient(vault.url, vault.credential(), vault.clientOptions) };
    }
  });
  afterAll(async () => {
    for (const { vault } of Object.values(vaults)) await vault.close();
  });

  it('standard: software RSA and EC only; -HSM types are refused with the service message', async () => {
    const { client } = vaults.standard;
    expect((await client.createRsaKey('rsa')).keyType).toBe('RSA');
    for (const create of [() => client.createRsaKey('h', { hsm: true }), () => client.createEcKey('h', { hsm: true })]) {
      const error = await expectRestError(create(), 400, 'BadParameter');
      expect(error.message).toBe('Hardware key operation not allowed on standard vault');
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const jwk = { kty: 'RSA' as const, ...Object.fromEntries(Object.entries(rsa).filter(([k]) => k !== 'kty').map(([k, v]) => [k, Buffer.from(String(v), 'base64url')])) };
    await expectRestError(client.importKey('imp', jwk, { hardwareProtected: true }), 400, 'BadParameter');
    const oct = await expectRestError(client.createOctKey('aes', { hsm: true }), 400, 'BadParameter');
    expect(innerCode(oct)).toBe('KeyTypeNotSupported');
  });

  it('premium (default): -HSM types, but no oct-HSM, no AES algorithms and no /rng', async () => {
    const { client, vault } = vaults.premium;
    expect(vault.url).not.toContain('managedhsm');
    expect((await client.createRsaKey('rsa-hsm', { hsm: true })).keyType).toBe('RSA-HSM');
    expect((await client.createEcKey('ec-hsm', { hsm: true })).keyType).toBe('EC-HSM');
    const oct = await expectRestError(client.createOctKey('aes', { hsm: true, keySize: 256 }), 400, 'BadParameter');
    expect(oct.message).toBe('Invalid kty value: oct-HSM');
    expect(innerCode(oct)).toBe('KeyTypeNotSupported');
    await expectRestError(client.importKey('aes', { kty: 'oct', k: randomBytes(32) }, { hardwareProtected: true }), 400, 'BadParameter');
    await expectRestError(client.getRandomBytes(16), 400, 'BadParameter');
    // An AES algorithm sent to an RSA key is refused for the flavour before the key is looked at.
    const response = await rawRequest(vault, 'POST', '/keys/rsa-hsm//wrapkey?api-version=2025-07-01', {
      body: { alg: 'A256KW', value: randomBytes(32).toString('base64url') },
    });
    expect(response.status).toBe(400);
    expect(response.json.error.message).toContain('Managed HSM only');
  });

  it('managed-hsm: oct-HSM keys with AES-KW/GCM, /rng, HSM-protected keys only, managedhsm URL and audience', async () => {
    const { client, vault } = vaults['managed-hsm'];
    if (transport === 'in-process') expect(vault.url).toBe('https://local.managedhsm.azure.net');
    const aes = await client.createOctKey('aes', { hsm: true, keySize: 256 });
    expect(aes.keyType).toBe('oct-HSM');
    const crypto = new CryptographyClient(aes.id ?? '', vault.credential(), vault.clientOptions);
    const dek = randomBytes(32);
    expect(Buffer.from((await crypto.unwrapKey('A256KW', (await crypto.wrapKey('A256KW', dek)).result)).result).equals(dek)).toBe(true);
    expect(await client.getRandomBytes(16)).toHaveLength(16);
    expect((await client.createRsaKey('rsa', { hsm: true })).keyType).toBe('RSA-HSM');
    const soft = await expectRestError(client.createRsaKey('soft'), 400, 'BadParameter');
    expect(soft.message).toBe('Invalid kty value: RSA');
    await expectRestError(client.createEcKey('soft-ec'), 400, 'BadParameter');
    // The challenge names Managed HSM's resource, and a Key Vault token is refused.
    const challenge = await rawRequest(vault, 'GET', '/keys?api-version=2025-07-01', { token: null });
    expect(challenge.headers['www-authenticate']).toContain('resource="https://managedhsm.azure.net"');
    const vaultToken = (await vault.credential().getToken('https://vault.azure.net/.default'))?.token ?? '';
    expect((await rawRequest(vault, 'GET', '/keys?api-version=2025-07-01', { token: vaultToken })).status).toBe(401);
  });
});

describe('weighted throttling (in-process)', () => {
  it('RSA-4096 operations cost 8 RSA-2048 ones in one shared pool; the 429 carries Retry-After', async () => {
    const clock = new ManualClock(Math.floor(Date.now() / 10_000) * 10_000 + 2_500);
    const vault = await LocalKeyVault.start({ throttle: true, clock: clock.now });
    try {
      const client = new KeyClient(vault.url, vault.credential(), { ...vault.clientOptions, retryOptions: { maxRetries: 0 } });
      await client.createRsaKey('big', { keySize: 4096 });
      await client.createEcKey('small');
      clock.ms += 10_000;
      // 4,000 units per 10 s: 499 RSA-4096 GETs (8 each) leave 8 units.
      for (let i = 0; i < 499; i++) await client.getKey('big');
      await client.getKey('small');
      const error = await expectRestError(client.getKey('big'), 429, 'Throttled');
      expect(error.message).toBe('Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached');
      expect(error.response?.headers.get('retry-after')).toBe('8');
      // An EC operation still fits in the 7 units left; the failed 429 did not count.
      for (let i = 0; i < 7; i++) await client.getKey('small');
      await expectRestError(client.getKey('small'), 429, 'Throttled');
      clock.ms += 8_000;
      expect((await client.getKey('big')).name).toBe('big');
    } finally {
      await vault.close();
    }
  });
});
