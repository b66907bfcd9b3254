/**
 * The vault's in-memory state: keys with their versions, rotation policies and soft-delete
 * marks. Everything here is plain JSON so that the state file and backups serialise it as-is.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { KeyOperation, KeyType } from '../crypto/algorithms.js';
import type { KeyMaterial } from '../crypto/key-material.js';
import { keyNotFound } from '../http/errors.js';

/** Key attributes, times in Unix seconds. */
export interface KeyAttributesRecord {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  exportable?: boolean;
}

/** One key version. */
export interface KeyVersionRecord {
  version: string;
  kty: KeyType;
  material: KeyMaterial;
  keyOps: KeyOperation[];
  attributes: KeyAttributesRecord;
  tags?: Record<string, string>;
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
export interface KeyRecord {
  name: string;
  versions: KeyVersionRecord[];
  rotationPolicy?: RotationPolicyRecord;
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

/** Vault-wide settings that shape responses. */
export interface VaultSettings {
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
}

/** Key Vault's 32-hex-character version ids. */
export function newVersionId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * All keys of one vault plus the clock. Lookups that fail throw the service's 404s, so that
 * operations read like the REST reference.
 */
export class VaultState {
  /** Keys by name, active and soft-deleted alike. */
  readonly keys = new Map<string, KeyRecord>();
  /** Retention and purge protection. */
  readonly settings: VaultSettings;
  readonly #clock: () => number;
  #changed = false;

  constructor(settings: VaultSettings, clock: () => number) {
    this.settings = settings;
    this.#clock = clock;
  }

  /** The injected clock in Unix seconds. */
  now(): number {
    return Math.floor(this.#clock() / 1000);
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

  /** The active (not deleted) key `name`, or a 404. */
  activeKey(name: string): KeyRecord {
    const record = this.keys.get(name);
    if (!record || record.deleted) throw keyNotFound(name);
    return record;
  }

  /** Version `version` of an active key (`''`/`undefined` = current), or a 404. */
  keyVersion(name: string, version?: string): { record: KeyRecord; version: KeyVersionRecord } {
    const record = this.activeKey(name);
    const found = version ? record.versions.find((v) => v.version === version) : record.versions.at(-1);
    if (!found) throw keyNotFound(name, version);
    return { record, version: found };
  }

  /** Active keys sorted by name. */
  activeKeys(): KeyRecord[] {
    return [...this.keys.values()].filter((k) => !k.deleted).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Soft-deleted keys sorted by name. */
  deletedKeys(): KeyRecord[] {
    return [...this.keys.values()].filter((k) => k.deleted).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The service's recovery level for this vault's retention and purge protection. */
  recoveryLevel(): string {
    const customized = this.settings.softDeleteRetentionDays < 90 ? 'Customized' : '';
    return `${customized}Recoverable${this.settings.purgeProtection ? '' : '+Purgeable'}`;
  }
}
