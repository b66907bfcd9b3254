/**
 * Unit tests for the validating AEAD wrapper and AES-SIV: argument errors name the argument,
 * prefixLength behaves as documented, failures are uniform DecryptionFailedErrors.
 */
import { describe, expect, it } from 'vitest';
import { AesGcm, defaultBackend, getAeadBackend, type AeadBackendName } from '../../src/aead/gcm.js';
import { nobleBackend } from '../../src/aead/noble-backend.js';
import { nodeBackend } from '../../src/aead/node-backend.js';
import { AesSiv, sivOpen, sivSeal } from '../../src/aead/siv.js';
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

  it('AesSiv refuses a backend without SIV; sivSeal / sivOpen run on the node:crypto backend', () => {
    expect(() => new AesSiv(bad({ name: 'node', gcmSeal() {} }))).toThrow(new TypeError('backend must be an AeadBackend with sivSeal and sivOpen'));
    expect(() => new AesSiv(bad(null))).toThrow(TypeError);
    expect(new AesSiv().backend).toBe(nodeBackend);
    expect(new AesSiv(nobleBackend).backend.name).toBe('noble');
  });

  // RFC 5297 §A.2 (nonce-based, three associated-data components): Wycheproof only has one.
  const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/ /g, ''), 'hex'));
  const a2 = {
    key: h('7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f'),
    ad: [
      h('00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100'),
      h('10203040 50607080 90a0'),
      h('09f91102 9d74e35b d84156c5 635688c0'),
    ],
    pt: h('74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553'),
    out: '7bdb6e3b432667eb06f4d14bff2fbd0f' + 'cb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d',
  };
  for (const backend of [nodeBackend, nobleBackend]) {
    it(`${backend.name}: RFC 5297 §A.2, and a reordered or dropped component fails`, () => {
      const siv = new AesSiv(backend);
      const sealed = siv.seal(a2.key, a2.pt, ...a2.ad);
      expect(Buffer.from(sealed).toString('hex')).toBe(a2.out);
      expect(siv.open(a2.key, sealed, ...a2.ad)).toEqual(a2.pt);
      expect(() => siv.open(a2.key, sealed, a2.ad[1]!, a2.ad[0]!, a2.ad[2]!)).toThrow(DecryptionFailedError);
      expect(() => siv.open(a2.key, sealed, ...a2.ad.slice(0, 2))).toThrow(DecryptionFailedError);
    });
  }

  // The attack: a caller that gets a DecryptionFailedError must not find the candidate plaintext
  // anywhere it can reach (the error, its cause, or its message).
  it('a failed open carries no plaintext and no cause', () => {
    const secret = new TextEncoder().encode('the plaintext nobody may see');
    for (const siv of [new AesSiv(nodeBackend), new AesSiv(nobleBackend)]) {
      const sealed = siv.seal(sivKey, secret, aad);
      sealed[0] = sealed[0]! ^ 1; // the attacker's SIV: CTR still decrypts to the true plaintext
      let error: unknown;
      try {
        siv.open(sivKey, sealed, aad);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DecryptionFailedError);
      expect((error as Error).cause).toBeUndefined();
      expect(JSON.stringify(error) + String(error)).not.toContain('plaintext nobody');
    }
  });
});
