/**
 * The secrets data plane: set, get, update, list, list versions, and (through the shared
 * machinery of soft-delete.ts and backup.ts) delete, recover, purge, backup and restore.
 *
 * The service's rules: values up to 25 KB (25,600 bytes of UTF-8; larger is a 400); a disabled
 * version's value is a 403 `SecretDisabled`; lists never carry values. An expired or
 * not-yet-valid secret is returned: the service documents that get works outside the nbf/exp
 * window ("for test purposes" and "for recovery operations"); only `enabled` gates the value.
 *
 * @module
 */
import { badParameter } from '../http/errors.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { page } from './bundles.js';
import { latestVersion } from './objects.js';
import { appendVersion, recordVersion, SECRET_OBJECTS } from './object-types.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import { applyAttributes, parseTags } from './requests.js';
import { secretBundle, secretItem, secretProperties } from './secret-bundles.js';
import { getDeleted, listDeleted, managedObject, purgeDeleted, recoverDeleted, softDelete } from './soft-delete.js';
import type { SecretVersionRecord } from './state.js';
import { listVersions } from './version-list.js';

/** The largest secret value the service stores, in bytes. */
export const MAX_SECRET_VALUE_BYTES = 25_600;
// The service's limit on contentType.
const MAX_CONTENT_TYPE = 255;

function contentTypeOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_CONTENT_TYPE) {
    throw badParameter(`The parameter 'contentType' must be a string of at most ${MAX_CONTENT_TYPE} characters.`);
  }
  return value;
}

function secretAttributes(value: unknown, base: SecretVersionRecord['attributes']): SecretVersionRecord['attributes'] {
  const attributes = applyAttributes(value, base);
  delete attributes.exportable; // a key attribute; secrets have none
  return attributes;
}

/**
 * `PUT /secrets/{name}`: a new secret, or a new version of an existing one.
 *
 * @throws {VaultHttpError} 400 without a string `value` or with one over 25 KB; 409 when the
 *   name is held by a soft-deleted secret.
 */
export function setSecret(ctx: OperationContext): OperationResult {
  const value = ctx.body.value;
  if (typeof value !== 'string') throw badParameter("The parameter 'value' is required and must be a string.");
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw badParameter(`The secret value is too large. A secret value can be at most ${MAX_SECRET_VALUE_BYTES} bytes.`);
  }
  // A certificate's secret changes only with the certificate (the service's 403).
  if (ctx.state.secrets.get(ctx.name)?.managed) throw managedObject('Secret', 'set');
  const now = ctx.state.now();
  const fields: Omit<SecretVersionRecord, 'version'> = {
    value,
    attributes: secretAttributes(ctx.body.attributes, { enabled: true, created: now, updated: now }),
  };
  const contentType = contentTypeOf(ctx.body.contentType);
  if (contentType !== undefined) fields.contentType = contentType;
  const tags = parseTags(ctx.body.tags);
  if (tags) fields.tags = tags;
  const { record, version } = appendVersion(SECRET_OBJECTS, ctx.state, ctx.name, fields);
  return ok(secretBundle(ctx.state, ctx.base, record, version));
}

/**
 * `GET /secrets/{name}/{version?}`.
 *
 * @throws {VaultHttpError} 403 `SecretDisabled` for a disabled version; 404 `SecretNotFound`.
 */
export function getSecret(ctx: OperationContext): OperationResult {
  const { record, version } = recordVersion(SECRET_OBJECTS, ctx.state, ctx.name, ctx.version);
  if (!version.attributes.enabled) throw SERVICE_ERRORS.disabled('Secret', 'get');
  return ok(secretBundle(ctx.state, ctx.base, record, version));
}

/** `PATCH /secrets/{name}/{version?}`: contentType, attributes, tags (never the value). */
export function updateSecret(ctx: OperationContext): OperationResult {
  const { record, version } = recordVersion(SECRET_OBJECTS, ctx.state, ctx.name, ctx.version);
  const attributes = secretAttributes(ctx.body.attributes, version.attributes);
  const contentType = contentTypeOf(ctx.body.contentType);
  const tags = parseTags(ctx.body.tags);
  version.attributes = { ...attributes, updated: ctx.state.now() };
  if (contentType !== undefined) version.contentType = contentType;
  if (tags) version.tags = tags;
  ctx.state.markChanged();
  return ok(secretProperties(ctx.state, ctx.base, record, version));
}

/** `GET /secrets`: versionless items of every active secret, paged, without values. */
export function getSecrets(ctx: OperationContext): OperationResult {
  const items = ctx.state.secrets.active().map((record) => secretItem(ctx.state, ctx.base, record, latestVersion(record), false));
  return ok(page(items, ctx, '/secrets'));
}

/** `GET /secrets/{name}/versions`: every version of a secret, paged, without values (see version-list.ts). */
export function getSecretVersions(ctx: OperationContext): OperationResult {
  return listVersions(SECRET_OBJECTS, ctx);
}

/** `DELETE /secrets/{name}`. */
export const deleteSecret = (ctx: OperationContext): OperationResult => softDelete(SECRET_OBJECTS, ctx);
/** `GET /deletedsecrets/{name}`. */
export const getDeletedSecret = (ctx: OperationContext): OperationResult => getDeleted(SECRET_OBJECTS, ctx);
/** `GET /deletedsecrets`, paged. */
export const getDeletedSecrets = (ctx: OperationContext): OperationResult => listDeleted(SECRET_OBJECTS, ctx);
/** `POST /deletedsecrets/{name}/recover`. */
export const recoverDeletedSecret = (ctx: OperationContext): OperationResult => recoverDeleted(SECRET_OBJECTS, ctx);
/** `DELETE /deletedsecrets/{name}`: 204, or 403 under purge protection. */
export const purgeDeletedSecret = (ctx: OperationContext): OperationResult => purgeDeleted(SECRET_OBJECTS, ctx);
