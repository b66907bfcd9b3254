/**
 * Cryptographic operations through the real CryptographyClient on both transports: every
 * wrap/encrypt algorithm round-trips, node:crypto interoperates in both directions (local
 * RSA-OAEP-256 wrap → vault unwrap; vault signatures → node:crypto verify), and algorithm or
 * digest mismatches are 400 BadParameter.
 */
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { constants, createHash, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { expectRestError, publicKeyObject, rawRequest, TRANSPORTS } from '../helpers/local-vault.js';

const API = 'api-version=2025-07-01';
const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' } as const;

describe.each(TRANSPORTS)('local vault cryptography (%s)', (transport) => {
  let vault: LocalKeyVault;
  let client: KeyClient;
  let rsa: KeyVaultKey;
  let rsaCrypto: CryptographyClient;
  // oct-HSM keys and the AES algorithms exist on Managed HSM only.
  let hsm: LocalKeyVault;
  let hsmClient: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    client = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    hsm = await LocalKeyVault.start({ transport, flavour: 'managed-hsm' });
    hsmClient = new KeyClient(hsm.url, hsm.credential(), hsm.clientOptions);
    rsa = await client.createRsaKey('rsa', { keySize: 2048 });
    rsaCrypto = client.getCryptographyClient('rsa', { keyVersion: rsa.properties.version ?? '' });
  });
  afterAll(async () => {
    await vault.close();
    await hsm.close();
  });

  it('wraps and unwraps with RSA-OAEP, RSA-OAEP-256 and RSA1_5', async () => {
    const dek = randomBytes(32);
    for (const alg of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const) {
      const wrapped = await rsaCrypto.wrapKey(alg, dek);
      expect(wrapped.result).toHaveLength(256);
      expect(wrapped.keyID).toBe(rsa.id);
      expect(Buffer.from((await rsaCrypto.unwrapKey(alg, wrapped.result)).result).equals(dek)).toBe(true);
    }
    // RSA-OAEP-256 is always remote in the SDK: exactly one wrapKey reached the vault.
    expect(vault.stats.byKey.rsa?.wrapKey).toBe(1);
    expect(vault.stats.byKey.rsa?.unwrapKey).toBe(3);
  });

  it('a versionless CryptographyClient sends /keys/{name}//op and the vault uses the current version', async () => {
    const versionless = new CryptographyClient(`${vault.url}/keys/rsa`, vault.credential(), vault.clientOptions);
    const wrapped = await versionless.wrapKey('RSA-OAEP-256', randomBytes(32));
    expect(wrapped.result).toHaveLength(256);
    expect((await rsaCrypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result).toHaveLength(32);
  });

  it('unwraps what node:crypto wrapped locally with the public JWK (RSA-OAEP-256)', async () => {
    const dek = randomBytes(32);
    const wrapped = publicEncrypt({ key: publicKeyObject(rsa.key ?? {}), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dek);
    expect(Buffer.from((await rsaCrypto.unwrapKey('RSA-OAEP-256', wrapped)).result).equals(dek)).toBe(true);
    await expectRestError(rsaCrypto.unwrapKey('RSA-OAEP-256', randomBytes(256)), 400, 'BadParameter');
  });

  it('encrypts and decrypts with every RSA algorithm', async () => {
    const plaintext = Buffer.from('attack at dawn');
    for (const algorithm of ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const) {
      const encrypted = await rsaCrypto.encrypt({ algorithm, plaintext });
      const decrypted = await rsaCrypto.decrypt({ algorithm, ciphertext: encrypted.result });
      expect(Buffer.from(decrypted.result).toString()).toBe('attack at dawn');
    }
  });

  it('wraps with A128KW/A192KW/A256KW on oct-HSM keys of the matching size', async () => {
    const dek = randomBytes(32);
    for (const bits of [128, 192, 256] as const) {
      const key = await hsmClient.createOctKey(`aes${bits}`, { keySize: bits, hsm: true });
      const crypto = hsmClient.getCryptographyClient(`aes${bits}`, { keyVersion: key.properties.version ?? '' });
      const alg = `A${bits}KW` as const;
      const wrapped = await crypto.wrapKey(alg, dek);
      expect(wrapped.result).toHaveLength(40);
      expect(Buffer.from((await crypto.unwrapKey(alg, wrapped.result)).result).equals(dek)).toBe(true);
      const other = bits === 256 ? 'A128KW' : 'A256KW';
      await expectRestError(crypto.wrapKey(other, dek), 400, 'BadParameter');
    }
  });

  it('encrypts with AES-GCM (service-generated IV) and AES-CBC-PAD on oct-HSM', async () => {
    const key = await hsmClient.createOctKey('aesgcm', { keySize: 256, hsm: true });
    const crypto = hsmClient.getCryptographyClient('aesgcm', { keyVersion: key.properties.version ?? '' });
    const plaintext = Buffer.from('field value');
    const aad = Buffer.from('users.ssn#42');
    const sealed = await crypto.encrypt({ algorithm: 'A256GCM', plaintext, additionalAuthenticatedData: aad });
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.authenticationTag).toHaveLength(16);
    const opened = await crypto.decrypt({
      algorithm: 'A256GCM',
      ciphertext: sealed.result,
      iv: sealed.iv ?? new Uint8Array(),
      authenticationTag: sealed.authenticationTag ?? new Uint8Array(),
      additionalAuthenticatedData: aad,
    });
    expect(Buffer.from(opened.result).equals(plaintext)).toBe(true);
    const iv = randomBytes(16);
    const cbc = await crypto.encrypt({ algorithm: 'A256CBCPAD', plaintext, iv });
    expect(Buffer.from((await crypto.decrypt({ algorithm: 'A256CBCPAD', ciphertext: cbc.result, iv })).result).equals(plaintext)).toBe(true);
  });

  it('signs digests with RS256/384/512 and PS256/384/512; node:crypto and the vault verify them', async () => {
    const data = Buffer.from('the JWT signing input');
    for (const bits of [256, 384, 512] as const) {
      const digest = createHash(HASH[bits]).update(data).digest();
      for (const scheme of ['RS', 'PS'] as const) {
        const alg = `${scheme}${bits}` as const;
        const { result: signature } = await rsaCrypto.sign(alg, digest);
        expect(signature).toHaveLength(256);
        const key =
          scheme === 'PS'
            ? { key: publicKeyObject(rsa.key ?? {}), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }
            : publicKeyObject(rsa.key ?? {});
        expect(verify(HASH[bits], data, key, signature), alg).toBe(true);
        expect((await rsaCrypto.verify(alg, digest, signature)).result, alg).toBe(true);
        const tampered = Buffer.from(signature);
        tampered[10] = (tampered[10] ?? 0) ^ 1;
        expect((await rsaCrypto.verify(alg, digest, tampered)).result, alg).toBe(false);
      }
    }
  });

  it('signs digests with ES256/ES256K/ES384/ES512 as raw r‖s; node:crypto (ieee-p1363) and the vault verify them', async () => {
    const data = Buffer.from('the JWT signing input');
    const cases = [
      ['ES256', 'P-256', 'sha256', 64],
      ['ES256K', 'P-256K', 'sha256', 64],
      ['ES384', 'P-384', 'sha384', 96],
      ['ES512', 'P-521', 'sha512', 132],
    ] as const;
    for (const [alg, curve, hash, length] of cases) {
      const key = await client.createEcKey(`ec-${alg}`, { curve });
      const crypto = client.getCryptographyClient(`ec-${alg}`, { keyVersion: key.properties.version ?? '' });
      const digest = createHash(hash).update(data).digest();
      const { result: signature } = await crypto.sign(alg, digest);
      expect(signature, alg).toHaveLength(length);
      expect(verify(hash, data, { key: publicKeyObject(key.key ?? {}), dsaEncoding: 'ieee-p1363' }, signature), alg).toBe(true);
      expect((await crypto.verify(alg, digest, signature)).result, alg).toBe(true);
      expect((await crypto.verifyData(alg, data, signature)).result, alg).toBe(true);
      expect((await crypto.verify(alg, createHash(hash).update('other').digest(), signature)).result, alg).toBe(false);
    }
  });

  it('refuses a digest of the wrong length and an algorithm the key cannot use with 400 BadParameter', async () => {
    await expectRestError(rsaCrypto.sign('RS256', Buffer.alloc(48)), 400, 'BadParameter');
    await expectRestError(rsaCrypto.sign('ES256', Buffer.alloc(32)), 400, 'BadParameter');
    const ec = await client.createEcKey('ec-mismatch');
    const ecCrypto = client.getCryptographyClient('ec-mismatch', { keyVersion: ec.properties.version ?? '' });
    await expectRestError(ecCrypto.sign('ES384', Buffer.alloc(48)), 400, 'BadParameter');
    // wrapKey on an EC key: the SDK refuses it locally (key_ops), so send it raw.
    const wrap = await rawRequest(vault, 'POST', `/keys/ec-mismatch/${ec.properties.version}/wrapkey?${API}`, {
      body: { alg: 'RSA-OAEP-256', value: 'AAECAwQFBgcICQoLDA0ODw' },
    });
    expect(wrap.status).toBe(400);
    expect(wrap.json.error.code).toBe('BadParameter');
    const unknown = await rawRequest(vault, 'POST', `/keys/rsa/${rsa.properties.version}/encrypt?${API}`, { body: { alg: 'RSA-OAEP-512', value: 'AA' } });
    expect(unknown.json.error.code).toBe('BadParameter');
  });
});
