/**
 * The versioned-object machinery every object type shares (keys, secrets, and next
 * certificates): a collection of records by name, each with its versions (oldest first, the last
 * one current) and a soft-delete mark. Names are compared case-insensitively, as the service
 * does; a record keeps the name as it was created, and responses use that spelling.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';

/** Object attributes, times in Unix seconds (keys add `exportable`). */
export interface ObjectAttributesRecord {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  exportable?: boolean;
}

/** The soft-delete mark of a record, times in Unix seconds. */
export interface DeletionRecord {
  deletedDate: number;
  scheduledPurgeDate: number;
}

/**
 * A delete, recover or purge the service is still carrying out (soft-delete.ts): until it
 * completes, the object is in neither the active nor (except while purging) the deleted
 * collection, and operations on its name answer 409. It completes once `operationDelayMs` has
 * passed on the vault clock (`vaultUntil`) or on the real clock (`wallUntil`), whichever first.
 */
export interface PendingOperation {
  operation: 'delete' | 'recover' | 'purge';
  /** Vault-clock milliseconds. */
  vaultUntil: number;
  /** Real-clock (`Date.now()`) milliseconds. */
  wallUntil: number;
}

/** One version of any object type. */
export interface ObjectVersionRecord {
  version: string;
  attributes: ObjectAttributesRecord;
  tags?: Record<string, string>;
}

/** A named object: its versions (oldest first; the last one is current) and deletion state. */
export interface VersionedRecord<V extends ObjectVersionRecord = ObjectVersionRecord> {
  name: string;
  versions: V[];
  deleted?: DeletionRecord;
  /** An operation in progress on this object. */
  pending?: PendingOperation;
  /** Set on the key and the secret that back a certificate: their lifetime is the certificate's. */
  managed?: boolean;
}

/** Key Vault's 32-hex-character version ids. */
export function newVersionId(): string {
  return randomBytes(16).toString('hex');
}

/** The lookup form of an object name (the service compares names case-insensitively). */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** The records of one object type, active and soft-deleted alike, by case-insensitive name. */
export class ObjectCollection<R extends VersionedRecord> {
  readonly #records = new Map<string, R>();

  /** The record named `name` in any letter case, active or deleted. */
  get(name: string): R | undefined {
    return this.#records.get(nameKey(name));
  }

  /** Whether any record (active or deleted) holds `name` in any letter case. */
  has(name: string): boolean {
    return this.#records.has(nameKey(name));
  }

  /** Adds or replaces `record` under its name. */
  set(record: R): void {
    this.#records.set(nameKey(record.name), record);
  }

  /** Removes the record named `name`. */
  delete(name: string): void {
    this.#records.delete(nameKey(name));
  }

  /** Removes every record (before reloading the state file). */
  clear(): void {
    this.#records.clear();
  }

  /** Every record, active and deleted. */
  values(): R[] {
    return [...this.#records.values()];
  }

  /** Active records sorted by name (none with an operation in progress). */
  active(): R[] {
    return this.values()
      .filter((r) => !r.deleted && !r.pending)
      .sort((a, b) => nameKey(a.name).localeCompare(nameKey(b.name)));
  }

  /** Soft-deleted records sorted by name (a purge in progress still lists; a delete or recover does not). */
  deleted(): R[] {
    return this.values()
      .filter((r) => r.deleted && (!r.pending || r.pending.operation === 'purge'))
      .sort((a, b) => nameKey(a.name).localeCompare(nameKey(b.name)));
  }
}

/** The current (latest) version of a record. */
export function latestVersion<V extends ObjectVersionRecord>(record: VersionedRecord<V>): V {
  const version = record.versions.at(-1);
  if (!version) throw new Error(`object ${record.name} has no versions`);
  return version;
}
