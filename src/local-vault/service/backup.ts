/**
 * Backup and restore for every object type. A backup is an opaque blob: the object's record
 * (every version; a key's rotation policy) sealed with AES-256-GCM under a key derived from the
 * vault's secret, behind a per-type header that is also the additional data (a key's backup
 * does not restore as a secret). Real Key Vault backups restore only within the same
 * subscription and geography; here, only into a vault with the same secret (the same vault, or
 * one started from the same state file).
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../crypto/encoding.js';
import { conflict } from '../http/errors.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { latestVersion, type VersionedRecord } from './objects.js';
import { activeRecord, assertNameUsable, KEY_OBJECTS, SECRET_OBJECTS, type ObjectType } from './object-types.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** `POST /{collection}/{name}/backup`: `{ value: <blob> }`. */
export function backupObject<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const { deleted: _deleted, ...record } = activeRecord(type, ctx.state, ctx.name);
  // A certificate's backup carries its key and secret (the companions), restored with it.
  const companions = (type.companions?.() ?? []).flatMap((companion) => {
    const held = companion.records(ctx.state).get(record.name);
    if (!held) return [];
    const { deleted: _gone, ...copy } = held;
    return [{ collection: companion.collection, record: copy }];
  });
  const snapshot = companions.length > 0 ? { ...record, companions } : record;
  const magic = type.backupMagic;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ctx.secrets.backupKey, iv);
  cipher.setAAD(magic);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(snapshot), 'utf8'), cipher.final()]);
  return ok({ value: toBase64Url(Buffer.concat([magic, iv, sealed, cipher.getAuthTag()])) });
}

function open<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext, blob: Buffer): R {
  const magic = type.backupMagic;
  try {
    if (blob.length < magic.length + IV_BYTES + TAG_BYTES || !blob.subarray(0, magic.length).equals(magic)) {
      throw new RangeError('not a backup');
    }
    const iv = blob.subarray(magic.length, magic.length + IV_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', ctx.secrets.backupKey, iv);
    decipher.setAAD(magic);
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(blob.subarray(magic.length + IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as R;
  } catch {
    // The service's text for any blob it cannot read (also one from another vault here).
    throw SERVICE_ERRORS.malformedBackup();
  }
}

/**
 * `POST /{collection}/restore`: brings back every version under the original name.
 *
 * @throws {VaultHttpError} 409 when the name is in use in any letter case (active or soft-deleted).
 */
export function restoreObject<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const { companions = [], ...record } = open(type, ctx, fromBase64Url(ctx.body.value, 'value')) as R & {
    companions?: { collection: string; record: VersionedRecord }[];
  };
  const restored: [ObjectType<VersionedRecord>, VersionedRecord][] = [[type as unknown as ObjectType<VersionedRecord>, record as unknown as R]];
  for (const companion of type.companions?.() ?? []) {
    const held = companions.find((c) => c.collection === companion.collection);
    if (held) restored.push([companion, held.record]);
  }
  for (const [owner, item] of restored) {
    assertNameUsable(owner, ctx.state, item.name);
    if (owner.records(ctx.state).has(item.name)) {
      throw conflict(`${owner.noun} ${item.name} already exists. A backup can only be restored under a name that is not in use.`);
    }
  }
  for (const [owner, item] of restored) owner.records(ctx.state).set(item);
  ctx.state.markChanged();
  return ok(type.bundle(ctx.state, ctx.base, record as unknown as R, latestVersion(record as unknown as R)));
}

/** `POST /keys/{name}/backup`. */
export const backupKey = (ctx: OperationContext): OperationResult => backupObject(KEY_OBJECTS, ctx);
/** `POST /keys/restore`. */
export const restoreKey = (ctx: OperationContext): OperationResult => restoreObject(KEY_OBJECTS, ctx);
/** `POST /secrets/{name}/backup`. */
export const backupSecret = (ctx: OperationContext): OperationResult => backupObject(SECRET_OBJECTS, ctx);
/** `POST /secrets/restore`. */
export const restoreSecret = (ctx: OperationContext): OperationResult => restoreObject(SECRET_OBJECTS, ctx);
