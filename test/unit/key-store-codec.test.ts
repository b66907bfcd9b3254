/**
 * Key-store record files hold plain MessagePack only (issue 8 §7). The adversary: someone who
 * can write the store directory and crafts a record file with msgpackr extensions (record
 * definitions, RegExp, Set, Error, Date) so that decoding materializes objects before any
 * validation runs. Such a file must be refused as corrupt, whatever else it holds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyStore, KeyStoreError } from '../../src/index.js';
import { decodeRecord } from '../../src/store/internal/codec.js';
import { assertPlainMessagePack } from '../../src/store/internal/msgpack-scan.js';

const keyRef = '0123456789abcdef';
const plain = {
  v: 1, keyRef, kind: 'gcm', createdAt: 1_700_000_000_000, revision: 1,
  wrappedDeks: [{ kekId: 'local/aes/1', alg: 'A256KW', bytes: Buffer.alloc(40, 7) }],
};

describe('record files with MessagePack extensions', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kv-codec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const crafted: Record<string, Uint8Array> = {
    'a msgpackr record definition (useRecords)': new Packr({ useRecords: true }).pack(plain),
    'a Set': new Packr({ moreTypes: true }).pack({ ...plain, extra: new Set([1, 2]) }),
    'a RegExp': new Packr({ moreTypes: true }).pack({ ...plain, extra: /a+$/ }),
    'an Error': new Packr({ moreTypes: true }).pack({ ...plain, extra: new Error('boom') }),
    'a Date (timestamp extension)': new Packr({}).pack({ ...plain, extra: new Date(0) }),
    'structured-clone references': new Packr({ structuredClone: true }).pack({ ...plain, extra: { self: plain.wrappedDeks } }),
  };

  for (const [what, bytes] of Object.entries(crafted)) {
    it(`${what}: KeyStoreError, nothing decoded`, async () => {
      // The otherwise valid record would be accepted if decoding ran first (unknown fields are dropped).
      expect(() => assertPlainMessagePack(bytes)).toThrow(RangeError);
      writeFileSync(join(dir, `${keyRef}.dek`), bytes);
      const err = await new FileKeyStore({ directory: dir }).get(keyRef).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect((err as KeyStoreError).code).toBe('ERR_KEY_STORE');
      expect((err as KeyStoreError).cause).toBeInstanceOf(RangeError);
      expect(String(((err as KeyStoreError).cause as Error).message)).toMatch(/not allowed|not a string/);
    });
  }

  it('the same record in plain MessagePack is read', async () => {
    writeFileSync(join(dir, `${keyRef}.dek`), new Packr({ useRecords: false }).pack(plain));
    expect((await new FileKeyStore({ directory: dir }).get(keyRef))?.keyRef).toBe(keyRef);
  });

  it('the scanner is total on arbitrary bytes (RangeError or accepted, never anything else) and agrees with msgpackr on what it accepts', () => {
    const packr = new Packr({ useRecords: false, mapsAsObjects: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          assertPlainMessagePack(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(RangeError);
          return;
        }
        expect(() => packr.unpack(bytes)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    expect(() => decodeRecord(new Packr({ useRecords: false }).pack(plain), keyRef)).not.toThrow();
  });
});
