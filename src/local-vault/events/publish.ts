/**
 * Publishing one event about one object version into the vault's event log.
 *
 * @module
 */
import type { ObjectNoun } from '../http/errors.js';
import type { ObjectVersionRecord, VersionedRecord } from '../service/objects.js';
import type { EventLog } from './log.js';
import type { KeyVaultEventKind, StoredEvent } from './schema.js';

/** What an event needs to know of an object type (a row of service/object-types.ts). */
export interface EventObjectType {
  noun: ObjectNoun;
  collection: string;
}

/** Publishes `kind` for `version` of `record` at `time` (Unix seconds). The caller marks the state changed. */
export function publishVersionEvent(
  log: EventLog,
  type: EventObjectType,
  record: VersionedRecord,
  version: ObjectVersionRecord,
  kind: KeyVaultEventKind,
  time: number,
): StoredEvent {
  return log.publish({
    noun: type.noun,
    kind,
    collection: type.collection,
    name: record.name,
    version: version.version,
    nbf: version.attributes.nbf ?? null,
    exp: version.attributes.exp ?? null,
    time,
  });
}
