/**
 * FieldEncryptor: round trips and exact overhead, AAD binding, deterministic mode, text helpers,
 * DEK retirement, sharing records between encryptors and KEKs, single-flight DEK creation,
 * argument errors, no key material in inspect/JSON output, abort, and how many KEK calls the
 * caches leave (the Key Vault bill).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  EnvelopeError,
  FieldEncryptor,
  FileKeyStore,
  KeyNotFoundError,
  LocalAesKek,
  MemoryKeyStore,
  NoMatchingKekError,
  type DekRecord,
  type EnvelopeErrorCode,
  type KekOperationOptions,
  type KeyEncryptionKey,
  type KeyStore,
  type WrappedKey,
} from '../../src/index.js';

const te = new TextEncoder();
const td = new TextDecoder();

const newKek = (id = 'local/aes/1'): LocalAesKek => new LocalAesKek({ id, key: randomBytes(32) });

/** Delegates to a real KEK and counts calls. */
class CountingKek implements KeyEncryptionKey {
  wraps = 0;
  unwraps = 0;
  readonly inner: KeyEncryptionKey;
  constructor(inner: KeyEncryptionKey) {
    this.inner = inner;
  }
  get id(): string {
    return this.inner.id;
  }
  async wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    this.wraps++;
    return this.inner.wrap(dek, options);
  }
  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    this.unwraps++;
    return this.inner.unwrap(wrapped, options);
  }
  matches(wrapped: WrappedKey): boolean {
    return this.inner.matches(wrapped);
  }
  // AES-KW authenticates its wraps: a wrapper must pass that on, or named records cannot be made.
  authenticatesWrap(wrapped: WrappedKey): boolean {
    return this.inner.authenticatesWrap?.(wrapped) === true;
  }
}

async function records(store: KeyStore): Promise<DekRecord[]> {
  const out: DekRecord[] = [];
  for await (const r of store.list()) out.push(r);
  return out;
}

/** The rejection of `p`; fails the test if `p` resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await p;
  } catch (err) {
    return err;
  }
  throw new Error(`expected a rejection, got ${inspect(value).slice(0, 80)}`);
}

async function expectCode(p: Promise<unknown>, code: EnvelopeErrorCode): Promise<EnvelopeError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(EnvelopeError);
  expect((err as EnvelopeError).code).toBe(code);
  return err as EnvelopeError;
}

async function expectArgError(p: Promise<unknown> | (() => unknown), type: typeof TypeError | typeof RangeError, name: RegExp): Promise<void> {
  let err: unknown;
  if (typeof p === 'function') {
    try {
      p();
    } catch (e) {
      err = e;
    }
    if (err === undefined) throw new Error('expected a synchronous throw');
  } else {
    err = await rejection(p);
  }
  expect(err).toBeInstanceOf(type);
  expect(err).not.toBeInstanceOf(EnvelopeError);
  expect((err as Error).message).toMatch(name);
}

const keyRefOf = (ct: Uint8Array): string => Buffer.from(ct.subarray(1, 9)).toString('hex');

function setup(options: { keks?: KeyEncryptionKey | KeyEncryptionKey[]; limits?: { maxEncryptionsPerDek?: number; maxDekAgeMs?: number } } = {}) {
  const kek = newKek();
  const store = new MemoryKeyStore();
  const fields = new FieldEncryptor({ keks: options.keks ?? kek, keyStore: store, ...(options.limits ? { limits: options.limits } : {}) });
  return { kek, store, fields };
}

const SIZES = [0, 1, 100, 1024, 64 * 1024];

describe('FieldEncryptor round trip and overhead', () => {
  const { fields } = setup();

  for (const size of SIZES) {
    it(`bytes of ${size} B: randomized +37, deterministic +25, both decrypt`, async () => {
      const value = randomBytes(size);
      const r = await fields.encrypt(value, { aad: 'users.blob#1' });
      expect(r[0]).toBe(0xf1);
      expect(r.length - size).toBe(37);
      expect(r.length - size).toBeLessThanOrEqual(40);
      expect(Buffer.from(await fields.decrypt(r, { aad: 'users.blob#1' }))).toEqual(value);

      const d = await fields.encryptDeterministic(value, { keyName: 'blobs', aad: 'users.blob#1' });
      expect(d[0]).toBe(0xf2);
      expect(d.length - size).toBe(25);
      expect(Buffer.from(await fields.decrypt(d, { aad: 'users.blob#1' }))).toEqual(value);
    });

    it(`string of ${size} UTF-8 bytes: same overhead, decrypts to the same text`, async () => {
      // Mix 1-, 2-, 3- and 4-byte code points, then trim to exactly `size` UTF-8 bytes.
      let text = '';
      const pieces = ['a', 'é', '€', '😀'];
      let bytes = 0;
      for (let i = 0; bytes < size; i++) {
        const p = pieces[i % pieces.length]!;
        const n = te.encode(p).length;
        const q = bytes + n <= size ? p : 'z';
        text += q;
        bytes += te.encode(q).length;
      }
      expect(te.encode(text).length).toBe(size);
      const r = await fields.encrypt(text);
      expect(r.length).toBe(size + 37);
      expect(td.decode(await fields.decrypt(r))).toBe(text);
      const d = await fields.encryptDeterministic(text, { keyName: 'texts' });
      expect(d.length).toBe(size + 25);
      expect(td.decode(await fields.decrypt(d))).toBe(text);
      expect(await fields.decryptText(Buffer.from(r).toString('base64url'))).toBe(text);
    });
  }

  it('randomized encryption of one value twice gives different bytes (fresh nonce), same keyRef', async () => {
    const a = await fields.encrypt('same');
    const b = await fields.encrypt('same');
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(keyRefOf(a)).toBe(keyRefOf(b));
    expect(Buffer.from(a.subarray(9, 21)).equals(Buffer.from(b.subarray(9, 21)))).toBe(false);
  });

  it('a string and its UTF-8 bytes encrypt to the same plaintext', async () => {
    const d1 = await fields.encryptDeterministic('héllo', { keyName: 'mixed' });
    const d2 = await fields.encryptDeterministic(te.encode('héllo'), { keyName: 'mixed' });
    expect(d1).toEqual(d2);
  });
});

describe('AAD binding', () => {
  const { fields } = setup();

  it('a randomized value for users.ssn#42 fails with #43, another column, and no aad', async () => {
    const ct = await fields.encrypt('078-05-1120', { aad: 'users.ssn#42' });
    expect(td.decode(await fields.decrypt(ct, { aad: 'users.ssn#42' }))).toBe('078-05-1120');
    await expectCode(fields.decrypt(ct, { aad: 'users.ssn#43' }), 'ERR_DECRYPTION_FAILED');
    await expectCode(fields.decrypt(ct, { aad: 'users.tin#42' }), 'ERR_DECRYPTION_FAILED');
    await expectCode(fields.decrypt(ct), 'ERR_DECRYPTION_FAILED');
    await expectCode(fields.decrypt(ct, { aad: '' }), 'ERR_DECRYPTION_FAILED');
    await expectCode(fields.decrypt(ct, { aad: 'users.ssn#42 ' }), 'ERR_DECRYPTION_FAILED');
  });

  it('a value encrypted without aad fails when an aad is given', async () => {
    const ct = await fields.encrypt('x');
    await expectCode(fields.decrypt(ct, { aad: 'users.ssn#42' }), 'ERR_DECRYPTION_FAILED');
  });

  it('a deterministic value is bound the same way', async () => {
    const ct = await fields.encryptDeterministic('a@b.c', { keyName: 'users.email', aad: 'users.email#42' });
    expect(td.decode(await fields.decrypt(ct, { aad: 'users.email#42' }))).toBe('a@b.c');
    await expectCode(fields.decrypt(ct, { aad: 'users.email#43' }), 'ERR_DECRYPTION_FAILED');
    await expectCode(fields.decrypt(ct, { aad: 'users.alt#42' }), 'ERR_DECRYPTION_FAILED');
    await expectCode(fields.decrypt(ct), 'ERR_DECRYPTION_FAILED');
  });

  it('text helpers bind the aad too', async () => {
    const t = await fields.encryptText('secret', { aad: 'users.ssn#42' });
    await expectCode(fields.decryptText(t, { aad: 'users.ssn#43' }), 'ERR_DECRYPTION_FAILED');
    expect(await fields.decryptText(t, { aad: 'users.ssn#42' })).toBe('secret');
  });
});

describe('deterministic mode', () => {
  const { fields, store } = setup();

  it('equal inputs give equal bytes', async () => {
    const a = await fields.encryptDeterministic('a@b.c', { keyName: 'users.email', aad: 'users.email' });
    const b = await fields.encryptDeterministic('a@b.c', { keyName: 'users.email', aad: 'users.email' });
    expect(a).toEqual(b);
    const c = await fields.encryptDeterministic('a@b.d', { keyName: 'users.email', aad: 'users.email' });
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('another keyName gives other bytes and another keyRef; another aad other bytes under the same keyRef', async () => {
    const a = await fields.encryptDeterministic('a@b.c', { keyName: 'users.email' });
    const otherName = await fields.encryptDeterministic('a@b.c', { keyName: 'orders.email' });
    const otherAad = await fields.encryptDeterministic('a@b.c', { keyName: 'users.email', aad: 'x' });
    expect(keyRefOf(otherName)).not.toBe(keyRefOf(a));
    expect(Buffer.from(otherName.subarray(9)).equals(Buffer.from(a.subarray(9)))).toBe(false);
    expect(keyRefOf(otherAad)).toBe(keyRefOf(a));
    expect(Buffer.from(otherAad.subarray(9)).equals(Buffer.from(a.subarray(9)))).toBe(false);
  });

  it('decrypts through decrypt(), and each keyName is one named siv record', async () => {
    const ct = await fields.encryptDeterministic(new Uint8Array([0, 1, 2, 255]), { keyName: 'bin' });
    expect(await fields.decrypt(ct)).toEqual(new Uint8Array([0, 1, 2, 255]));
    const named = (await records(store)).filter((r) => r.name !== undefined);
    expect(named.map((r) => r.name).sort()).toEqual(['bin', 'orders.email', 'users.email']);
    for (const r of named) expect(r.kind).toBe('siv');
    const email = named.find((r) => r.name === 'users.email')!;
    expect(email.keyRef).toBe(keyRefOf(await fields.encryptDeterministic('q', { keyName: 'users.email' })));
  });
});

describe('text helpers', () => {
  const { fields } = setup();
  const B64URL = /^[A-Za-z0-9_-]*$/;

  it('encryptText / decryptText round trip as base64url without padding', async () => {
    for (const value of ['', 'a', '078-05-1120', 'ünïcødé 😀'.repeat(20)]) {
      const t = await fields.encryptText(value, { aad: 'a' });
      expect(t).toMatch(B64URL);
      expect(t).not.toContain('=');
      expect(Buffer.from(t, 'base64url').length).toBe(te.encode(value).length + 37);
      expect(await fields.decryptText(t, { aad: 'a' })).toBe(value);
    }
  });

  it('encryptDeterministicText is stable, base64url, and decryptText reads it', async () => {
    const a = await fields.encryptDeterministicText('a@b.c', { keyName: 'users.email' });
    const b = await fields.encryptDeterministicText('a@b.c', { keyName: 'users.email' });
    expect(a).toBe(b);
    expect(a).toMatch(B64URL);
    expect(await fields.decryptText(a)).toBe('a@b.c');
  });

  it('decryptText of text outside the base64url alphabet is ERR_ENVELOPE_MALFORMED', async () => {
    const t = await fields.encryptText('x');
    const std = Buffer.from(t, 'base64url').toString('base64'); // '+', '/', '=' may appear
    for (const bad of [`${t}=`, t.replace(/^./, '+'), t.replace(/^./, '/'), `${t} `, `${t}\n`, 'abc.def', 'ä']) {
      await expectCode(fields.decryptText(bad), 'ERR_ENVELOPE_MALFORMED');
    }
    if (/[+/=]/.test(std)) await expectCode(fields.decryptText(std), 'ERR_ENVELOPE_MALFORMED');
  });

  it('decryptText refuses a dangling extra character (Node would drop it and decrypt)', async () => {
    const t = await fields.encryptText('yz'); // 39 bytes: 52 chars, no pad bits
    expect(t.length % 4).toBe(0);
    expect(Buffer.from(`${t}A`, 'base64url')).toEqual(Buffer.from(t, 'base64url')); // what Node does
    for (const c of ['A', 'Q', '_', '-', '0']) await expectCode(fields.decryptText(t + c), 'ERR_ENVELOPE_MALFORMED');
    expect(await fields.decryptText(t)).toBe('yz');
  });

  it('decryptText refuses the non-canonical spellings with non-zero pad bits', async () => {
    const t = await fields.encryptText('y'); // 38 bytes: 51 chars, the last one carries 2 pad bits
    expect(t.length % 4).toBe(3);
    const bytes = Buffer.from(t, 'base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let variants = 0;
    for (const c of alphabet) {
      const alt = t.slice(0, -1) + c;
      if (alt === t || !Buffer.from(alt, 'base64url').equals(bytes)) continue;
      variants++;
      await expectCode(fields.decryptText(alt), 'ERR_ENVELOPE_MALFORMED');
    }
    expect(variants).toBe(3); // 2 pad bits: 4 spellings of the same bytes, 1 canonical
    // A real extra character adds a byte: that is a different (failing) ciphertext.
    await expectCode(fields.decryptText(`${t}A`), 'ERR_DECRYPTION_FAILED');
    expect(await fields.decryptText(t)).toBe('y');
  });

  it('decrypt() of the base64 TEXT bytes is ERR_ENVELOPE_MALFORMED mentioning base64', async () => {
    const t = await fields.encryptText('078-05-1120');
    const err = await expectCode(fields.decrypt(Buffer.from(t)), 'ERR_ENVELOPE_MALFORMED');
    expect(err.message).toMatch(/base64/);
    const d = await fields.encryptDeterministicText('a@b.c', { keyName: 'e' });
    const err2 = await expectCode(fields.decrypt(Buffer.from(d)), 'ERR_ENVELOPE_MALFORMED');
    expect(err2.message).toMatch(/base64/);
    // Standard base64 with padding, too.
    const std = Buffer.from(Buffer.from(t, 'base64url').toString('base64'));
    expect((await expectCode(fields.decrypt(std), 'ERR_ENVELOPE_MALFORMED')).message).toMatch(/base64/);
  });

  it('decryptText of a binary (non-UTF-8) value is ERR_ENVELOPE_MALFORMED; decrypt() still reads it', async () => {
    const ct = await fields.encrypt(new Uint8Array([0xff, 0xfe, 0x80]));
    const t = Buffer.from(ct).toString('base64url');
    const err = await expectCode(fields.decryptText(t), 'ERR_ENVELOPE_MALFORMED');
    expect(err.message).toMatch(/UTF-8/);
    expect(await fields.decrypt(ct)).toEqual(new Uint8Array([0xff, 0xfe, 0x80]));
  });

  it('text helpers refuse non-strings with a TypeError naming the argument', async () => {
    await expectArgError(fields.encryptText(new Uint8Array(1) as unknown as string), TypeError, /value/);
    await expectArgError(fields.encryptDeterministicText(1 as unknown as string, { keyName: 'k' }), TypeError, /value/);
    await expectArgError(fields.decryptText(new Uint8Array(1) as unknown as string), TypeError, /text/);
  });
});

describe('DEK retirement', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('maxEncryptionsPerDek: 3 → the 4th encryption uses a new keyRef and a new record; old values still decrypt', async () => {
    const { fields, store } = setup({ limits: { maxEncryptionsPerDek: 3 } });
    const cts: Uint8Array[] = [];
    for (let i = 0; i < 7; i++) cts.push(await fields.encrypt(`v${i}`));
    const refs = cts.map(keyRefOf);
    expect(refs[1]).toBe(refs[0]);
    expect(refs[2]).toBe(refs[0]);
    expect(refs[3]).not.toBe(refs[0]);
    expect(refs[4]).toBe(refs[3]);
    expect(refs[5]).toBe(refs[3]);
    expect(refs[6]).not.toBe(refs[3]);
    expect(refs[6]).not.toBe(refs[0]);
    const rs = await records(store);
    expect(rs).toHaveLength(3);
    expect(new Set(rs.map((r) => r.keyRef))).toEqual(new Set([refs[0], refs[3], refs[6]]));
    for (const r of rs) expect(r.kind).toBe('gcm');
    for (let i = 0; i < 7; i++) expect(td.decode(await fields.decrypt(cts[i]!))).toBe(`v${i}`);
  });

  it('maxEncryptionsPerDek counts concurrent encryptions too', async () => {
    const { fields, store } = setup({ limits: { maxEncryptionsPerDek: 10 } });
    const cts = await Promise.all(Array.from({ length: 95 }, (_, i) => fields.encrypt(`v${i}`)));
    const counts = new Map<string, number>();
    for (const ct of cts) counts.set(keyRefOf(ct), (counts.get(keyRefOf(ct)) ?? 0) + 1);
    for (const n of counts.values()) expect(n).toBeLessThanOrEqual(10);
    expect(counts.size).toBe(10);
    expect(await records(store)).toHaveLength(10);
    for (let i = 0; i < cts.length; i++) expect(td.decode(await fields.decrypt(cts[i]!))).toBe(`v${i}`);
  });

  it('maxDekAgeMs: a DEK stops encrypting once it is that old (Date.now)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const t0 = Date.now();
    const { fields, store } = setup({ limits: { maxDekAgeMs: 60_000 } });
    const a = await fields.encrypt('a');
    vi.setSystemTime(t0 + 59_999);
    const b = await fields.encrypt('b');
    expect(keyRefOf(b)).toBe(keyRefOf(a));
    vi.setSystemTime(t0 + 60_000);
    const c = await fields.encrypt('c');
    expect(keyRefOf(c)).not.toBe(keyRefOf(a));
    vi.setSystemTime(t0 + 60_000 + 59_999);
    const d = await fields.encrypt('d');
    expect(keyRefOf(d)).toBe(keyRefOf(c));
    const rs = await records(store);
    expect(rs).toHaveLength(2);
    expect(rs.find((r) => r.keyRef === keyRefOf(a))!.createdAt).toBe(t0);
    vi.useRealTimers();
    for (const [ct, v] of [[a, 'a'], [b, 'b'], [c, 'c'], [d, 'd']] as const) expect(td.decode(await fields.decrypt(ct))).toBe(v);
  });

  it('retireActiveDek(): the next encryption makes a new record, then that one is reused', async () => {
    const { fields, store } = setup();
    const a = await fields.encrypt('a');
    const b = await fields.encrypt('b');
    expect(keyRefOf(b)).toBe(keyRefOf(a));
    fields.retireActiveDek();
    const c = await fields.encrypt('c');
    const d = await fields.encrypt('d');
    expect(keyRefOf(c)).not.toBe(keyRefOf(a));
    expect(keyRefOf(d)).toBe(keyRefOf(c));
    expect(await records(store)).toHaveLength(2);
    // After the wipe of the retired DEK (next macrotask), old values still decrypt.
    await new Promise((r) => setImmediate(r));
    expect(td.decode(await fields.decrypt(a))).toBe('a');
    expect(td.decode(await fields.decrypt(c))).toBe('c');
    fields.retireActiveDek(); // retiring twice in a row is harmless
    fields.retireActiveDek();
    expect(keyRefOf(await fields.encrypt('e'))).not.toBe(keyRefOf(c));
    expect(await records(store)).toHaveLength(3);
  });

  it('retireActiveDek() does not affect deterministic keys', async () => {
    const { fields } = setup();
    const a = await fields.encryptDeterministic('x', { keyName: 'n' });
    fields.retireActiveDek();
    expect(await fields.encryptDeterministic('x', { keyName: 'n' })).toEqual(a);
  });
});

describe('sharing records between encryptors and KEKs', () => {
  it('a second FieldEncryptor on the same store and KEK decrypts what the first wrote', async () => {
    const { kek, store, fields } = setup();
    const r = await fields.encrypt('r', { aad: 'x' });
    const d = await fields.encryptDeterministic('d', { keyName: 'n', aad: 'x' });
    const second = new FieldEncryptor({ keks: kek, keyStore: store });
    expect(td.decode(await second.decrypt(r, { aad: 'x' }))).toBe('r');
    expect(td.decode(await second.decrypt(d, { aad: 'x' }))).toBe('d');
    // and finds the named key instead of making another one
    expect(await second.encryptDeterministic('d', { keyName: 'n', aad: 'x' })).toEqual(d);
    expect(await records(store)).toHaveLength(2);
  });

  it('multi-KEK: records hold the DEK under both KEKs; either KEK alone decrypts', async () => {
    const k1 = newKek('kek-1');
    const k2 = newKek('kek-2');
    const store = new MemoryKeyStore();
    const first = new FieldEncryptor({ keks: [k1, k2], keyStore: store });
    const r = await first.encrypt('r');
    const d = await first.encryptDeterministic('d', { keyName: 'n' });
    for (const rec of await records(store)) expect(rec.wrappedDeks.map((w) => w.kekId)).toEqual(['kek-1', 'kek-2']);
    for (const only of [k2, k1]) {
      const reader = new FieldEncryptor({ keks: only, keyStore: store });
      expect(td.decode(await reader.decrypt(r))).toBe('r');
      expect(td.decode(await reader.decrypt(d))).toBe('d');
    }
  });

  it('an unrelated KEK gets ERR_NO_MATCHING_KEK', async () => {
    const { store, fields } = setup();
    const r = await fields.encrypt('r');
    const d = await fields.encryptDeterministic('d', { keyName: 'n' });
    const stranger = new FieldEncryptor({ keks: newKek('someone-else'), keyStore: store });
    expect(await expectCode(stranger.decrypt(r), 'ERR_NO_MATCHING_KEK')).toBeInstanceOf(NoMatchingKekError);
    await expectCode(stranger.decrypt(d), 'ERR_NO_MATCHING_KEK');
    // and cannot use the named key to encrypt either
    await expectCode(stranger.encryptDeterministic('d', { keyName: 'n' }), 'ERR_NO_MATCHING_KEK');
  });

  it('a KEK with the same id but other key bytes gets ERR_DECRYPTION_FAILED', async () => {
    const { kek, store, fields } = setup();
    const r = await fields.encrypt('r');
    const impostor = new FieldEncryptor({ keks: newKek(kek.id), keyStore: store });
    await expectCode(impostor.decrypt(r), 'ERR_DECRYPTION_FAILED');
  });

  it('an unknown keyRef gives ERR_KEY_NOT_FOUND', async () => {
    const { kek, fields } = setup();
    const r = await fields.encrypt('r');
    const d = await fields.encryptDeterministic('d', { keyName: 'n' });
    const empty = new FieldEncryptor({ keks: kek, keyStore: new MemoryKeyStore() });
    expect(await expectCode(empty.decrypt(r), 'ERR_KEY_NOT_FOUND')).toBeInstanceOf(KeyNotFoundError);
    await expectCode(empty.decrypt(d), 'ERR_KEY_NOT_FOUND');
    const moved = r.slice();
    moved[4]! ^= 0x01;
    await expectCode(fields.decrypt(moved), 'ERR_KEY_NOT_FOUND');
  });

  it('a changed version byte (0xF2 ↔ 0xF1) never hands a DEK to the other algorithm', async () => {
    // Regression: the unwrapped-DEK cache was keyed by keyRef alone, so a warm encryptor gave
    // the 64-byte SIV DEK to AES-GCM (RangeError) and a GCM DEK to AES-SIV.
    const { kek, store, fields } = setup();
    const value = 'a value long enough for both layouts';
    const d = await fields.encryptDeterministic(value, { keyName: 'n' });
    const r = await fields.encrypt(value);
    const dAsGcm = d.slice();
    dAsGcm[0] = 0xf1;
    const rAsSiv = r.slice();
    rAsSiv[0] = 0xf2;
    const cold = new FieldEncryptor({ keks: kek, keyStore: store });
    for (const f of [fields, cold]) {
      await expectCode(f.decrypt(dAsGcm), 'ERR_KEY_NOT_FOUND');
      await expectCode(f.decrypt(rAsSiv), 'ERR_KEY_NOT_FOUND');
      expect(td.decode(await f.decrypt(d))).toBe(value);
      expect(td.decode(await f.decrypt(r))).toBe(value);
      await expectCode(f.decrypt(dAsGcm), 'ERR_KEY_NOT_FOUND');
      await expectCode(f.decrypt(rAsSiv), 'ERR_KEY_NOT_FOUND');
    }
  });
});

describe('concurrency', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-envelope-field-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('200 concurrent first encrypts make exactly one record and one wrap', async () => {
    const kek = new CountingKek(newKek());
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore: store });
    const cts = await Promise.all(Array.from({ length: 200 }, (_, i) => fields.encrypt(`v${i}`)));
    expect(await records(store)).toHaveLength(1);
    expect(kek.wraps).toBe(1);
    expect(new Set(cts.map(keyRefOf)).size).toBe(1);
    for (let i = 0; i < 200; i += 17) expect(td.decode(await fields.decrypt(cts[i]!))).toBe(`v${i}`);
  });

  it('200 concurrent encryptDeterministic on a new keyName make exactly one named record', async () => {
    const kek = new CountingKek(newKek());
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: kek, keyStore: store });
    const cts = await Promise.all(Array.from({ length: 200 }, () => fields.encryptDeterministic('same', { keyName: 'users.email' })));
    const rs = await records(store);
    expect(rs).toHaveLength(1);
    expect(rs[0]!.name).toBe('users.email');
    expect(rs[0]!.kind).toBe('siv');
    expect(kek.wraps).toBe(1);
    for (const ct of cts) expect(ct).toEqual(cts[0]);
  });

  it('two FieldEncryptors on one FileKeyStore directory race on new names and agree', async () => {
    const kek = newKek();
    const a = new FieldEncryptor({ keks: kek, keyStore: new FileKeyStore({ directory: dir }) });
    const b = new FieldEncryptor({ keks: kek, keyStore: new FileKeyStore({ directory: dir }) });
    const names = Array.from({ length: 6 }, (_, i) => `race.${i}`);
    for (const keyName of names) {
      const [x, y, z] = await Promise.all([
        a.encryptDeterministic('v', { keyName }),
        b.encryptDeterministic('v', { keyName }),
        a.encryptDeterministic('v', { keyName, aad: 'q' }),
      ]);
      expect(x).toEqual(y);
      expect(keyRefOf(z)).toBe(keyRefOf(x));
      expect(td.decode(await b.decrypt(z, { aad: 'q' }))).toBe('v');
      expect(td.decode(await a.decrypt(y))).toBe('v');
    }
    const named = (await records(new FileKeyStore({ directory: dir }))).filter((r) => r.name !== undefined);
    expect(named.map((r) => r.name).sort()).toEqual(names);
  });
});

describe('argument errors are TypeError / RangeError naming the argument', () => {
  const { kek, store, fields } = setup();

  it('encrypt / decrypt / encryptDeterministic', async () => {
    await expectArgError(fields.encrypt(123 as unknown as string), TypeError, /value/);
    await expectArgError(fields.encrypt(null as unknown as string), TypeError, /value/);
    await expectArgError(fields.encrypt([1, 2] as unknown as Uint8Array), TypeError, /value/);
    await expectArgError(fields.encrypt('x', { aad: 5 as unknown as string }), TypeError, /options\.aad/);
    await expectArgError(fields.encrypt('x', { aad: 'a'.repeat(4097) }), RangeError, /options\.aad/);
    await expectArgError(fields.encrypt('x', { aad: '\uD800' }), RangeError, /options\.aad/);
    await expectArgError(fields.decrypt('abc' as unknown as Uint8Array), TypeError, /ciphertext/);
    await expectArgError(fields.decrypt(new Uint8Array(40), { aad: {} as unknown as string }), TypeError, /options\.aad/);
    await expectArgError(fields.encryptDeterministic(1 as unknown as string, { keyName: 'k' }), TypeError, /value/);
    await expectArgError(fields.encryptDeterministic('x', {} as unknown as { keyName: string }), TypeError, /options\.keyName/);
    await expectArgError(fields.encryptDeterministic('x', undefined as unknown as { keyName: string }), TypeError, /options/);
    await expectArgError(fields.encryptDeterministic('x', { keyName: '' }), RangeError, /options\.keyName/);
    await expectArgError(fields.encryptDeterministic('x', { keyName: 'users.email\uD800' }), RangeError, /options\.keyName/);
    await expectArgError(fields.encryptDeterministic('x', { keyName: 'k', aad: 1 as unknown as string }), TypeError, /options\.aad/);
    // nothing was created by the refused calls
    expect(await records(store)).toHaveLength(0);
  });

  it('the constructor', async () => {
    await expectArgError(() => new FieldEncryptor(undefined as never), TypeError, /options/);
    await expectArgError(() => new FieldEncryptor({ keks: [], keyStore: store }), RangeError, /options\.keks/);
    await expectArgError(() => new FieldEncryptor({ keks: {} as KeyEncryptionKey, keyStore: store }), TypeError, /options\.keks/);
    await expectArgError(() => new FieldEncryptor({ keks: undefined as never, keyStore: store }), TypeError, /options\.keks/);
    await expectArgError(() => new FieldEncryptor({ keks: [kek, kek], keyStore: store }), RangeError, /options\.keks/);
    await expectArgError(() => new FieldEncryptor({ keks: kek } as never), TypeError, /options\.keyStore/);
    await expectArgError(() => new FieldEncryptor({ keks: kek, keyStore: {} as KeyStore }), TypeError, /options\.keyStore/);
    await expectArgError(() => new FieldEncryptor({ keks: kek, keyStore: store, limits: { maxEncryptionsPerDek: 0 } }), RangeError, /maxEncryptionsPerDek/);
    await expectArgError(() => new FieldEncryptor({ keks: kek, keyStore: store, limits: { maxEncryptionsPerDek: 2 ** 32 + 1 } }), RangeError, /maxEncryptionsPerDek/);
    await expectArgError(() => new FieldEncryptor({ keks: kek, keyStore: store, limits: { maxDekAgeMs: 1.5 } }), TypeError, /maxDekAgeMs/);
  });
});

describe('no key material in inspect / JSON output', () => {
  it('util.inspect and JSON.stringify of an encryptor in use show no DEK bytes', async () => {
    const { kek, store, fields } = setup();
    await fields.encrypt('r');
    await fields.encryptDeterministic('d', { keyName: 'n' });
    const deks: Uint8Array[] = [];
    for (const rec of await records(store)) deks.push(await kek.unwrap(rec.wrappedDeks[0]!));
    expect(deks.map((d) => d.length).sort()).toEqual([32, 64]);
    const flat = (text: string): string => text.replace(/\s+/g, ' ');
    const shown = flat([
      inspect(fields, { depth: Infinity, showHidden: true, getters: true }),
      inspect(fields),
      JSON.stringify(fields),
      String(fields),
    ].join('\n'));
    for (const dek of deks) {
      const forms = [
        Buffer.from(dek).toString('hex'),
        Buffer.from(dek).toString('base64'),
        Buffer.from(dek).toString('base64url'),
        [...dek.subarray(0, 12)].join(', '),
        [...dek.subarray(0, 12)].join(','),
        Buffer.from(dek.subarray(0, 8)).toString('hex').match(/../g)!.join(' '),
      ];
      // positive control: these forms do show up when a DEK is printed
      expect(flat(inspect(dek))).toContain(forms[3]);
      expect(flat(JSON.stringify([...dek]))).toContain(forms[4]);
      expect(inspect(Buffer.from(dek))).toContain(forms[5]);
      for (const form of forms) expect(shown).not.toContain(form);
    }
  });
});

describe('abort', () => {
  it('an already-aborted signal makes a cold encrypt reject with the signal reason, and nothing is cached', async () => {
    const { store, fields } = setup();
    const reason = new Error('stop right there');
    expect(await rejection(fields.encrypt('x', { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await rejection(fields.encryptDeterministic('x', { keyName: 'n', signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await records(store)).toHaveLength(0);
    const ct = await fields.encrypt('x');
    expect(td.decode(await fields.decrypt(ct))).toBe('x');
    const d = await fields.encryptDeterministic('x', { keyName: 'n' });
    expect(td.decode(await fields.decrypt(d))).toBe('x');
    expect(await records(store)).toHaveLength(2);
  });

  it('a default abort reason is an AbortError DOMException', async () => {
    const { fields } = setup();
    const err = await rejection(fields.encrypt('x', { signal: AbortSignal.abort() }));
    expect((err as DOMException).name).toBe('AbortError');
  });
});

describe('KEK calls (counting KEK)', () => {
  const N = 10_000;
  const inner = newKek();
  const store = new MemoryKeyStore();
  const writer = new CountingKek(inner);
  let cts: Uint8Array[] = [];

  beforeAll(async () => {
    const fields = new FieldEncryptor({ keks: writer, keyStore: store });
    cts = [];
    for (let i = 0; i < N; i++) cts.push(await fields.encrypt(`value-${i}`, { aad: `t.c#${i}` }));
  });

  it('10,000 field encrypts make 1 wrap and no unwrap', () => {
    expect(cts).toHaveLength(N);
    expect(writer.wraps).toBe(1);
    expect(writer.unwraps).toBe(0);
    expect(new Set(cts.map(keyRefOf)).size).toBe(1);
  });

  it('a fresh FieldEncryptor decrypting the 10,000 values makes exactly 1 unwrap', async () => {
    const reader = new CountingKek(inner);
    const fields = new FieldEncryptor({ keks: reader, keyStore: store });
    for (let i = 0; i < N; i++) {
      const pt = await fields.decrypt(cts[i]!, { aad: `t.c#${i}` });
      if (i % 997 === 0) expect(td.decode(pt)).toBe(`value-${i}`);
    }
    expect(reader.unwraps).toBe(1);
    expect(reader.wraps).toBe(0);
  });

  it('1,000 concurrent cold decrypts of different values sharing one DEK make exactly 1 unwrap', async () => {
    const reader = new CountingKek(inner);
    const fields = new FieldEncryptor({ keks: reader, keyStore: store });
    const pts = await Promise.all(cts.slice(0, 1000).map((ct, i) => fields.decrypt(ct, { aad: `t.c#${i}` })));
    expect(reader.unwraps).toBe(1);
    pts.forEach((pt, i) => expect(td.decode(pt)).toBe(`value-${i}`));
  });

  it('1,000 deterministic encrypts under one keyName make 1 wrap', async () => {
    const kek = new CountingKek(inner);
    const fields = new FieldEncryptor({ keks: kek, keyStore: new MemoryKeyStore() });
    for (let i = 0; i < 1000; i++) await fields.encryptDeterministic(`v${i}`, { keyName: 'n' });
    expect(kek.wraps).toBe(1);
    expect(kek.unwraps).toBe(0);
  });
});
