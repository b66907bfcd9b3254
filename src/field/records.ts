/**
 * Making and finding field DEK records: a new DEK is wrapped under every KEK, sealed (DEK
 * commitment; named records also signed) and registered in the key store with create-if-absent;
 * a keyRef is resolved back to its DEK through the store, the KEKs and the unwrapped-key cache,
 * and the DEK is checked against the record's commitment. A named record made elsewhere is only
 * encrypted under once authenticated (store/internal/record-trust.ts).
 */
import { randomBytes } from 'node:crypto';
import type { DekResolver } from '../cache/dek-resolver.js';
import type { CachePartition } from '../cache/internal/partition.js';
import { KeyNotFoundError, KeyStoreError } from '../errors.js';
import { KEY_REF_LENGTH } from '../format/field.js';
import { SecretKey } from '../internal/secret.js';
import { raceAbort } from '../internal/abort.js';
import type { KeyEncryptionKey } from '../keys/kek.js';
import { wrapUnderAll } from '../keys/multi.js';
import type { DekKind, DekRecord, KeyStore } from '../store/key-store.js';
import { adoptRecord, assertCommitment, sealRecord } from '../store/internal/record-trust.js';

/** DEK length per record kind: AES-256-GCM takes 32 bytes, AES-SIV-256 takes 64 (two AES-256 keys). */
export const DEK_LENGTH: Readonly<Record<DekKind, number>> = { gcm: 32, siv: 64 };

/** A DEK ready for use, with its 8-byte reference. */
export interface FieldDek {
  readonly keyRef: Uint8Array;
  readonly keyRefHex: string;
  readonly dek: SecretKey;
}

/** Shared plumbing of the field encryptor. */
export interface FieldKeyContext {
  readonly keks: readonly KeyEncryptionKey[];
  readonly store: KeyStore;
  readonly resolver: DekResolver;
  /** This encryptor's partition of the unwrapped-key cache (owner: its KEKs and its store). */
  readonly cache: CachePartition;
}

const MAX_KEY_REF_ATTEMPTS = 4;

/**
 * Makes a DEK, wraps it under every KEK and registers it. For a named key, an existing record
 * of that name wins (another process made it first) and its DEK is unwrapped instead.
 */
export async function createFieldDek(ctx: FieldKeyContext, kind: DekKind, name: string | undefined, signal?: AbortSignal): Promise<FieldDek> {
  const dekBytes = randomBytes(DEK_LENGTH[kind]);
  try {
    const wrappedDeks = await wrapUnderAll(ctx.keks, dekBytes, { signal });
    for (let attempt = 0; attempt < MAX_KEY_REF_ATTEMPTS; attempt++) {
      const keyRef = randomBytes(KEY_REF_LENGTH);
      const identity = { keyRef: keyRef.toString('hex'), kind, createdAt: Date.now(), ...(name === undefined ? {} : { name }) };
      const seal = await sealRecord(ctx.keks, identity, wrappedDeks, dekBytes, signal);
      const record: DekRecord = { ...identity, wrappedDeks, revision: 1, ...seal };
      const result = await ctx.store.createIfAbsent(record, { signal });
      if (result.created) {
        const dek = new SecretKey(new Uint8Array(dekBytes));
        ctx.cache.set(cacheKey(record.keyRef, kind), new SecretKey(new Uint8Array(dekBytes)));
        return { keyRef: new Uint8Array(keyRef), keyRefHex: record.keyRef, dek };
      }
      if (name !== undefined && result.record.name === name) return adoptFieldDek(ctx, result.record, kind, signal);
      // Otherwise a random 64-bit keyRef collided with an existing record: draw another.
    }
    throw new KeyStoreError('could not allocate a unique keyRef');
  } finally {
    dekBytes.fill(0);
  }
}

/**
 * The DEK of a keyRef: from the cache, else the key store record unwrapped by a KEK.
 * Concurrent misses for one keyRef share one store read and one unwrap.
 * @throws {KeyNotFoundError} when the store has no such record (or it is of another kind).
 */
export async function loadFieldDek(ctx: FieldKeyContext, keyRefHex: string, kind: DekKind, signal?: AbortSignal): Promise<FieldDek> {
  signal?.throwIfAborted();
  // Shared by concurrent misses: runs without any one caller's signal; each caller races its own.
  const shared = ctx.cache.getOrLoad(cacheKey(keyRefHex, kind), async () => {
    const record = await ctx.store.get(keyRefHex);
    if (record === undefined || record.kind !== kind) throw new KeyNotFoundError(`no ${kind} data key with keyRef ${keyRefHex} in the key store`);
    const dek = (await ctx.resolver.resolve(record.wrappedDeks, DEK_LENGTH[kind])).expose().slice();
    try {
      assertCommitment(record, dek); // every wrapped key of a record must give the one DEK
    } catch (err) {
      dek.fill(0);
      throw err;
    }
    return dek;
  });
  const dek = await raceAbort(shared, signal);
  return { keyRef: Buffer.from(keyRefHex, 'hex'), keyRefHex, dek };
}

/**
 * The DEK of a record this encryptor did not create (a named record found in the store), for
 * ENCRYPTING: only once the record is authenticated (a symmetric KEK unwraps it, or a
 * configured KEK signed it) and the DEK matches its commitment. Decrypt uses
 * {@link loadFieldDek}, which also reads legacy records.
 * @throws {RecordAuthenticationError} when the record may not be adopted (nothing is encrypted).
 * @throws {KeyNotFoundError} when the record is of another kind.
 */
export async function adoptFieldDek(ctx: FieldKeyContext, record: DekRecord, kind: DekKind, signal?: AbortSignal): Promise<FieldDek> {
  if (record.kind !== kind) throw new KeyNotFoundError(`key store record ${record.keyRef} is not a ${kind} data key`);
  const dek = await adoptRecord(ctx.keks, record, async () => (await loadFieldDek(ctx, record.keyRef, kind, signal)).dek.expose().slice(), signal);
  return { keyRef: Buffer.from(record.keyRef, 'hex'), keyRefHex: record.keyRef, dek: new SecretKey(dek) };
}

/**
 * The cache key of a keyRef (kept apart from wrapped-key digests by its prefix). The kind is part
 * of it: a ciphertext whose version byte was changed (0xF2 → 0xF1) must not find the 64-byte SIV
 * DEK and hand it to AES-GCM (or a GCM DEK to AES-SIV); it misses and gets KeyNotFoundError.
 */
export function cacheKey(keyRefHex: string, kind: DekKind): string {
  return `ref:${kind}:${keyRefHex}`;
}
