/**
 * The object-type table: what differs between keys and secrets (and next certificates) — the
 * collection, the nouns and codes of errors, the response shapes, the backup header — so that
 * versions, soft delete, backup and paging are written once, parameterised by a row here.
 *
 * @module
 */
import { certificateBundle, certificateItem } from '../certificates/bundles.js';
import type { CertificateRecord } from '../certificates/records.js';
import { publishVersionEvent } from '../events/publish.js';
import { deletedObjectNotFound, objectNotFound, type ObjectNoun } from '../http/errors.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { keyBundle, keyItem } from './bundles.js';
import { newVersionId, type ObjectCollection, type VersionedRecord } from './objects.js';
import { secretItem, secretProperties } from './secret-bundles.js';
import type { KeyRecord, SecretRecord, VaultState } from './state.js';

/** The version record type of a record type. */
export type VersionOf<R extends VersionedRecord> = R['versions'][number];

/** One row of the object-type table. */
export interface ObjectType<R extends VersionedRecord> {
  noun: ObjectNoun;
  /** The path segment of the collection: `keys`, `secrets`. */
  collection: 'keys' | 'secrets' | 'certificates';
  /** The path segment of its soft-deleted objects: `deletedkeys`, `deletedsecrets`, `deletedcertificates`. */
  deletedCollection: 'deletedkeys' | 'deletedsecrets' | 'deletedcertificates';
  /** The first bytes of a backup blob of this type (also its AES-GCM additional data). */
  backupMagic: Buffer;
  records(state: VaultState): ObjectCollection<R>;
  /** The response of one version for delete/recover/restore (a KeyBundle; a SecretBundle without the value). */
  bundle(state: VaultState, base: string, record: R, version: VersionOf<R>): Record<string, unknown>;
  /** The list item of one version; `withVersion` for version lists, versionless otherwise. */
  item(state: VaultState, base: string, record: R, version: VersionOf<R>, withVersion: boolean): Record<string, unknown>;
  /**
   * Object types whose record of the same name lives and dies with this one (a certificate's
   * key and secret): soft delete, recover, purge, backup and restore carry them along.
   */
  companions?: () => readonly ObjectType<VersionedRecord>[];
}

/** Keys. */
export const KEY_OBJECTS: ObjectType<KeyRecord> = {
  noun: 'Key',
  collection: 'keys',
  deletedCollection: 'deletedkeys',
  backupMagic: Buffer.from('KVLVBK01', 'ascii'),
  records: (state) => state.keys,
  bundle: keyBundle,
  item: keyItem,
};

/** Secrets. */
export const SECRET_OBJECTS: ObjectType<SecretRecord> = {
  noun: 'Secret',
  collection: 'secrets',
  deletedCollection: 'deletedsecrets',
  backupMagic: Buffer.from('KVLVSB01', 'ascii'),
  records: (state) => state.secrets,
  bundle: secretProperties,
  item: secretItem,
};

/**
 * Certificates: the X.509 record of a certificate; its key and secret are a key and a secret of
 * the same name, marked `managed` (certificates/issue.ts writes the three together).
 */
export const CERTIFICATE_OBJECTS: ObjectType<CertificateRecord> = {
  noun: 'Certificate',
  collection: 'certificates',
  deletedCollection: 'deletedcertificates',
  backupMagic: Buffer.from('KVLVCB01', 'ascii'),
  records: (state) => state.certificates,
  bundle: certificateBundle,
  item: certificateItem,
  companions: () => [KEY_OBJECTS, SECRET_OBJECTS] as unknown as ObjectType<VersionedRecord>[],
};

/** Every object type (automatic purge walks them all). */
export const OBJECT_TYPES: readonly ObjectType<VersionedRecord>[] = [KEY_OBJECTS, SECRET_OBJECTS, CERTIFICATE_OBJECTS] as unknown as ObjectType<VersionedRecord>[];

/**
 * The active object `name` in any letter case, or the type's 404 (also while a delete or
 * recover of it is in progress: the SDK's recover poller polls this 404).
 */
export function activeRecord<R extends VersionedRecord>(type: ObjectType<R>, state: VaultState, name: string): R {
  const record = type.records(state).get(name);
  if (!record || record.deleted || record.pending) throw objectNotFound(type.noun, name);
  return record;
}

/** Version `version` (`''` = current) of an active object, or the type's 404. */
export function recordVersion<R extends VersionedRecord>(
  type: ObjectType<R>,
  state: VaultState,
  name: string,
  version?: string,
): { record: R; version: VersionOf<R> } {
  const record = activeRecord(type, state, name);
  const found = version ? record.versions.find((v) => v.version === version.toLowerCase()) : record.versions.at(-1);
  if (!found) throw objectNotFound(type.noun, name, version);
  return { record, version: found as VersionOf<R> };
}

/**
 * The soft-deleted object `name` in any letter case, or the type's 404 (also while its delete
 * or recover is in progress: the SDK's delete poller polls this 404; a purge in progress still
 * shows it, as the service does until the purge completes).
 */
export function deletedRecord<R extends VersionedRecord>(type: ObjectType<R>, state: VaultState, name: string): R {
  const record = type.records(state).get(name);
  if (!record?.deleted || (record.pending && record.pending.operation !== 'purge')) throw deletedObjectNotFound(type.noun, name);
  return record;
}

/**
 * Rejects any operation that would change object `name` while a delete, recover or purge of it
 * is in progress.
 *
 * @throws {VaultHttpError} 409 Conflict `ObjectIsBeingDeleted` (delete, purge) or `ObjectIsBeingRecovered`.
 */
export function assertNotInProgress<R extends VersionedRecord>(type: ObjectType<R>, state: VaultState, name: string): void {
  const pending = type.records(state).get(name)?.pending;
  if (!pending) return;
  throw pending.operation === 'recover' ? SERVICE_ERRORS.beingRecovered(type.noun) : SERVICE_ERRORS.beingDeleted(type.noun);
}

/**
 * Rejects a name (in any letter case) held by a soft-deleted object of `type`, or by one whose
 * delete, recover or purge is in progress.
 *
 * @throws {VaultHttpError} 409 Conflict `ObjectIsDeletedButRecoverable`, `ObjectIsBeingDeleted`
 *   or `ObjectIsBeingRecovered`.
 */
export function assertNameUsable<R extends VersionedRecord>(type: ObjectType<R>, state: VaultState, name: string): void {
  assertNotInProgress(type, state, name);
  const held = type.records(state).get(name);
  if (held?.deleted) throw SERVICE_ERRORS.deletedButRecoverable(type.noun, held.name);
}

/**
 * Appends a version to object `name`, creating the record (under the name as given) when no
 * object holds the name in any letter case; an existing record keeps its original spelling.
 * `versionId` is given when one version spans object types (a certificate, its key, its secret).
 *
 * @throws {VaultHttpError} 409 Conflict when the name belongs to a soft-deleted object.
 */
export function appendVersion<R extends VersionedRecord>(
  type: ObjectType<R>,
  state: VaultState,
  name: string,
  fields: Omit<VersionOf<R>, 'version'>,
  versionId: string = newVersionId(),
): { record: R; version: VersionOf<R> } {
  assertNameUsable(type, state, name);
  const records = type.records(state);
  const record = records.get(name) ?? ({ name, versions: [] } as unknown as R);
  const added = { version: versionId, ...fields } as VersionOf<R>;
  record.versions.push(added);
  records.set(record);
  publishVersionEvent(state.events, type, record, added, 'NewVersionCreated', added.attributes.created);
  state.markChanged();
  return { record, version: added };
}
