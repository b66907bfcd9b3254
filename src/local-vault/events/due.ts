/**
 * The due-event scan: publishes `{Noun}NearExpiry` and `{Noun}Expired` for the current version
 * of every active object once the vault's clock has passed their time, each once per version
 * (and `exp`: moving `exp` re-arms them), marked in the state so that no other process and no
 * restart publishes them again.
 *
 * When they fall due (Azure Key Vault as Event Grid source: "triggered when the current version
 * … is about to expire (the event is triggered 30 days before the expiration date)"; for keys
 * "the event time can be configured using key rotation policy"):
 * - NearExpiry at `exp` − 30 days; for a key whose rotation policy has a Notify action, at `exp`
 *   − its `timeBeforeExpiry` (a key without a policy has the service's default Notify P30D).
 *   A version created inside that window has it at its creation; one created already expired
 *   never has it.
 * - Expired at `exp`.
 * The event time is when it fell due (not when the scan saw it), so the events of a vault whose
 * clock jumped are the ones it would have published on the way.
 *
 * @module
 */
import type { ObjectNoun } from '../http/errors.js';
import { nameKey, type ObjectVersionRecord, type VersionedRecord } from '../service/objects.js';
import { OBJECT_TYPES, type ObjectType } from '../service/object-types.js';
import { notifyTime } from '../service/rotation-policy.js';
import type { KeyRecord, VaultState } from '../service/state.js';
import type { EventMark } from './log.js';
import { publishVersionEvent } from './publish.js';
import type { KeyVaultEventKind } from './schema.js';

/** The service's near-expiry lead: 30 days. */
export const NEAR_EXPIRY_SECONDS = 30 * 86_400;

/** When NearExpiry is due for a version expiring at `exp`, per object noun (default: 30 days before). */
const NEAR_EXPIRY_RULES: Partial<Record<ObjectNoun, (record: VersionedRecord, exp: number) => number | undefined>> = {
  Key: (record, exp) => notifyTime(record as KeyRecord, exp),
};

interface Due {
  type: ObjectType<VersionedRecord>;
  record: VersionedRecord;
  version: ObjectVersionRecord;
  kind: Exclude<KeyVaultEventKind, 'NewVersionCreated'>;
  time: number;
  key: string;
  exp: number;
}

function markKey(type: ObjectType<VersionedRecord>, record: VersionedRecord, version: ObjectVersionRecord): string {
  return `${type.collection}/${nameKey(record.name)}/${version.version}`;
}

function dueOf(state: VaultState, type: ObjectType<VersionedRecord>, record: VersionedRecord, now: number, out: Due[]): void {
  const version = record.versions.at(-1);
  const exp = version?.attributes.exp;
  if (version === undefined || exp === undefined || record.deleted) return;
  const created = version.attributes.created;
  const key = markKey(type, record, version);
  const mark: EventMark = state.events.marked(key) ?? {};
  const near = NEAR_EXPIRY_RULES[type.noun]?.(record, exp) ?? exp - NEAR_EXPIRY_SECONDS;
  const nearAt = Math.max(near, created);
  if (exp > created && nearAt <= now && mark.nearExpiry !== exp) out.push({ type, record, version, kind: 'NearExpiry', time: nearAt, key, exp });
  if (exp <= now && mark.expired !== exp) out.push({ type, record, version, kind: 'Expired', time: Math.max(exp, created), key, exp });
}

/**
 * Publishes every due expiry event, oldest first: of object `only.name` in `only.collection`,
 * or (without `only`) of every object of every type, then dropping the marks of versions that
 * are no longer current. `at` (default: now) is for a caller about to make a new version at a
 * past time (a caught-up certificate renewal): what was due by then is published first. Marks the state changed when it published or pruned anything.
 */
export function publishDueEvents(state: VaultState, only?: { collection: string; name: string }, at: number = state.now()): void {
  const now = at;
  const due: Due[] = [];
  const types = OBJECT_TYPES.filter((t) => only === undefined || t.collection === only.collection);
  for (const type of types) {
    const records = only === undefined ? type.records(state).values() : [type.records(state).get(only.name)];
    for (const record of records) if (record) dueOf(state, type, record, now, due);
  }
  due.sort((a, b) => a.time - b.time || (a.kind === b.kind ? 0 : a.kind === 'NearExpiry' ? -1 : 1));
  for (const d of due) {
    publishVersionEvent(state.events, d.type, d.record, d.version, d.kind, d.time);
    state.events.setMark(d.key, d.kind === 'NearExpiry' ? 'nearExpiry' : 'expired', d.exp);
  }
  let changed = due.length > 0;
  if (only === undefined) {
    const current = new Set<string>();
    for (const type of OBJECT_TYPES) {
      for (const record of type.records(state).values()) {
        const version = record.versions.at(-1);
        if (version?.attributes.exp !== undefined) current.add(markKey(type, record, version));
      }
    }
    changed = state.events.prune(current) || changed;
  }
  if (changed) state.markChanged();
}
