/**
 * AEAD backend on node:crypto (OpenSSL). This is the hot path of field encryption, so it trusts
 * its arguments (the wrapper in `gcm.ts` validated them) and avoids every avoidable copy and
 * allocation.
 *
 * @module
 */
import { type KeyObject, createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync } from 'node:crypto';
import type { AeadBackend, GcmKey } from './backend.js';
import { nodeSivOpen, nodeSivSeal } from './internal/node-siv.js';

const TAG_LENGTH = 16;
const GCM_OPTIONS = { authTagLength: TAG_LENGTH } as const;
/** SHA-256 output size; HKDF-SHA-256 output is capped at 255 of these (RFC 5869 §2.3). */
const HASH_LENGTH = 32;
/** `hkdfSync` refuses longer `info`; those take the HMAC path below (same result). */
const NODE_HKDF_MAX_INFO = 1024;

/**
 * Seal outputs up to this size are carved from a private slab instead of getting their own
 * ArrayBuffer. A fresh small ArrayBuffer per call costs ~10-15% of a 100-byte seal; carving
 * from a slab is as cheap as `Buffer.allocUnsafe`. Unlike Node's shared Buffer pool, the slab
 * only ever holds seal outputs (prefix + ciphertext + tag, all public), so `out.buffer` cannot
 * expose unrelated memory such as plaintext encoded with `Buffer.from(string)`. Each region is
 * handed out once and the slab starts zeroed, so the caller's prefix bytes are zero.
 */
const SLAB_SIZE = 8192;
const SLAB_MAX_ALLOCATION = 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabOffset = 0;

function allocateOutput(length: number): Uint8Array {
  if (length > SLAB_MAX_ALLOCATION) return new Uint8Array(length);
  // A slab whose buffer was transferred (detached) has length 0, so it is replaced here too.
  if (slabOffset + length > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabOffset = 0;
  }
  const out = new Uint8Array(slab.buffer, slabOffset, length);
  // Keep every region 8-byte aligned (noble's AES takes a copy-free path on aligned input).
  slabOffset = (slabOffset + length + 7) & ~7;
  return out;
}

function algorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 32 ? 'aes-256-gcm' : key.length === 16 ? 'aes-128-gcm' : 'aes-192-gcm';
}

type GcmAlgorithm = ReturnType<typeof algorithm>;

function seal(alg: GcmAlgorithm, key: Uint8Array | KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, prefixLength: number): Uint8Array {
  const out = allocateOutput(prefixLength + plaintext.length + TAG_LENGTH);
  const cipher = createCipheriv(alg, key, nonce, GCM_OPTIONS);
  if (aad !== undefined && aad.length !== 0) cipher.setAAD(aad);
  if (plaintext.length !== 0) out.set(cipher.update(plaintext), prefixLength);
  cipher.final(); // GCM is a stream mode: final() emits no bytes, it computes the tag
  out.set(cipher.getAuthTag(), prefixLength + plaintext.length);
  return out;
}

function open(alg: GcmAlgorithm, key: Uint8Array | KeyObject, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array | undefined): Uint8Array | undefined {
  const decipher = createDecipheriv(alg, key, nonce, GCM_OPTIONS);
  decipher.setAuthTag(tag);
  if (aad !== undefined && aad.length !== 0) decipher.setAAD(aad);
  // update() output owns its own ArrayBuffer (not the Buffer pool); viewing it is free.
  const plain = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    plain.fill(0); // never let unauthenticated plaintext linger
    return undefined;
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
}

/**
 * HKDF-SHA-256 on createHmac (RFC 5869 §2.2 extract, §2.3 expand). For up to two output blocks
 * this beats `hkdfSync` (~1.3-1.4x at 32-64 bytes: no KeyObject or job setup), and it has no
 * limit on `info`; for longer outputs `hkdfSync` wins.
 */
function hkdfHmac(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * HASH_LENGTH) throw new RangeError(`HKDF-SHA-256 length must be at most ${255 * HASH_LENGTH}`);
  // An empty salt keys HMAC exactly like the RFC's HashLen zero bytes (keys are zero-padded).
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const okm = new Uint8Array(length);
  let block: Uint8Array = new Uint8Array(0);
  for (let i = 0, offset = 0; offset < length; i++, offset += HASH_LENGTH) {
    const next = createHmac('sha256', prk).update(block).update(info).update(Uint8Array.of(i + 1)).digest();
    block.fill(0);
    block = next;
    okm.set(length - offset >= HASH_LENGTH ? block : block.subarray(0, length - offset), offset);
  }
  block.fill(0);
  prk.fill(0);
  return okm;
}

/**
 * The node:crypto backend. Accepts 16/24/32-byte keys and IVs of 1..128 bytes (OpenSSL 3 limit;
 * IVs other than 12 bytes go through GHASH), so the Wycheproof suite can exercise it below the
 * wrapper. Results are plain Uint8Arrays, never Buffers (whose `slice` does not copy).
 *
 * AES-SIV runs S2V's CMAC and CTR on OpenSSL AES contexts kept per key array (see
 * `internal/node-siv.ts`); its output is byte-identical to the noble backend's.
 *
 * `gcmSeal` outputs up to 1 KiB are views into a slab shared with other seal outputs: use
 * `byteOffset`/`byteLength`, never assume `out.buffer` is exactly the output.
 *
 * @throws {Error} (node:crypto's) from `gcmSeal`/`gcmOpen` on a key or IV length it does not
 *   support, and from `hkdfSha256` on `length` > 8160; the wrapper in `gcm.ts` refuses all of
 *   these first. `gcmOpen` and `sivOpen` report an authentication failure as `undefined`, never
 *   by throwing.
 */
export const nodeBackend: AeadBackend = {
  name: 'node',

  gcmSeal(key, nonce, plaintext, aad, prefixLength) {
    return seal(algorithm(key), key, nonce, plaintext, aad, prefixLength);
  },

  gcmSealInto(key, nonce, plaintext, aad, out, offset) {
    const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_LENGTH });
    if (aad !== undefined && aad.length !== 0) cipher.setAAD(aad);
    if (plaintext.length !== 0) out.set(cipher.update(plaintext), offset);
    cipher.final();
    out.set(cipher.getAuthTag(), offset + plaintext.length);
  },

  gcmOpen(key, nonce, ciphertext, tag, aad) {
    return open(algorithm(key), key, nonce, ciphertext, tag, aad);
  },

  gcmKey(key): GcmKey {
    const alg = algorithm(key);
    // node zeroes a KeyObject's copy of the key when the object is garbage collected.
    const object = createSecretKey(key);
    return {
      seal: (nonce, plaintext, aad, prefixLength) => seal(alg, object, nonce, plaintext, aad, prefixLength),
      open: (nonce, ciphertext, tag, aad) => open(alg, object, nonce, ciphertext, tag, aad),
    };
  },

  hkdfSha256(ikm, salt, info, length) {
    if (length <= 2 * HASH_LENGTH || info.length > NODE_HKDF_MAX_INFO) return hkdfHmac(ikm, salt, info, length);
    return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
  },

  sivSeal: nodeSivSeal,
  sivOpen: nodeSivOpen,
};
