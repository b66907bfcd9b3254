/**
 * The KeyStore contract: where field-mode DEK records live. A record holds one DEK wrapped
 * under every configured KEK, never the DEK itself. Field ciphertexts carry only the record's
 * 8-byte `keyRef`, so rotating a KEK re-wraps records and never rewrites a data row.
 *
 * The contract assumes many processes (and later many machines: a PostgreSQL store) share one
 * store: creation is create-if-absent and updates are compare-and-swap on `revision`.
 *
 * @module
 */
import type { RecordSignature, WrappedKey } from '../keys/kek.js';

/** What a record's DEK is for. `'gcm'`: randomized AES-256-GCM; `'siv'`: deterministic AES-SIV. */
export type DekKind = 'gcm' | 'siv';

/** One DEK record. */
export interface DekRecord {
  /** 16 lowercase hex chars: the 8-byte reference stored in every field ciphertext. */
  readonly keyRef: string;
  readonly kind: DekKind;
  /** Set for named (deterministic) keys; unique within a store. */
  readonly name?: string;
  /** Creation time, ms since the epoch. */
  readonly createdAt: number;
  /** The DEK wrapped under each KEK (at least one). */
  readonly wrappedDeks: readonly WrappedKey[];
  /** Bumped by every successful update; starts at 1. */
  readonly revision: number;
  /**
   * 32 bytes: HMAC-SHA-256 under the DEK over the record's keyRef, kind, name and createdAt
   * (docs/security.md §Record authentication). Checked after every unwrap, so every wrapped
   * key of the record must hold the same DEK. Absent on records made before version 0.2.
   */
  readonly commitment?: Uint8Array;
  /**
   * Signatures of the record's authenticated fields and commitment by KEK private keys: what
   * lets an encryptor adopt a record it did not create when its KEKs are asymmetric.
   */
  readonly signatures?: readonly RecordSignature[];
}

/** A record's authentication: its DEK commitment and signatures. */
export interface RecordAuth {
  readonly commitment: Uint8Array;
  readonly signatures: readonly RecordSignature[];
}

/** Options of {@link KeyStore.updateWrappedDeks}. */
export interface UpdateWrappedDeksOptions extends KeyStoreOptions {
  /**
   * Replaces the record's commitment and signatures in the same compare-and-swap (re-wrap adds
   * them to older records and renews signatures). Omitted: they are kept as they are.
   */
  auth?: RecordAuth;
}

/** Options bag for every KeyStore call. */
export interface KeyStoreOptions {
  signal?: AbortSignal;
}

/** Result of {@link KeyStore.createIfAbsent}. */
export interface CreateResult {
  /** The record now stored: the caller's, or the one that was there first. */
  readonly record: DekRecord;
  /** False when an existing record (same keyRef, or same name) won. */
  readonly created: boolean;
}

/** Storage of DEK records. Implementations: `MemoryKeyStore`, `FileKeyStore`. */
export interface KeyStore {
  /** The record with this keyRef, or undefined. */
  get(keyRef: string, options?: KeyStoreOptions): Promise<DekRecord | undefined>;
  /** The named record (deterministic keys), or undefined. */
  getByName(name: string, options?: KeyStoreOptions): Promise<DekRecord | undefined>;
  /**
   * Atomically stores `record` unless a record with its keyRef (or, for named records, its
   * name) already exists, in which case the existing record is returned with `created: false`.
   * Two processes racing on one name both end up with the same record.
   * @throws {KeyStoreError} on I/O failure.
   */
  createIfAbsent(record: DekRecord, options?: KeyStoreOptions): Promise<CreateResult>;
  /**
   * Replaces a record's wrapped DEKs (and, with `options.auth`, its authentication) if its
   * revision is still `expectedRevision` (compare-and-swap); returns the updated record
   * (revision + 1). keyRef, kind, name and createdAt never change.
   * @throws {KeyStoreError} when the revision moved on (a concurrent update) or on I/O failure.
   * @throws {KeyNotFoundError} when the record does not exist.
   */
  updateWrappedDeks(
    keyRef: string,
    wrappedDeks: readonly WrappedKey[],
    expectedRevision: number,
    options?: UpdateWrappedDeksOptions,
  ): Promise<DekRecord>;
  /** Every record, in no particular order. */
  list(options?: KeyStoreOptions): AsyncIterable<DekRecord>;
}
