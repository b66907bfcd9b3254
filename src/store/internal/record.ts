/**
 * Validation and defensive copying of {@link DekRecord}s, shared by every KeyStore.
 *
 * Two callers, two error styles: arguments a caller passes in are checked with `TypeError` /
 * `RangeError` naming the argument (the project rule for caller mistakes); records read back
 * from storage go through the same checks, and the store wraps any failure in a
 * `KeyStoreError` naming the keyRef (corrupt storage is not a caller mistake).
 *
 * Every record a store hands out is a fresh, frozen deep copy: callers can neither mutate the
 * store through it nor see a later update change it under them. `Uint8Array`s cannot be
 * frozen, so each returned record gets its own copy of the wrapped bytes.
 *
 * @module
 */
import type { DekKind, DekRecord, RecordAuth } from '../key-store.js';
import type { RecordSignature, WrappedKey } from '../../keys/kek.js';
import { assertBytes, assertPositiveInt, assertString } from '../../internal/bytes.js';

/** 16 lowercase hex chars: the textual form of a field ciphertext's 8-byte key reference. */
export const KEY_REF_PATTERN = /^[0-9a-f]{16}$/;

/** Bounds every stored record must respect (generous: RSA-8192 wraps to 1,024 bytes). */
export const RECORD_LIMITS = Object.freeze({
  maxWrappedDeks: 32,
  maxWrappedBytes: 2048,
  maxKekIdLength: 2048,
  maxAlgLength: 64,
  maxNameLength: 1024,
  commitmentLength: 32,
  maxSignatures: 8,
  maxSignatureBytes: 1024,
});

/**
 * Throws unless `value` is a well-formed keyRef (16 lowercase hex chars).
 * @throws {TypeError} when `value` is not a string.
 * @throws {RangeError} when it is not 16 lowercase hex chars.
 */
export function assertKeyRef(value: unknown, name = 'keyRef'): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeof value}`);
  if (!KEY_REF_PATTERN.test(value)) throw new RangeError(`${name} must be 16 lowercase hex characters`);
}

/**
 * Throws unless `value` is a non-empty list of well-formed wrapped keys within
 * {@link RECORD_LIMITS}.
 * @throws {TypeError | RangeError} naming the offending element.
 */
export function assertWrappedDeks(value: unknown, name = 'wrappedDeks'): asserts value is readonly WrappedKey[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array`);
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  if (value.length > RECORD_LIMITS.maxWrappedDeks) {
    throw new RangeError(`${name} must hold at most ${RECORD_LIMITS.maxWrappedDeks} wrapped keys`);
  }
  value.forEach((w: unknown, i) => {
    const at = `${name}[${i}]`;
    if (typeof w !== 'object' || w === null) throw new TypeError(`${at} must be an object`);
    const { kekId, alg, bytes } = w as Record<string, unknown>;
    assertString(kekId, `${at}.kekId`, RECORD_LIMITS.maxKekIdLength);
    assertString(alg, `${at}.alg`, RECORD_LIMITS.maxAlgLength);
    assertBytes(bytes, `${at}.bytes`);
    if (bytes.length === 0 || bytes.length > RECORD_LIMITS.maxWrappedBytes) {
      throw new RangeError(`${at}.bytes must be 1..${RECORD_LIMITS.maxWrappedBytes} bytes`);
    }
  });
}

/**
 * Throws unless `value` is a well-formed record authentication (a 32-byte commitment and at
 * most {@link RECORD_LIMITS}.maxSignatures signatures).
 * @throws {TypeError | RangeError} naming the offending element.
 */
export function assertRecordAuth(value: unknown, name = 'auth'): asserts value is RecordAuth {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`);
  const { commitment, signatures } = value as Record<string, unknown>;
  assertBytes(commitment, `${name}.commitment`, RECORD_LIMITS.commitmentLength);
  assertSignatures(signatures, `${name}.signatures`);
}

function assertSignatures(value: unknown, name: string): asserts value is readonly RecordSignature[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array`);
  if (value.length > RECORD_LIMITS.maxSignatures) throw new RangeError(`${name} must hold at most ${RECORD_LIMITS.maxSignatures} signatures`);
  value.forEach((sig: unknown, i) => {
    const at = `${name}[${i}]`;
    if (typeof sig !== 'object' || sig === null) throw new TypeError(`${at} must be an object`);
    const { kekId, alg, bytes } = sig as Record<string, unknown>;
    assertString(kekId, `${at}.kekId`, RECORD_LIMITS.maxKekIdLength);
    assertString(alg, `${at}.alg`, RECORD_LIMITS.maxAlgLength);
    assertBytes(bytes, `${at}.bytes`);
    if (bytes.length === 0 || bytes.length > RECORD_LIMITS.maxSignatureBytes) {
      throw new RangeError(`${at}.bytes must be 1..${RECORD_LIMITS.maxSignatureBytes} bytes`);
    }
  });
}

/**
 * Checks every field of `value` as a {@link DekRecord} and returns a frozen deep copy holding
 * only the known fields (unknown fields are dropped, never copied).
 * @throws {TypeError | RangeError} naming the first bad field.
 */
export function toFrozenRecord(value: unknown, name = 'record'): DekRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object`);
  }
  const r = value as Record<string, unknown>;
  assertKeyRef(r.keyRef, `${name}.keyRef`);
  if (r.kind !== 'gcm' && r.kind !== 'siv') throw new TypeError(`${name}.kind must be 'gcm' or 'siv'`);
  if (r.name !== undefined) assertString(r.name, `${name}.name`, RECORD_LIMITS.maxNameLength);
  if (typeof r.createdAt !== 'number' || !Number.isFinite(r.createdAt) || r.createdAt < 0) {
    throw new TypeError(`${name}.createdAt must be a non-negative finite number`);
  }
  assertPositiveInt(r.revision, `${name}.revision`);
  assertWrappedDeks(r.wrappedDeks, `${name}.wrappedDeks`);
  if (r.commitment !== undefined) assertBytes(r.commitment, `${name}.commitment`, RECORD_LIMITS.commitmentLength);
  if (r.signatures !== undefined) {
    if (r.commitment === undefined) throw new TypeError(`${name}.signatures need a commitment`);
    assertSignatures(r.signatures, `${name}.signatures`);
  }
  return freeze({
    keyRef: r.keyRef,
    kind: r.kind as DekKind,
    ...(r.name === undefined ? {} : { name: r.name as string }),
    createdAt: r.createdAt,
    revision: r.revision,
    wrappedDeks: r.wrappedDeks,
    ...(r.commitment === undefined ? {} : { commitment: r.commitment }),
    ...(r.signatures === undefined ? {} : { signatures: r.signatures as readonly RecordSignature[] }),
  });
}

/** A frozen deep copy of an already-validated record, with its own copies of the bytes. */
export function cloneRecord(record: DekRecord): DekRecord {
  return freeze(record);
}

/**
 * A frozen copy of `record` with new wrapped keys, the next revision and, when `auth` is
 * given, that commitment and those signatures (otherwise the record's own are kept).
 */
export function withWrappedDeks(record: DekRecord, wrappedDeks: readonly WrappedKey[], auth?: RecordAuth): DekRecord {
  const next = { ...record, wrappedDeks, revision: record.revision + 1 };
  return freeze(auth === undefined ? next : { ...next, commitment: auth.commitment, signatures: auth.signatures });
}

function freeze(r: DekRecord): DekRecord {
  const wrappedDeks = Object.freeze(
    r.wrappedDeks.map((w) => Object.freeze({ kekId: w.kekId, alg: w.alg, bytes: Uint8Array.from(w.bytes) })),
  );
  return Object.freeze({
    keyRef: r.keyRef,
    kind: r.kind,
    ...(r.name === undefined ? {} : { name: r.name }),
    createdAt: r.createdAt,
    wrappedDeks,
    revision: r.revision,
    ...(r.commitment === undefined ? {} : { commitment: Uint8Array.from(r.commitment) }),
    ...(r.signatures === undefined
      ? {}
      : { signatures: Object.freeze(r.signatures.map((s) => Object.freeze({ kekId: s.kekId, alg: s.alg, bytes: Uint8Array.from(s.bytes) }))) }),
  });
}
