// The contestants of bench/run.mjs that are not kv-envelope: minimal raw node:crypto AES-256-GCM,
// the bare "floor" of a field encryption, @noble/ciphers gcm and aessiv, the node:crypto AES-SIV
// on its own, and the AWS Encryption SDK. Each is the smallest honest code for its job.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { aessiv, gcm } from '@noble/ciphers/aes.js';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';

/** (a) Minimal raw node:crypto AES-256-GCM: nonce | ciphertext | tag. */
export const rawNode = {
  encrypt(key, plaintext, nonce = randomBytes(12)) {
    const c = createCipheriv('aes-256-gcm', key, nonce);
    const ct = c.update(plaintext);
    const fin = c.final();
    return Buffer.concat([nonce, ct, fin, c.getAuthTag()]);
  },
  decrypt(key, sealed) {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const pt = d.update(sealed.subarray(12, sealed.length - 16));
    return Buffer.concat([pt, d.final()]);
  },
};

/** (b) @noble/ciphers gcm, same layout. */
export const noble = {
  encrypt(key, plaintext, nonce = randomBytes(12)) {
    const ct = gcm(key, nonce).encrypt(plaintext); // ciphertext | tag
    const out = new Uint8Array(12 + ct.length);
    out.set(nonce, 0);
    out.set(ct, 12);
    return out;
  },
  decrypt(key, sealed) {
    return gcm(key, sealed.subarray(0, 12)).decrypt(sealed.subarray(12));
  },
};

/** (c) AWS Encryption SDK: committing unsigned suite, caching CMM over a raw AES keyring. */
export const AWS_SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
export const aws = (() => {
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyNamespace: 'bench',
    keyName: 'aes-256',
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const cmm = new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(100),
    maxAge: 60_000,
    maxMessagesEncrypted: 2 ** 32, // the SDK's maximum: never the limit during a run
  });
  return {
    async encrypt(plaintext) {
      // plaintextLength is what lets the caching CMM serve this call from the cache.
      const { result } = await encrypt(cmm, plaintext, { suiteId: AWS_SUITE, plaintextLength: plaintext.length });
      return result;
    },
    async decrypt(message) {
      return (await decrypt(cmm, message)).plaintext;
    },
    async header(message) {
      return (await decrypt(cmm, message)).messageHeader;
    },
  };
})();

/**
 * (d) The floor of a field encryption: createCipheriv + setAAD + update + final + getAuthTag and
 * nothing else (no nonce generation, no output assembly), with `aadLength` bytes of AAD (the
 * field path's). What kv-envelope's field path costs on top of OpenSSL is kv / floor.
 */
export function createFloor(aadLength) {
  const aad = Buffer.alloc(aadLength, 7);
  const nonce = randomBytes(12);
  return {
    encrypt(key, plaintext) {
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(aad);
      const ct = c.update(plaintext);
      c.final();
      return [ct, c.getAuthTag()];
    },
    decrypt(key, [ct, tag]) {
      const d = createDecipheriv('aes-256-gcm', key, nonce);
      d.setAuthTag(tag);
      d.setAAD(aad);
      const pt = d.update(ct);
      d.final();
      return pt;
    },
  };
}

/**
 * (e) AES-SIV under one 64-byte key: noble's pure-JS aessiv (kv-envelope's engine until v2) and,
 * when `sivSource` (src/aead/siv.ts) could be loaded, kv-envelope's node:crypto S2V/CTR.
 */
export function createSiv(sivSource) {
  const key = new Uint8Array(randomBytes(64));
  return {
    nobleSiv: {
      seal: (pt, ...ad) => aessiv(key, ...ad).encrypt(pt),
      open: (sealed, ...ad) => aessiv(key, ...ad).decrypt(sealed),
    },
    nodeSiv: sivSource && {
      seal: (pt, ...ad) => sivSource.sivSeal(key, pt, ...ad),
      open: (sealed, ...ad) => sivSource.sivOpen(key, sealed, ...ad),
    },
  };
}
