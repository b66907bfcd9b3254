/**
 * Golden ciphertexts: bytes written by this version that every later version must decrypt.
 * Regenerate only for a NEW format version (never overwrite): GOLDEN_WRITE=1 npx vitest run test/vectors/golden.test.ts
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type DekRecord, EnvelopeClient, FieldEncryptor, LocalAesKek, LocalRsaKek, MemoryKeyStore, readWrappedKeys,
  type RecordAuthenticationError,
} from '../../src/index.js';
import { rewrapKeyStore } from '../../src/rewrap/index.js';

const FILE = new URL('./golden/v1.json', import.meta.url);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

interface Golden {
  aesKeyHex: string;
  rsaPrivatePem: string;
  envelopes: { name: string; keks: string[]; context: Record<string, string>; requiredContext?: Record<string, string>; plaintextHex: string; envelopeHex: string }[];
  records: (Omit<DekRecord, 'wrappedDeks'> & { wrappedDeks: { kekId: string; alg: string; bytesHex: string }[] })[];
  fields: { name: string; aad?: string; plaintextHex: string; ciphertextHex: string }[];
}

function keks(g: Pick<Golden, 'aesKeyHex' | 'rsaPrivatePem'>) {
  return {
    aes: new LocalAesKek({ id: 'golden/aes/1', key: unhex(g.aesKeyHex) }),
    rsa: new LocalRsaKek({ id: 'golden/rsa/1', privateKey: g.rsaPrivatePem }),
  };
}

async function generate(): Promise<Golden> {
  const g: Golden = {
    aesKeyHex: hex(randomBytes(32)),
    rsaPrivatePem: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    envelopes: [], records: [], fields: [],
  };
  const k = keks(g);
  const cases: { name: string; keks: string[]; context: Record<string, string>; requiredContext?: Record<string, string>; plaintext: Uint8Array; frameSize?: number }[] = [
    { name: 'empty plaintext, AES-KW', keks: ['aes'], context: {}, plaintext: new Uint8Array(0) },
    { name: 'text with context, RSA-OAEP-256', keks: ['rsa'], context: { tenant: 'acme', purpose: 'golden' }, plaintext: new TextEncoder().encode('hello, forever') },
    { name: 'multi-frame, two KEKs, required context', keks: ['aes', 'rsa'], context: { a: 'b' }, requiredContext: { row: '42' }, plaintext: randomBytes(3000), frameSize: 1024 },
  ];
  for (const c of cases) {
    const client = new EnvelopeClient({ keks: c.keks.map((n) => k[n as 'aes' | 'rsa']), frameSize: c.frameSize ?? 1024 * 256 });
    const env = await client.encrypt(c.plaintext, { context: c.context, requiredContext: c.requiredContext });
    g.envelopes.push({ name: c.name, keks: c.keks, context: c.context, requiredContext: c.requiredContext, plaintextHex: hex(c.plaintext), envelopeHex: hex(env) });
  }
  const store = new MemoryKeyStore();
  const fields = new FieldEncryptor({ keks: [k.aes, k.rsa], keyStore: store });
  const values = [
    { name: 'randomized, aad', aad: 'users.ssn#42', plaintext: new TextEncoder().encode('078-05-1120'), det: false },
    { name: 'randomized, empty, no aad', plaintext: new Uint8Array(0), det: false },
    { name: 'deterministic', aad: 'users.email', plaintext: new TextEncoder().encode('ada@example.com'), det: true },
  ];
  for (const v of values) {
    const ct = v.det
      ? await fields.encryptDeterministic(v.plaintext, { keyName: 'users.email', aad: v.aad })
      : await fields.encrypt(v.plaintext, { aad: v.aad });
    g.fields.push({ name: v.name, aad: v.aad, plaintextHex: hex(v.plaintext), ciphertextHex: hex(ct) });
  }
  for await (const r of store.list()) g.records.push({ ...r, wrappedDeks: r.wrappedDeks.map((w) => ({ kekId: w.kekId, alg: w.alg, bytesHex: hex(w.bytes) })) });
  return g;
}

if (process.env.GOLDEN_WRITE === '1' && !existsSync(FILE)) {
  writeFileSync(FILE, `${JSON.stringify(await generate(), null, 2)}\n`);
}

describe('golden v1 vectors', () => {
  const g = JSON.parse(readFileSync(FILE, 'utf8')) as Golden;
  const k = keks(g);

  it('has every shape', () => {
    expect(g.envelopes.length).toBe(3);
    expect(g.fields.length).toBe(3);
    expect(g.records.length).toBe(2);
  });

  for (const e of g.envelopes) {
    it(`envelope decrypts: ${e.name}`, async () => {
      for (const name of e.keks) {
        const client = new EnvelopeClient({ keks: k[name as 'aes' | 'rsa'] });
        const { plaintext, context } = await client.decrypt(unhex(e.envelopeHex), { requiredContext: e.requiredContext });
        expect(hex(plaintext)).toBe(e.plaintextHex);
        expect(context).toEqual(e.context);
      }
      expect(readWrappedKeys(unhex(e.envelopeHex)).map((w) => w.kekId)).toEqual(e.keks.map((n) => `golden/${n}/1`));
    });
  }

  it('field values decrypt under either KEK', async () => {
    for (const only of [k.aes, k.rsa]) {
      const store = new MemoryKeyStore();
      for (const r of g.records) {
        await store.createIfAbsent({ ...r, wrappedDeks: r.wrappedDeks.map((w) => ({ kekId: w.kekId, alg: w.alg, bytes: unhex(w.bytesHex) })) });
      }
      const fields = new FieldEncryptor({ keks: only, keyStore: store });
      for (const f of g.fields) {
        expect(hex(await fields.decrypt(unhex(f.ciphertextHex), { aad: f.aad }))).toBe(f.plaintextHex);
      }
      // Deterministic values stay deterministic across versions, once the v1 records are
      // upgraded: an encryptor refuses to adopt a record without authentication (issue 8 §3).
      const det = g.fields.find((f) => f.name === 'deterministic')!;
      const refused = await fields.encryptDeterministic(unhex(det.plaintextHex), { keyName: 'users.email', aad: det.aad }).catch((e: unknown) => e);
      expect((refused as RecordAuthenticationError).reason).toBe('legacy');
      for await (const r of rewrapKeyStore(store, { from: [only], to: [only] })) expect(r.status).toBe('rewrapped');
      const upgraded = new FieldEncryptor({ keks: only, keyStore: store });
      expect(hex(await upgraded.encryptDeterministic(unhex(det.plaintextHex), { keyName: 'users.email', aad: det.aad }))).toBe(det.ciphertextHex);
    }
  });
});
