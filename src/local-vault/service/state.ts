/**
 * The vault's in-memory state: one {@link ObjectCollection} per object type (keys with their
 * versions, rotation policies and soft-delete marks; secrets with theirs). Everything here is
 * plain JSON so that the state file and backups serialise it as-is.
 *
 * @module
 */
import type { CertificateRecord, ContactRecord, IssuerRecord } from '../certificates/records.js';
import type { KeyOperation, KeyType } from '../crypto/algorithms.js';
import type { KeyMaterial } from '../crypto/key-material.js';
import { EventLog } from '../events/log.js';
import type { VaultFlavour } from '../options.js';
import { activeRecord, KEY_OBJECTS, recordVersion } from './object-types.js';
import { ObjectCollection, type ObjectAttributesRecord, type ObjectVersionRecord, type VersionedRecord } from './objects.js';

export { newVersionId } from './objects.js';

/** Key attributes, times in Unix seconds. */
export type KeyAttributesRecord = ObjectAttributesRecord;

/** One key version. */
export interface KeyVersionRecord extends ObjectVersionRecord {
  kty: KeyType;
  material: KeyMaterial;
  keyOps: KeyOperation[];
  releasePolicy?: Record<string, unknown>;
}
/** One lifetime action of a rotation policy (type normalised to `Rotate` / `Notify`). */
export interface LifetimeActionRecord {
  trigger: { timeAfterCreate?: string; timeBeforeExpiry?: string };
  action: { type: 'Rotate' | 'Notify' };
}

/** A key's rotation policy as stored. */
export interface RotationPolicyRecord {
  lifetimeActions: LifetimeActionRecord[];
  expiryTime?: string;
  created: number;
  updated: number;
}

/** A key: its versions (oldest first; the last one is current), policy and deletion state. */
export interface KeyRecord extends VersionedRecord<KeyVersionRecord> {
  rotationPolicy?: RotationPolicyRecord;
}

/** One secret version: the value (up to 25 KB) and its metadata. */
export interface SecretVersionRecord extends ObjectVersionRecord {
  value: string;
  contentType?: string;
}

/** A secret: its versions (oldest first; the last one is current) and deletion state. */
export type SecretRecord = VersionedRecord<SecretVersionRecord>;

/** Vault-wide settings that shape responses. */
export interface VaultSettings {
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
  /** How long delete, recover and purge stay in progress (0: they complete at once). */
  operationDelayMs?: number;
  /** Standard, premium or Managed HSM: which key types, algorithms and `/rng` exist. */
  flavour: VaultFlavour;
}

/**
 * All objects of one vault plus the clock. Lookups that fail throw the service's 404s, so that
 * operations read like the REST reference.
 */
export class VaultState {
  /** Keys by case-insensitive name, active and soft-deleted alike. */
  readonly keys = new ObjectCollection<KeyRecord>();
  /** Secrets by case-insensitive name, active and soft-deleted alike. */
  readonly secrets = new ObjectCollection<SecretRecord>();
  /** Published events and expiry marks (events/log.ts). */
  readonly events = new EventLog();
  /** Certificates by case-insensitive name, active and soft-deleted alike. */
  readonly certificates = new ObjectCollection<CertificateRecord>();
  /** Named certificate issuers by case-insensitive name. */
  readonly issuers = new Map<string, IssuerRecord>();
  /** The vault's certificate contacts; `undefined` when none were set. */
  contacts: ContactRecord[] | undefined;
  /** Retention and purge protection. */
  readonly settings: VaultSettings;
  readonly #clock: () => number;
  /** Time travel: added to the injected clock (persisted with the state). */
  #clockOffsetMs = 0;
  #changed = false;

  constructor(settings: VaultSettings, clock: () => number) {
    this.settings = settings;
    this.#clock = clock;
  }

  /** The vault's clock in Unix seconds: the injected clock plus the time-travel offset. */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** The vault's clock in ms since the epoch. */
  nowMs(): number {
    return this.#clock() + this.#clockOffsetMs;
  }

  /** How far the vault's clock is ahead of the injected one (ms). */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /** Sets the time-travel offset (loading it from the state file, or advancing). */
  set clockOffsetMs(offsetMs: number) {
    this.#clockOffsetMs = offsetMs;
  }

  /** Marks the state as needing to be persisted. */
  markChanged(): void {
    this.#changed = true;
  }

  /** Whether anything changed since the flag was last cleared (the flag is kept). */
  peekChanged(): boolean {
    return this.#changed;
  }

  /** Returns whether anything changed since the last call, and clears the flag. */
  takeChanged(): boolean {
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }

  /** The active (not deleted) key `name` in any letter case, or a 404. */
  activeKey(name: string): KeyRecord {
    return activeRecord(KEY_OBJECTS, this, name);
  }

  /** Version `version` of an active key (`''`/`undefined` = current), or a 404. */
  keyVersion(name: string, version?: string): { record: KeyRecord; version: KeyVersionRecord } {
    return recordVersion(KEY_OBJECTS, this, name, version);
  }

  /** Active keys sorted by name. */
  activeKeys(): KeyRecord[] {
    return this.keys.active();
  }

  /** The service's recovery level for this vault's retention and purge protection. */
  recoveryLevel(): string {
    const customized = this.settings.softDeleteRetentionDays < 90 ? 'Customized' : '';
    return `${customized}Recoverable${this.settings.purgeProtection ? '' : '+Purgeable'}`;
  }
}
