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
import type { WrappedKey } from '../keys/kek.js';

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
   * Replaces a record's wrapped DEKs if its revision is still `expectedRevision`
   * (compare-and-swap); returns the updated record (revision + 1).
   * @throws {KeyStoreError} when the revision moved on (a concurrent update) or on I/O failure.
   * @throws {KeyNotFoundError} when the record does not exist.
   */
  updateWrappedDeks(
    keyRef: string,
    wrappedDeks: readonly WrappedKey[],
    expectedRevision: number,
    options?: KeyStoreOptions,
  ): Promise<DekRecord>;
  /** Every record, in no particular order. */
  list(options?: KeyStoreOptions): AsyncIterable<DekRecord>;
}
