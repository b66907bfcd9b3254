/**
 * Response shapes: KeyBundle and KeyItem (deleted ones add {@link deletionFields}) as the
 * service sends them (snake_case JWK members, Unix-second times, ids built from the request's origin),
 * and paged lists: `{ value, nextLink }` with `maxresults` (1..25, default 25) and an opaque
 * `$skiptoken` in the nextLink, which carries the request's origin and api-version.
 *
 * @module
 */
import { publicMembers } from '../crypto/key-material.js';
import { badParameter } from '../http/errors.js';
import type { OperationContext } from './operation.js';
import type { DeletionRecord, ObjectVersionRecord } from './objects.js';
import type { KeyRecord, KeyVersionRecord, VaultState } from './state.js';

/** `https://host[:port]/keys/{name}[/{version}]`. */
export function keyId(base: string, name: string, version?: string): string {
  return version ? `${base}/keys/${name}/${version}` : `${base}/keys/${name}`;
}

/** The `attributes` member of any object version's response. */
export function objectAttributes(state: VaultState, version: ObjectVersionRecord): Record<string, unknown> {
  const a = version.attributes;
  const out: Record<string, unknown> = { enabled: a.enabled };
  if (a.nbf !== undefined) out.nbf = a.nbf;
  if (a.exp !== undefined) out.exp = a.exp;
  out.created = a.created;
  out.updated = a.updated;
  out.recoveryLevel = state.recoveryLevel();
  out.recoverableDays = state.settings.softDeleteRetentionDays;
  if (a.exportable !== undefined) out.exportable = a.exportable;
  return out;
}

function common(state: VaultState, version: KeyVersionRecord, out: Record<string, unknown>, record?: KeyRecord): Record<string, unknown> {
  out.attributes = objectAttributes(state, version);
  if (version.tags) out.tags = { ...version.tags };
  if (version.releasePolicy) out.release_policy = { ...version.releasePolicy };
  if (record?.managed) out.managed = true; // the key of a certificate
  return out;
}

/** The KeyBundle of one version: the public JWK (no private members, ever) plus metadata. */
export function keyBundle(state: VaultState, base: string, record: KeyRecord, version: KeyVersionRecord): Record<string, unknown> {
  const key = {
    kid: keyId(base, record.name, version.version),
    kty: version.kty,
    key_ops: [...version.keyOps],
    ...publicMembers(version.material),
  };
  return common(state, version, { key }, record);
}

/** A KeyItem for list results; `withVersion` for list-versions, versionless for list-keys. */
export function keyItem(
  state: VaultState,
  base: string,
  record: KeyRecord,
  version: KeyVersionRecord,
  withVersion: boolean,
): Record<string, unknown> {
  return common(state, version, { kid: keyId(base, record.name, withVersion ? version.version : undefined) }, record);
}

/** The members a deleted object's bundle and item add: `recoveryId` and the two dates. */
export function deletionFields(base: string, deletedCollection: string, name: string, deleted: DeletionRecord | undefined): Record<string, unknown> {
  return {
    recoveryId: `${base}/${deletedCollection}/${name}`,
    deletedDate: deleted?.deletedDate,
    scheduledPurgeDate: deleted?.scheduledPurgeDate,
  };
}

/** The current (latest) version of a key. */
export function currentVersion(record: KeyRecord): KeyVersionRecord {
  const version = record.versions.at(-1);
  if (!version) throw new Error(`key ${record.name} has no versions`);
  return version;
}

/** The service's largest (and default) page size. */
export const MAX_PAGE_SIZE = 25;

function pageSize(query: URLSearchParams): number {
  const raw = query.get('maxresults');
  if (raw === null || raw === '') return MAX_PAGE_SIZE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badParameter(`The value of 'maxresults' must be an integer between 1 and ${MAX_PAGE_SIZE}.`);
  }
  return size;
}

function offset(query: URLSearchParams): number {
  const token = query.get('$skiptoken');
  if (token === null) return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const marker = (parsed as { NextMarker?: unknown }).NextMarker;
    if (typeof marker === 'number' && Number.isInteger(marker) && marker >= 0) return marker;
  } catch {
    // fall through to the 400 below
  }
  throw badParameter("The '$skiptoken' is not valid.");
}

/** One page of `items` for the request in `ctx`; `nextLink` is `null` on the last page. */
export function page<T>(items: readonly T[], ctx: Pick<OperationContext, 'base' | 'query'>, path: string): {
  value: T[];
  nextLink: string | null;
} {
  const size = pageSize(ctx.query);
  const start = offset(ctx.query);
  const end = start + size;
  if (end >= items.length) return { value: items.slice(start), nextLink: null };
  const next = new URLSearchParams();
  next.set('api-version', ctx.query.get('api-version') ?? '');
  next.set('$skiptoken', Buffer.from(JSON.stringify({ NextMarker: end })).toString('base64url'));
  next.set('maxresults', String(size));
  return { value: items.slice(start, end), nextLink: `${ctx.base}${path}?${next.toString()}` };
}
