/**
 * Per-vault secrets: one random master secret, from which the token-signing key and the backup
 * key are derived (HKDF-SHA-256, RFC 5869). The master lives in memory, and in the state file
 * (mode 0600) when the vault is persisted, so tokens and backups survive a restart.
 *
 * @module
 */
import { hkdfSync, randomBytes, randomUUID } from 'node:crypto';

/** The secrets of one vault. */
export interface VaultSecrets {
  /** The tenant id the challenge names (a random GUID per vault). */
  readonly tenantId: string;
  /** The master secret (32 bytes); persisted, never sent anywhere. */
  readonly master: Buffer;
  /** HMAC-SHA-256 key that signs and checks bearer tokens. */
  readonly tokenKey: Buffer;
  /** AES-256-GCM key that seals key backups. */
  readonly backupKey: Buffer;
}

function derive(master: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `kv-envelope local-vault ${label}`, 32));
}

/** Derives the vault's secrets from `master` (fresh random ones when omitted). */
export function vaultSecrets(master: Buffer = randomBytes(32), tenantId: string = randomUUID()): VaultSecrets {
  return { tenantId, master, tokenKey: derive(master, 'token'), backupKey: derive(master, 'backup') };
}
