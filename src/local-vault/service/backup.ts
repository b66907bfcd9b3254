/**
 * Backup and restore. A backup is an opaque blob: the key's record (every version, its policy)
 * sealed with AES-256-GCM under a key derived from the vault's secret. Real Key Vault backups
 * restore only within the same subscription and geography; here, only into a vault with the
 * same secret (the same vault, or one started from the same state file).
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../crypto/encoding.js';
import { badParameter, conflict } from '../http/errors.js';
import { currentVersion, keyBundle } from './bundles.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import { assertNameUsable } from './key-management.js';
import type { KeyRecord } from './state.js';

const MAGIC = Buffer.from('KVLVBK01', 'ascii');
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `POST /keys/{name}/backup`: `{ value: <blob> }`. */
export function backupKey(ctx: OperationContext): OperationResult {
  const record = ctx.state.activeKey(ctx.name);
  const snapshot: KeyRecord = { name: record.name, versions: record.versions };
  if (record.rotationPolicy) snapshot.rotationPolicy = record.rotationPolicy;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ctx.secrets.backupKey, iv);
  cipher.setAAD(MAGIC);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(snapshot), 'utf8'), cipher.final()]);
  return ok({ value: toBase64Url(Buffer.concat([MAGIC, iv, sealed, cipher.getAuthTag()])) });
}

function open(ctx: OperationContext, blob: Buffer): KeyRecord {
  try {
    if (blob.length < MAGIC.length + IV_BYTES + TAG_BYTES || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new RangeError('not a backup');
    }
    const iv = blob.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', ctx.secrets.backupKey, iv);
    decipher.setAAD(MAGIC);
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(blob.subarray(MAGIC.length + IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as KeyRecord;
  } catch {
    throw badParameter('Backup blob contains invalid data or was not created by this vault.');
  }
}

/**
 * `POST /keys/restore`: brings back every version under the original name.
 *
 * @throws {VaultHttpError} 409 when the name is in use (active or soft-deleted).
 */
export function restoreKey(ctx: OperationContext): OperationResult {
  const record = open(ctx, fromBase64Url(ctx.body.value, 'value'));
  assertNameUsable(ctx.state, record.name);
  if (ctx.state.keys.has(record.name)) {
    throw conflict(`Key ${record.name} already exists. A backup can only be restored under a name that is not in use.`);
  }
  ctx.state.keys.set(record.name, record);
  ctx.state.markChanged();
  return ok(keyBundle(ctx.state, ctx.base, record, currentVersion(record)));
}
