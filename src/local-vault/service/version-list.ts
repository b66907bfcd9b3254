/**
 * `GET /{collection}/{name}/versions` for every object type.
 *
 * - A name with no active object (never created, soft-deleted, or with a delete or recover in
 *   progress) lists nothing: 200 with `{ value: [], nextLink: null }`, as the service answers
 *   (Azure/azure-sdk-for-net#16444, Azure/azure-sdk-for-java#11033), not a 404.
 * - Order: by version id. Ids are 32 random hex characters, so the order is stable across pages
 *   and requests but unrelated to creation time. The service documents no order and its lists
 *   are not chronological (nagyesta/lowkey-vault#428, Azure/azure-sdk-for-net#45792): callers
 *   that want the newest version sort by `created` (or ask for the versionless object).
 *
 * @module
 */
import { page } from './bundles.js';
import type { VersionedRecord } from './objects.js';
import type { ObjectType, VersionOf } from './object-types.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';

function byVersionId(a: { version: string }, b: { version: string }): number {
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

/** Every version of object `ctx.name`, paged, in version-id order; empty for a missing name. */
export function listVersions<R extends VersionedRecord>(type: ObjectType<R>, ctx: OperationContext): OperationResult {
  const found = type.records(ctx.state).get(ctx.name);
  const record = found && !found.deleted && !found.pending ? found : undefined;
  const versions = record ? ([...record.versions] as VersionOf<R>[]).sort(byVersionId) : [];
  const items = record ? versions.map((version) => type.item(ctx.state, ctx.base, record, version, true)) : [];
  return ok(page(items, ctx, `/${type.collection}/${record?.name ?? ctx.name}/versions`));
}
