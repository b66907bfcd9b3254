/**
 * Unit tests for the validating AEAD wrapper and AES-SIV: argument errors name the argument,
 * prefixLength behaves as documented, failures are uniform DecryptionFailedErrors.
 */
import { describe, expect, it } from 'vitest';
import { AesGcm, defaultBackend, getAeadBackend, type AeadBackendName } from '../../src/aead/gcm.js';
import { nobleBackend } from '../../src/aead/noble-backend.js';
import { nodeBackend } from '../../src/aead/node-backend.js';
import { sivOpen, sivSeal } from '../../src/aead/siv.js';
import { DecryptionFailedError } from '../../src/errors.js';

const key = new Uint8Array(32).fill(7);
const nonce = new Uint8Array(12).fill(9);
const pt = new TextEncoder().encode('hello, field');
const aad = new Uint8Array([1, 2, 3]);
// Deliberately wrong-typed values, to exercise the runtime checks behind the static types.
const bad = <T>(value: unknown): T => value as T;

describe('getAeadBackend / defaultBackend', () => {
  it('returns the named backend; node is the default', () => {
    expect(getAeadBackend('node')).toBe(nodeBackend);
    expect(getAeadBackend('noble')).toBe(nobleBackend);
    expect(defaultBackend).toBe(nodeBackend);
    expect(new AesGcm().backend).toBe(nodeBackend);
  });

  it('rejects unknown names (RangeError) and non-strings (TypeError)', () => {
    expect(() => getAeadBackend(bad<AeadBackendName>('webcrypto'))).toThrow(RangeError);
    expect(() => getAeadBackend(bad<AeadBackendName>(1))).toThrow(/name must be a string/);
  });

  it('AesGcm refuses something that is not a backend', () => {
    expect(() => new AesGcm(bad({ name: 'node' }))).toThrow(TypeError);
    expect(() => new AesGcm(bad(null))).toThrow(/backend/);
  });
});

describe.each([nodeBackend, nobleBackend])('AesGcm on $name', (backend) => {
  const aead = new AesGcm(backend);

  it('names the argument in TypeErrors', () => {
    expect(() => aead.seal(bad('k'), nonce, pt)).toThrow(new TypeError('key must be a Uint8Array, got string'));
    expect(() => aead.seal(key, bad([0]), pt)).toThrow(/^nonce must be a Uint8Array, got an array$/);
    expect(() => aead.seal(key, nonce, bad('text'))).toThrow(/^plaintext must be a Uint8Array/);
    expect(() => aead.seal(key, nonce, pt, bad(null))).toThrow(/^aad must be a Uint8Array, got null$/);
    expect(() => aead.seal(key, nonce, pt, aad, 1.5)).toThrow(new TypeError('prefixLength must be an integer, got 1.5'));
    expect(() => aead.seal(key, nonce, pt, aad, bad('2'))).toThrow(/^prefixLength must be an integer, got string$/);
    const sealed = aead.seal(key, nonce, pt);
    expect(() => aead.open(key, nonce, bad(Array.from(sealed)), sealed.subarray(-16))).toThrow(/^ciphertext must be/);
    expect(() => aead.open(key, nonce, sealed.subarray(0, -16), bad(undefined))).toThrow(/^tag must be/);
    expect(() => aead.hkdf(bad(undefined), key, key, 32)).toThrow(/^ikm must be/);
    expect(() => aead.hkdf(key, bad('salt'), key, 32)).toThrow(/^salt must be/);
    expect(() => aead.hkdf(key, key, bad({}), 32)).toThrow(/^info must be/);
    expect(() => aead.hkdf(key, key, key, bad(undefined))).toThrow(new TypeError('length must be an integer, got undefined'));
  });

  it('names the argument in RangeErrors', () => {
    for (const n of [0, 15, 31, 33, 64]) {
      expect(() => aead.seal(new Uint8Array(n), nonce, pt)).toThrow(new RangeError(`key must be 16, 24 or 32 bytes, got ${n}`));
    }
    for (const n of [0, 8, 11, 13, 16]) {
      expect(() => aead.seal(key, new Uint8Array(n), pt)).toThrow(new RangeError(`nonce must be 12 bytes, got ${n}`));
      expect(() => aead.open(key, new Uint8Array(n), pt, new Uint8Array(16))).toThrow(RangeError);
    }
    for (const n of [0, 4, 12, 15, 17]) {
      expect(() => aead.open(key, nonce, pt, new Uint8Array(n))).toThrow(new RangeError(`tag must be 16 bytes, got ${n}`));
    }
    expect(() => aead.seal(key, nonce, pt, aad, -1)).toThrow(new RangeError('prefixLength must not be negative, got -1'));
    expect(() => aead.hkdf(key, key, key, 0)).toThrow(/^length must be between 1 and 8160, got 0$/);
    expect(() => aead.hkdf(key, key, key, 8161)).toThrow(RangeError);
  });

  it('accepts AES-128/192/256 keys, Buffers and subarray views', () => {
    for (const n of [16, 24, 32]) {
      const k = new Uint8Array(n).fill(n);
      const sealed = aead.seal(k, nonce, pt, aad);
      expect(aead.open(k, nonce, sealed.subarray(0, -16), sealed.subarray(-16), aad)).toEqual(pt);
    }
    const backing = new Uint8Array(100).fill(3);
    const viewKey = backing.subarray(5, 37);
    const sealed = aead.seal(viewKey, Buffer.from(nonce), backing.subarray(40, 77), aad);
    expect(sealed).toEqual(aead.seal(viewKey.slice(), nonce, backing.slice(40, 77), aad));
  });

  it('prefixLength reserves zeroed leading bytes and shifts ciphertext || tag', () => {
    const plain = aead.seal(key, nonce, pt, aad);
    expect(plain.length).toBe(pt.length + 16);
    for (const prefixLength of [1, 5, 29, 2000]) {
      const out = aead.seal(key, nonce, pt, aad, prefixLength);
      expect(out.length).toBe(prefixLength + pt.length + 16);
      expect(out.subarray(0, prefixLength).every((b) => b === 0)).toBe(true);
      expect(out.subarray(prefixLength)).toEqual(plain);
      out.fill(0xee, 0, prefixLength); // the caller's header; must not disturb other outputs
    }
    expect(aead.seal(key, nonce, pt, aad, 3).subarray(0, 3)).toEqual(new Uint8Array(3));
  });

  it('returns plain Uint8Arrays, not Buffers, and open returns exactly the plaintext', () => {
    const sealed = aead.seal(key, nonce, pt, aad, 4);
    expect(Object.getPrototypeOf(sealed)).toBe(Uint8Array.prototype);
    const opened = aead.open(key, nonce, sealed.subarray(4, -16), sealed.subarray(-16), aad);
    expect(Object.getPrototypeOf(opened)).toBe(Uint8Array.prototype);
    expect(opened).toEqual(pt);
  });

  it('handles empty plaintext and empty vs absent AAD (equivalent in GCM)', () => {
    const sealed = aead.seal(key, nonce, new Uint8Array(0));
    expect(sealed.length).toBe(16);
    expect(aead.open(key, nonce, new Uint8Array(0), sealed, new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(aead.seal(key, nonce, pt, new Uint8Array(0))).toEqual(aead.seal(key, nonce, pt));
  });

  it('wrong key, nonce, AAD or tag all give the same uninformative DecryptionFailedError', () => {
    const sealed = aead.seal(key, nonce, pt, aad);
    const ct = sealed.subarray(0, -16), tag = sealed.subarray(-16);
    const attempts: (() => unknown)[] = [
      () => aead.open(new Uint8Array(32), nonce, ct, tag, aad),
      () => aead.open(key, new Uint8Array(12), ct, tag, aad),
      () => aead.open(key, nonce, ct, tag, new Uint8Array([1, 2, 4])),
      () => aead.open(key, nonce, ct, new Uint8Array(16), aad),
      () => aead.open(key, nonce, ct.subarray(1), tag, aad),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(DecryptionFailedError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED', message: 'decryption failed' }));
    }
    expect(backend.gcmOpen(key, nonce, ct, new Uint8Array(16), aad)).toBeUndefined();
  });
});

describe('AES-SIV', () => {
  const sivKey = new Uint8Array(64).fill(5);

  it('names the argument in TypeErrors and RangeErrors', () => {
    expect(() => sivSeal(bad('k'), pt)).toThrow(/^key must be a Uint8Array/);
    expect(() => sivSeal(sivKey, bad(null))).toThrow(/^plaintext must be a Uint8Array, got null$/);
    expect(() => sivSeal(sivKey, pt, aad, bad('x'))).toThrow(/^associatedData\[1\] must be a Uint8Array/);
    expect(() => sivOpen(sivKey, bad(undefined))).toThrow(/^sealed must be a Uint8Array/);
    for (const n of [0, 16, 31, 33, 63, 65]) {
      expect(() => sivSeal(new Uint8Array(n), pt)).toThrow(new RangeError(`key must be 32, 48 or 64 bytes (AES-SIV-128/192/256), got ${n}`));
    }
    const tooMany = Array.from({ length: 127 }, () => aad);
    expect(() => sivSeal(sivKey, pt, ...tooMany)).toThrow(/^associatedData must have at most 126 components, got 127$/);
    expect(sivOpen(sivKey, sivSeal(sivKey, pt, ...tooMany.slice(1)), ...tooMany.slice(1))).toEqual(pt);
  });

  it('seals to SIV || ciphertext and opens; zero AD components differ from one empty one', () => {
    const sealed = sivSeal(sivKey, pt, aad);
    expect(sealed.length).toBe(16 + pt.length);
    expect(sivOpen(sivKey, sealed, aad)).toEqual(pt);
    expect(sivSeal(sivKey, pt)).not.toEqual(sivSeal(sivKey, pt, new Uint8Array(0)));
  });

  it('rejects truncated, tampered or mis-contexted input with DecryptionFailedError', () => {
    const sealed = sivSeal(sivKey, pt, aad);
    for (const n of [0, 1, 15]) expect(() => sivOpen(sivKey, sealed.subarray(0, n), aad)).toThrow(DecryptionFailedError);
    expect(() => sivOpen(sivKey, sealed.subarray(0, 16), aad)).toThrow(DecryptionFailedError);
    expect(() => sivOpen(sivKey, sealed)).toThrow(DecryptionFailedError);
    expect(() => sivOpen(new Uint8Array(64), sealed, aad)).toThrow(expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }));
  });
});
