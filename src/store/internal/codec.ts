/**
 * On-disk encoding of FileKeyStore files.
 *
 * Why MessagePack (msgpackr): a record is mostly wrapped keys, which are binary. MessagePack
 * stores them as `bin` (no base64 inflation, no encode/decode step) and the rest compactly, and
 * msgpackr hands `bin` back as a Buffer, so the bytes round-trip unchanged. Measured for a
 * record with two 256-byte RSA-OAEP wrapped keys (Node 20.20, shared AMD EPYC VM, median of 15
 * runs of 50k): msgpackr 850 bytes, ~8.5 µs per pack+unpack (best run 5.8 µs); JSON with
 * base64 bytes 1,068 bytes (+26%), ~14 µs (best run 10.3 µs). Either is dwarfed by the fsync
 * a write costs (milliseconds); size and "binary stays binary, no decode step to get wrong"
 * decided it.
 *
 * The Packr is configured for plain, portable MessagePack: no msgpackr record extension, no
 * structured-clone or extra types, 64-bit ints as numbers. Those settings only shape what we
 * WRITE: msgpackr's unpacker still decodes every extension it knows (record definitions,
 * RegExp, Set, Error, …) whatever the options, so a file is first checked to hold plain
 * MessagePack only (./msgpack-scan.ts) and only then unpacked; the result gets full field
 * validation (./record.ts), so nothing from a file is trusted by shape alone.
 *
 * Record file: a map `{ v: 1, keyRef, kind, name?, createdAt, revision, wrappedDeks: [{ kekId,
 * alg, bytes }], commitment?, signatures?: [{ kekId, alg, bytes }] }` (commitment and signatures
 * are optional: older files lack them and older readers ignore them). Name file: the 16-char
 * keyRef in ASCII followed by `\n`.
 *
 * @module
 */
import { Packr } from 'msgpackr';
import type { DekRecord } from '../key-store.js';
import { assertPlainMessagePack } from './msgpack-scan.js';
import { KEY_REF_PATTERN, toFrozenRecord } from './record.js';

/** Current record file format version. */
export const RECORD_FORMAT_VERSION = 1;

/** Largest file this store will read (a record within RECORD_LIMITS is far smaller). */
export const MAX_FILE_BYTES = 256 * 1024;

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  int64AsType: 'number',
  mapsAsObjects: true,
});

/**
 * Serializes a validated record.
 * @example `await writeFile(path, encodeRecord(record));`
 */
export function encodeRecord(record: DekRecord): Uint8Array {
  return packr.pack({
    v: RECORD_FORMAT_VERSION,
    keyRef: record.keyRef,
    kind: record.kind,
    ...(record.name === undefined ? {} : { name: record.name }),
    createdAt: record.createdAt,
    revision: record.revision,
    wrappedDeks: record.wrappedDeks.map((w) => ({ kekId: w.kekId, alg: w.alg, bytes: w.bytes })),
    ...(record.commitment === undefined ? {} : { commitment: record.commitment }),
    ...(record.signatures === undefined ? {} : { signatures: record.signatures.map((s) => ({ kekId: s.kekId, alg: s.alg, bytes: s.bytes })) }),
  });
}

/**
 * Parses and validates a record file; returns a frozen record that shares no memory with
 * `bytes`.
 * @throws {Error} (any kind) when `bytes` is not a valid record; the store wraps it in a
 *   KeyStoreError naming the keyRef.
 * @example `const record = decodeRecord(await readFile(path));`
 */
export function decodeRecord(bytes: Uint8Array, expectedKeyRef: string): DekRecord {
  assertPlainMessagePack(bytes);
  const value: unknown = packr.unpack(bytes);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('record file does not hold a map');
  }
  const v = (value as Record<string, unknown>).v;
  if (v !== RECORD_FORMAT_VERSION) throw new RangeError(`unsupported record format version ${String(v)}`);
  const record = toFrozenRecord(value, 'stored record');
  if (record.keyRef !== expectedKeyRef) throw new RangeError('record keyRef does not match its file name');
  return record;
}

/**
 * Serializes a name index file.
 * @example `encodeNameRef('0123456789abcdef')`
 */
export function encodeNameRef(keyRef: string): Uint8Array {
  return Buffer.from(`${keyRef}\n`, 'ascii');
}

/**
 * Parses a name index file into its keyRef.
 * @throws {RangeError} when the content is not exactly a keyRef and a newline.
 * @example `const keyRef = decodeNameRef(await readFile(namePath));`
 */
export function decodeNameRef(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const keyRef = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (!KEY_REF_PATTERN.test(keyRef)) throw new RangeError('name index file does not hold a keyRef');
  return keyRef;
}
