import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  DecryptionFailedError,
  KekUnavailableError,
  KeyNotAllowedError,
  NoMatchingKekError,
  UnsupportedKeyTypeError,
} from '../../src/errors.js';
import type { KeyEncryptionKey, WrappedKey } from '../../src/keys/kek.js';
import { LocalAesKek } from '../../src/keys/local-aes-kek.js';
import { LocalRsaKek } from '../../src/keys/local-rsa-kek.js';
import { unwrapWithAny, wrapUnderAll } from '../../src/keys/multi.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dek = (): Uint8Array => new Uint8Array(randomBytes(32));

/** Every rendering a log line or error report might use. */
function renderings(x: object): string {
  return [inspect(x, { depth: 10, showHidden: true }), JSON.stringify(x), String(x), `${x}`].join('\n');
}

describe('LocalAesKek', () => {
  it.each([
    [16, 'A128KW'],
    [24, 'A192KW'],
    [32, 'A256KW'],
  ])('round-trips with a %i-byte key as %s', async (size, alg) => {
    const kek = new LocalAesKek({ id: 'local/aes', key: randomBytes(size) });
    const d = dek();
    const wrapped = await kek.wrap(d);
    expect(wrapped).toMatchObject({ kekId: 'local/aes', alg });
    expect(wrapped.bytes).toHaveLength(40);
    expect(kek.matches(wrapped)).toBe(true);
    expect(await kek.unwrap(wrapped)).toEqual(d);
  });

  it('copies the key and accepts a secret KeyObject', async () => {
    const key = new Uint8Array(randomBytes(32));
    const kek = new LocalAesKek({ id: 'k', key });
    const viaKeyObject = new LocalAesKek({ id: 'k', key: createSecretKey(key) });
    const wrapped = await kek.wrap(dek());
    key.fill(0); // the caller reuses its buffer
    expect(await kek.unwrap(wrapped)).toEqual(await viaKeyObject.unwrap(wrapped));
  });

  it('fails closed with DecryptionFailedError on a wrong key or tampering', async () => {
    const kek = new LocalAesKek({ id: 'k', key: randomBytes(32) });
    const wrapped = await kek.wrap(dek());
    const other = new LocalAesKek({ id: 'k', key: randomBytes(32) });
    const err = await other.unwrap(wrapped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptionFailedError);
    expect((err as DecryptionFailedError).code).toBe('ERR_DECRYPTION_FAILED');
    expect((err as Error).cause).toBeUndefined();
    const tampered = { ...wrapped, bytes: wrapped.bytes.slice() };
    tampered.bytes[5]! ^= 1;
    await expect(kek.unwrap(tampered)).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    await expect(kek.unwrap({ ...wrapped, alg: 'A128KW' })).rejects.toBeInstanceOf(DecryptionFailedError);
    await expect(kek.unwrap({ ...wrapped, bytes: new Uint8Array(0) })).rejects.toBeInstanceOf(DecryptionFailedError);
    await expect(kek.unwrap({ ...wrapped, kekId: 'x' })).rejects.toBeInstanceOf(KeyNotAllowedError);
    expect(kek.matches({ ...wrapped, kekId: 'x' })).toBe(false);
  });

  it('validates its arguments, naming them', async () => {
    const bad = (o: unknown) => () => new LocalAesKek(o as never);
    expect(bad(undefined)).toThrow(TypeError);
    expect(bad({ key: randomBytes(32) })).toThrow(new TypeError('id must be a string, got undefined'));
    expect(bad({ id: '', key: randomBytes(32) })).toThrow(RangeError);
    expect(bad({ id: 'k', key: randomBytes(31) })).toThrow(/key must be 16, 24 or 32 bytes, got 31/);
    expect(bad({ id: 'k', key: 'secret' })).toThrow(TypeError);
    expect(bad({ id: 'k', key: rsa.publicKey })).toThrow(/key must be a secret KeyObject/);
    const kek = new LocalAesKek({ id: 'k', key: randomBytes(16) });
    await expect(kek.wrap(randomBytes(20))).rejects.toThrow(RangeError);
    await expect(kek.wrap(randomBytes(8))).rejects.toThrow(/dek/);
    await expect(kek.wrap('x' as never)).rejects.toThrow(TypeError);
    expect((await kek.wrap(randomBytes(64))).bytes).toHaveLength(72);
  });

  it('never renders the key', () => {
    const key = new Uint8Array(randomBytes(32));
    const kek = new LocalAesKek({ id: 'local/aes/1', key });
    const text = renderings(kek);
    for (const s of secretsOf(key)) expect(text).not.toContain(s);
    expect(inspect(kek)).toBe("LocalAesKek { id: 'local/aes/1', alg: 'A256KW' }");
    expect(JSON.parse(JSON.stringify(kek))).toEqual({ id: 'local/aes/1', alg: 'A256KW' });
  });

  it('honours an aborted signal', async () => {
    const kek = new LocalAesKek({ id: 'k', key: randomBytes(32) });
    const signal = AbortSignal.abort(new Error('stop'));
    await expect(kek.wrap(dek(), { signal })).rejects.toThrow('stop');
  });
});

function secretsOf(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.subarray(0, 8).toString('hex')];
}

describe('LocalRsaKek', () => {
  it('round-trips from a private KeyObject, PEM strings, or both', async () => {
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pubPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const keks = [
      new LocalRsaKek({ id: 'r', privateKey: rsa.privateKey }),
      new LocalRsaKek({ id: 'r', privateKey: pem }),
      new LocalRsaKek({ id: 'r', publicKey: pubPem, privateKey: rsa.privateKey }),
    ];
    for (const kek of keks) {
      const d = dek();
      const wrapped = await kek.wrap(d);
      expect(wrapped).toMatchObject({ kekId: 'r', alg: 'RSA-OAEP-256' });
      expect(wrapped.bytes).toHaveLength(256);
      expect(await keks[0]!.unwrap(wrapped)).toEqual(d);
    }
  });

  it('is wrap-only with just a public key', async () => {
    const wrapOnly = new LocalRsaKek({ id: 'r', publicKey: rsa.publicKey });
    expect(wrapOnly.canUnwrap).toBe(false);
    const wrapped = await wrapOnly.wrap(dek());
    expect(wrapOnly.matches(wrapped)).toBe(true);
    const err = await wrapOnly.unwrap(wrapped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedKeyTypeError);
    expect((err as UnsupportedKeyTypeError).code).toBe('ERR_UNSUPPORTED_KEY_TYPE');
    expect((err as Error).message).toMatch(/wrap-only/);
  });

  it('fails closed with DecryptionFailedError under the wrong key', async () => {
    const wrapped = await new LocalRsaKek({ id: 'r', publicKey: rsa.publicKey }).wrap(dek());
    const wrong = new LocalRsaKek({ id: 'r', privateKey: otherRsa.privateKey });
    const err = await wrong.unwrap(wrapped).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_DECRYPTION_FAILED', message: 'decryption failed' });
    expect((err as Error).cause).toBeUndefined();
    await expect(wrong.unwrap({ ...wrapped, bytes: wrapped.bytes.subarray(1) })).rejects.toBeInstanceOf(
      DecryptionFailedError,
    );
  });

  it('refuses weak, non-RSA and mismatched keys, naming the argument', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const make = (o: unknown) => () => new LocalRsaKek(o as never);
    expect(make({ id: 'r' })).toThrow(TypeError);
    expect(make({ id: 'r', privateKey: small.privateKey })).toThrow(new RangeError(
      'privateKey must have a modulus of at least 2048 bits, got 1024',
    ));
    expect(make({ id: 'r', publicKey: ec.publicKey })).toThrow(/publicKey must be an RSA key/);
    expect(make({ id: 'r', privateKey: pss.privateKey })).toThrow(/privateKey must be an RSA key/);
    expect(make({ id: 'r', publicKey: rsa.privateKey })).toThrow(/publicKey must be a public KeyObject/);
    const privPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(make({ id: 'r', publicKey: privPem })).toThrow(/publicKey is a private key PEM/);
    expect(make({ id: 'r', publicKey: 'not a pem' })).toThrow(/publicKey is not a valid/);
    expect(make({ id: 'r', publicKey: otherRsa.publicKey, privateKey: rsa.privateKey })).toThrow(/does not match/);
    const kek = new LocalRsaKek({ id: 'r', publicKey: rsa.publicKey });
    await expect(kek.wrap(new Uint8Array(191))).rejects.toThrow(/dek must be 1 to 190 bytes/);
  });

  it('never renders the private key', () => {
    const kek = new LocalRsaKek({ id: 'r', privateKey: rsa.privateKey });
    const jwk = rsa.privateKey.export({ format: 'jwk' });
    const text = renderings(kek);
    for (const part of [jwk.d, jwk.p, jwk.q]) expect(text).not.toContain(part!.slice(0, 16));
    expect(text).not.toContain('PRIVATE KEY');
    expect(inspect(kek)).toBe("LocalRsaKek { id: 'r', alg: 'RSA-OAEP-256', modulusLength: 2048, canUnwrap: true }");
  });
});

/** A scripted KEK for the multi-KEK helpers. */
function fake(id: string, unwrap: (w: WrappedKey) => Promise<Uint8Array>): KeyEncryptionKey & { calls: number } {
  const kek = {
    id,
    calls: 0,
    wrap: async () => ({ kekId: id, alg: 'fake', bytes: new Uint8Array(40) }),
    unwrap: async (w: WrappedKey) => {
      kek.calls++;
      return unwrap(w);
    },
    matches: (w: WrappedKey) => w.kekId === id,
  };
  return kek;
}

describe('wrapUnderAll / unwrapWithAny', () => {
  const aes = new LocalAesKek({ id: 'aes', key: randomBytes(32) });
  const rsaKek = new LocalRsaKek({ id: 'rsa', privateKey: rsa.privateKey });

  it('wraps under every KEK and unwraps with either alone', async () => {
    const d = dek();
    const wrapped = await wrapUnderAll([aes, rsaKek], d);
    expect(wrapped.map((w) => w.kekId)).toEqual(['aes', 'rsa']);
    expect(await unwrapWithAny([aes], wrapped, { expectedDekLength: 32 })).toEqual(d);
    expect(await unwrapWithAny([rsaKek], wrapped)).toEqual(d);
    expect(await unwrapWithAny([rsaKek, aes], wrapped.slice().reverse())).toEqual(d);
  });

  it('rejects when any wrap fails, or with no KEKs', async () => {
    const failing = { ...fake('f', async () => dek()), wrap: async () => Promise.reject(new KekUnavailableError('down')) };
    await expect(wrapUnderAll([aes, failing], dek())).rejects.toBeInstanceOf(KekUnavailableError);
    await expect(wrapUnderAll([], dek())).rejects.toThrow(RangeError);
  });

  it('throws NoMatchingKekError naming the wrapped key ids', async () => {
    const wrapped = await wrapUnderAll([aes], dek());
    const err = await unwrapWithAny([rsaKek], wrapped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoMatchingKekError);
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_KEK', kekIds: ['aes'] });
  });

  it('prefers a non-decryption error, else DecryptionFailedError', async () => {
    const ws: WrappedKey[] = ['a', 'b'].map((kekId) => ({ kekId, alg: 'fake', bytes: new Uint8Array(8) }));
    const bad = fake('a', async () => Promise.reject(new DecryptionFailedError()));
    const down = fake('b', async () => Promise.reject(new KekUnavailableError('vault down')));
    await expect(unwrapWithAny([bad, down], ws)).rejects.toBeInstanceOf(KekUnavailableError);
    await expect(unwrapWithAny([bad], ws)).rejects.toBeInstanceOf(DecryptionFailedError);
    const good = fake('b', async () => new Uint8Array(32).fill(7));
    expect(await unwrapWithAny([bad, good], ws)).toEqual(new Uint8Array(32).fill(7));
    await expect(unwrapWithAny([good], ws, { expectedDekLength: 16 })).rejects.toBeInstanceOf(DecryptionFailedError);
  });

  it('honours the abort signal before and between attempts', async () => {
    const ws: WrappedKey[] = ['a', 'b'].map((kekId) => ({ kekId, alg: 'fake', bytes: new Uint8Array(8) }));
    const reason = new Error('cancelled');
    await expect(unwrapWithAny([aes], ws, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(wrapUnderAll([aes], dek(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const controller = new AbortController();
    const first = fake('a', async () => {
      controller.abort(reason);
      throw new DecryptionFailedError();
    });
    const second = fake('b', async () => dek());
    await expect(unwrapWithAny([first, second], ws, { signal: controller.signal })).rejects.toBe(reason);
    expect(second.calls).toBe(0);
  });
});
