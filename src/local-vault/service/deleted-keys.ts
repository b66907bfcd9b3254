/**
 * Soft delete: delete, get/list deleted keys, recover, purge, and the automatic purge once the
 * retention period has passed (evaluated against the injected clock on every request).
 *
 * @module
 */
import { deletedKeyNotFound, forbidden } from '../http/errors.js';
import { currentVersion, deletedKeyBundle, deletedKeyItem, keyBundle, page } from './bundles.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import type { KeyRecord, VaultState } from './state.js';

const DAY = 86_400;

/** `DELETE /keys/{name}`: soft-deletes every version; the name is held until purge or recovery. */
export function deleteKey(ctx: OperationContext): OperationResult {
  const record = ctx.state.activeKey(ctx.name);
  const now = ctx.state.now();
  record.deleted = { deletedDate: now, scheduledPurgeDate: now + ctx.state.settings.softDeleteRetentionDays * DAY };
  ctx.state.markChanged();
  return ok(deletedKeyBundle(ctx.state, ctx.base, record));
}

function deletedRecord(state: VaultState, name: string): KeyRecord {
  const record = state.keys.get(name);
  if (!record?.deleted) throw deletedKeyNotFound(name);
  return record;
}

/** `GET /deletedkeys/{name}`. */
export function getDeletedKey(ctx: OperationContext): OperationResult {
  return ok(deletedKeyBundle(ctx.state, ctx.base, deletedRecord(ctx.state, ctx.name)));
}

/** `GET /deletedkeys`, paged. */
export function getDeletedKeys(ctx: OperationContext): OperationResult {
  const items = ctx.state.deletedKeys().map((record) => deletedKeyItem(ctx.state, ctx.base, record));
  return ok(page(items, ctx, '/deletedkeys'));
}

/** `POST /deletedkeys/{name}/recover`: the key returns with all its versions. */
export function recoverDeletedKey(ctx: OperationContext): OperationResult {
  const record = deletedRecord(ctx.state, ctx.name);
  delete record.deleted;
  ctx.state.markChanged();
  return ok(keyBundle(ctx.state, ctx.base, record, currentVersion(record)));
}

/**
 * `DELETE /deletedkeys/{name}`: permanent removal, 204.
 *
 * @throws {VaultHttpError} 403 when purge protection is on (the service purges at the
 *   scheduled date by itself).
 */
export function purgeDeletedKey(ctx: OperationContext): OperationResult {
  const record = deletedRecord(ctx.state, ctx.name);
  if (ctx.state.settings.purgeProtection) {
    throw forbidden(
      'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
    );
  }
  ctx.state.keys.delete(record.name);
  ctx.state.markChanged();
  return { status: 204 };
}

/** Purges every soft-deleted key whose scheduled purge date has passed. */
export function purgeExpired(state: VaultState): void {
  const now = state.now();
  for (const record of state.keys.values()) {
    if (record.deleted && record.deleted.scheduledPurgeDate <= now) {
      state.keys.delete(record.name);
      state.markChanged();
    }
  }
}
