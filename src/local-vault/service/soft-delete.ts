/**
 * Soft delete for every object type: delete, get/list deleted objects, recover, purge, and the
 * automatic purge once the retention period has passed (evaluated against the injected clock on
 * every request). Each function takes a row of the object-type table.
 *
 * Delete, recover and purge are not instantaneous in Azure: for a few seconds the service
 * answers 409 `ObjectIsBeingDeleted` / `ObjectIsBeingRecovered` for the name, the deleted object
 * (after a delete) or the object (after a recover) is still a 404 — which is what the SDK's
 * pollers poll — and purge-then-recreate fails (Azure/azure-sdk-for-net#34322, #26027;
 * hashicorp/terraform-provider-azurerm#10454, #12285). The vault models this with a pending
 * mark on the record (objects.ts `PendingOperation`) that {@link purgeExpired} settles once
 * `settings.operationDelayMs` has passed; 0 applies every change at once.
 *
 * @module
 */
import type { VaultHttpError } from '../http/errors.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { deletionFields, page } from './bundles.js';
import { latestVersion, type PendingOperation, type VersionedRecord } from './objects.js';
import { activeRecord, assertNotInProgress, deletedRecord, OBJECT_TYPES, type ObjectType } from './object-types.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import type { VaultState } from './state.js';

const DAY = 86_400;

function deletedBundle<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext, record: R): Record<string, unknown> {
  const bundle = type.bundle(ctx.state, ctx.base, record, latestVersion(record));
  return { ...bundle, ...deletionFields(ctx.base, type.deletedCollection, record.name, record.deleted) };
}

/** Marks `operation` in progress on `record`; false when the vault's delay is 0 (apply it now). */
function begin(state: VaultState, record: VersionedRecord, operation: PendingOperation['operation']): boolean {
  const delay = state.settings.operationDelayMs ?? 0;
  if (delay <= 0) return false;
  record.pending = { operation, vaultUntil: state.nowMs() + delay, wallUntil: Date.now() + delay };
  return true;
}

/**
 * The 403 for a direct delete, recover or purge of a certificate's key or secret, or a new
 * version of them: they live and die with the certificate (inner `KeyManagedByKeyVault` /
 * `SecretManagedByKeyVault`).
 */
export function managedObject(noun: string, verb: string): VaultHttpError {
  return SERVICE_ERRORS.managedByKeyVault(noun, verb);
}

/** The records of the type's companions (a certificate's key and secret) held under `name`. */
function companionsOf<R extends VersionedRecord>(type: ObjectType<R>, state: VaultState, name: string): VersionedRecord[] {
  const records: VersionedRecord[] = [];
  for (const companion of type.companions?.() ?? []) {
    const record = companion.records(state).get(name);
    if (record) records.push(record);
  }
  return records;
}

/** Gives the companions the record's deletion and pending marks (they settle together). */
function carry(record: VersionedRecord, companions: VersionedRecord[]): void {
  for (const companion of companions) {
    if (record.deleted) companion.deleted = { ...record.deleted };
    else delete companion.deleted;
    if (record.pending) companion.pending = { ...record.pending };
  }
}

/** `DELETE /{collection}/{name}`: soft-deletes every version; the name is held until purge or recovery. */
export function softDelete<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  assertNotInProgress(type, ctx.state, ctx.name);
  const record = activeRecord(type, ctx.state, ctx.name);
  if (record.managed) throw managedObject(type.noun, 'delete');
  const now = ctx.state.now();
  record.deleted = { deletedDate: now, scheduledPurgeDate: now + ctx.state.settings.softDeleteRetentionDays * DAY };
  begin(ctx.state, record, 'delete');
  carry(record, companionsOf(type, ctx.state, record.name));
  ctx.state.markChanged();
  return ok(deletedBundle(type, ctx, record));
}

/** `GET /deleted{collection}/{name}`: 404 until a delete in progress completes. */
export function getDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  return ok(deletedBundle(type, ctx, deletedRecord(type, ctx.state, ctx.name)));
}

/** `GET /deleted{collection}`, paged; items carry no secret values. */
export function listDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  // The deleted key and secret of a certificate are not listed (a get still finds them).
  const items = type
    .records(ctx.state)
    .deleted()
    .filter((record) => !record.managed)
    .map((record) => ({
      ...type.item(ctx.state, ctx.base, record, latestVersion(record), false),
      ...deletionFields(ctx.base, type.deletedCollection, record.name, record.deleted),
    }));
  return ok(page(items, ctx, `/${type.deletedCollection}`));
}

/** `POST /deleted{collection}/{name}/recover`: the object returns with all its versions (once the recovery completes). */
export function recoverDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  assertNotInProgress(type, ctx.state, ctx.name);
  const record = deletedRecord(type, ctx.state, ctx.name);
  if (record.managed) throw managedObject(type.noun, 'recover');
  if (!begin(ctx.state, record, 'recover')) delete record.deleted;
  carry(record, companionsOf(type, ctx.state, record.name));
  ctx.state.markChanged();
  return ok(type.bundle(ctx.state, ctx.base, record, latestVersion(record)));
}

/**
 * `DELETE /deleted{collection}/{name}`: permanent removal, 204 (the name stays held until the
 * purge completes).
 *
 * @throws {VaultHttpError} 403 when purge protection is on (the service purges at the
 *   scheduled date by itself); 409 while a delete, recover or purge is in progress.
 */
export function purgeDeleted<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  assertNotInProgress(type, ctx.state, ctx.name);
  const record = deletedRecord(type, ctx.state, ctx.name);
  if (record.managed) throw managedObject(type.noun, 'purge');
  if (ctx.state.settings.purgeProtection) throw SERVICE_ERRORS.purgeProtected();
  if (begin(ctx.state, record, 'purge')) {
    carry(record, companionsOf(type, ctx.state, record.name));
  } else {
    type.records(ctx.state).delete(record.name);
    for (const companion of type.companions?.() ?? []) companion.records(ctx.state).delete(record.name);
  }
  ctx.state.markChanged();
  return { status: 204 };
}

function settle(state: VaultState, records: { delete(name: string): void }, record: VersionedRecord): void {
  const pending = record.pending;
  if (!pending || (pending.vaultUntil > state.nowMs() && pending.wallUntil > Date.now())) return;
  if (pending.operation === 'purge') records.delete(record.name);
  else {
    if (pending.operation === 'recover') delete record.deleted;
    delete record.pending;
  }
  state.markChanged();
}

/**
 * Completes every delete, recover and purge whose delay has passed, then purges every
 * soft-deleted object, of every type, whose scheduled purge date has passed.
 */
export function purgeExpired(state: VaultState): void {
  const now = state.now();
  for (const type of OBJECT_TYPES) {
    const records = type.records(state);
    for (const record of records.values()) settle(state, records, record);
    for (const record of records.values()) {
      if (record.deleted && !record.pending && record.deleted.scheduledPurgeDate <= now) {
        records.delete(record.name);
        state.markChanged();
      }
    }
  }
}
