/**
 * AEAD backend on @noble/ciphers and @noble/hashes (audited pure JavaScript). It must not import
 * node:crypto or Buffer, so it stands alone in browsers and edge workers; it is also the
 * independent implementation the node backend is cross-checked against.
 *
 * @module
 */
import { aessiv, gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { AeadBackend } from './backend.js';

const TAG_LENGTH = 16;

/**
 * The noble backend. Accepts 16/24/32-byte keys and IVs of at least 8 bytes (noble narrows the
 * IV lengths SP 800-38D allows; only backend-level tests reach that limit, because the wrapper
 * admits 12-byte nonces only).
 *
 * noble's `gcm` has no output-buffer parameter, so a non-zero `prefixLength` costs one copy;
 * opening costs one copy to join ciphertext and tag. Neither matters next to JS AES (about a
 * fifth of the node backend's speed on 100-byte values).
 *
 * @throws {Error} (noble's) from `gcmSeal`/`gcmOpen` on a wrong key length or an IV shorter than
 *   8 bytes, and from `hkdfSha256` on `length` > 8160; the wrapper in `gcm.ts` refuses all of
 *   these first. `gcmOpen` and `sivOpen` report an authentication failure as `undefined`, never
 *   by throwing.
 */
export const nobleBackend: AeadBackend = {
  name: 'noble',

  gcmSeal(key, nonce, plaintext, aad, prefixLength) {
    const sealed = gcm(key, nonce, aad).encrypt(plaintext);
    if (prefixLength === 0) return sealed;
    const out = new Uint8Array(prefixLength + sealed.length);
    out.set(sealed, prefixLength);
    return out;
  },

  gcmSealInto(key, nonce, plaintext, aad, out, offset) {
    out.set(gcm(key, nonce, aad).encrypt(plaintext), offset);
  },

  gcmOpen(key, nonce, ciphertext, tag, aad) {
    const joined = new Uint8Array(ciphertext.length + TAG_LENGTH);
    joined.set(ciphertext, 0);
    joined.set(tag, ciphertext.length);
    // Built outside the try: a parameter error (nonce < 8 bytes) throws, it is not an auth failure.
    const cipher = gcm(key, nonce, aad);
    try {
      // noble verifies the tag before running CTR, so no unauthenticated plaintext exists.
      return cipher.decrypt(joined);
    } catch {
      return undefined;
    }
  },

  // No per-key state worth keeping in pure JS: the key array itself (so a wipe of it applies).
  gcmKey(key) {
    return {
      seal: (nonce, plaintext, aad, prefixLength) => nobleBackend.gcmSeal(key, nonce, plaintext, aad, prefixLength),
      open: (nonce, ciphertext, tag, aad) => nobleBackend.gcmOpen(key, nonce, ciphertext, tag, aad),
    };
  },

  hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length);
  },

  sivSeal(key, plaintext, associatedData) {
    return aessiv(key, ...associatedData).encrypt(plaintext);
  },

  sivOpen(key, sealed, associatedData) {
    const cipher = aessiv(key, ...associatedData);
    try {
      // noble zeroes the candidate plaintext before throwing on a mismatch.
      return cipher.decrypt(sealed);
    } catch {
      return undefined;
    }
  },
};
