/**
 * Soft delete for every object type: delete, get/list deleted objects, recover, purge, and the
 * automatic purge once the retention period has passed (evaluated against the injected clock on
 * every request). Each function takes a row of the object-type table.
 *
 * @module
 */
import { forbidden } from '../http/errors.js';
import { deletionFields, page } from './bundles.js';
import { latestVersion, type VersionedRecord } from './objects.js';
import { activeRecord, deletedRecord, OBJECT_TYPES, type ObjectType } from './object-types.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import type { VaultState } from './state.js';

const DAY = 86_400;

function deletedBundle<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext, record: R): Record<string, unknown> {
  const bundle = type.bundle(ctx.state, ctx.base, record, latestVersion(record));
  return { ...bundle, ...deletionFields(ctx.base, type.deletedCollection, record.name, record.deleted) };
}

/** `DELETE /{collection}/{name}`: soft-deletes every version; the name is held until purge or recovery. */
export function softDelete<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const record = activeRecord(type, ctx.state, ctx.name);
  const now = ctx.state.now();
  record.deleted = { deletedDate: now, scheduledPurgeDate: now + ctx.state.settings.softDeleteRetentionDays * DAY };
  ctx.state.markChanged();
  return ok(deletedBundle(type, ctx, record));
}

/** `GET /deleted{collection}/{name}`. */
export function getDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  return ok(deletedBundle(type, ctx, deletedRecord(type, ctx.state, ctx.name)));
}

/** `GET /deleted{collection}`, paged; items carry no secret values. */
export function listDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const items = type
    .records(ctx.state)
    .deleted()
    .map((record) => ({
      ...type.item(ctx.state, ctx.base, record, latestVersion(record), false),
      ...deletionFields(ctx.base, type.deletedCollection, record.name, record.deleted),
    }));
  return ok(page(items, ctx, `/${type.deletedCollection}`));
}

/** `POST /deleted{collection}/{name}/recover`: the object returns with all its versions. */
export function recoverDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const record = deletedRecord(type, ctx.state, ctx.name);
  delete record.deleted;
  ctx.state.markChanged();
  return ok(type.bundle(ctx.state, ctx.base, record, latestVersion(record)));
}

/**
 * `DELETE /deleted{collection}/{name}`: permanent removal, 204.
 *
 * @throws {VaultHttpError} 403 when purge protection is on (the service purges at the
 *   scheduled date by itself).
 */
export function purgeDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const record = deletedRecord(type, ctx.state, ctx.name);
  if (ctx.state.settings.purgeProtection) {
    throw forbidden(
      'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
    );
  }
  type.records(ctx.state).delete(record.name);
  ctx.state.markChanged();
  return { status: 204 };
}

/** Purges every soft-deleted object, of every type, whose scheduled purge date has passed. */
export function purgeExpired(state: VaultState): void {
  const now = state.now();
  for (const type of OBJECT_TYPES) {
    const records = type.records(state);
    for (const record of records.values()) {
      if (record.deleted && record.deleted.scheduledPurgeDate <= now) {
        records.delete(record.name);
        state.markChanged();
      }
    }
  }
}
