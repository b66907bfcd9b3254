/**
 * Key lifecycle operations: create, import, get, update, list keys and list versions.
 *
 * @module
 */
import { CURVES, FAMILIES, KEY_TYPES, lookup, type KeyFamily, type KeyType } from '../crypto/algorithms.js';
import { isCurveName } from '../crypto/ec.js';
import { generateMaterial, importMaterial, materialSize, type KeyMaterial, type KeySpec } from '../crypto/key-material.js';
import { badParameter } from '../http/errors.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import { currentVersion, keyBundle, keyItem, page } from './bundles.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import { applyAttributes, importedKeyType, optionalObject, parseKeyOps, parseTags } from './requests.js';
import { assertKeyTypeAvailable } from './flavour.js';
import { appendVersion, assertNameUsable as assertObjectNameUsable, KEY_OBJECTS } from './object-types.js';
import { managedObject } from './soft-delete.js';
import type { KeyRecord, KeyVersionRecord, VaultState } from './state.js';
import { listVersions } from './version-list.js';

/** The generation spec of an existing version (rotation makes "the same key again"). */
export function specOf(material: KeyMaterial): KeySpec {
  if (material.kty === 'EC') return { family: 'EC', curve: material.crv };
  return { family: material.kty, size: materialSize(material) ?? 0 };
}

/**
 * Rejects a name (in any letter case) held by a soft-deleted key.
 *
 * @throws {VaultHttpError} 409 Conflict `ObjectIsDeletedButRecoverable`.
 */
export function assertNameUsable(state: VaultState, name: string): void {
  assertObjectNameUsable(KEY_OBJECTS, state, name);
}

/**
 * Appends a version to key `name`, creating the key record when needed (names compare
 * case-insensitively; the record keeps the spelling it was created with).
 *
 * @throws {VaultHttpError} 409 Conflict when the name belongs to a soft-deleted key.
 */
export function addVersion(state: VaultState, name: string, version: Omit<KeyVersionRecord, 'version'>): {
  record: KeyRecord;
  version: KeyVersionRecord;
} {
  if (state.keys.get(name)?.managed) throw managedObject('Key', 'create');
  return appendVersion(KEY_OBJECTS, state, name, version);
}

function creationSpec(family: KeyFamily, body: Record<string, unknown>): KeySpec {
  if (family === 'EC') {
    const curve = body.crv ?? 'P-256';
    if (!isCurveName(curve)) throw badParameter(`The curve '${String(curve)}' is not supported. Supported curves are ${Object.keys(CURVES).join(', ')}.`);
    return { family, curve };
  }
  const size = body.key_size ?? FAMILIES[family].defaultSize;
  if (typeof size !== 'number' || !(FAMILIES[family].sizes as readonly number[]).includes(size)) {
    throw badParameter(`Key size ${String(size)} is not supported for ${family} keys. Supported sizes are ${FAMILIES[family].sizes.join(', ')}.`);
  }
  if (family === 'RSA' && body.public_exponent !== undefined && body.public_exponent !== null && body.public_exponent !== 65537) {
    throw badParameter('Only the public exponent 65537 is supported.');
  }
  return { family, size };
}

function keyTypeOf(value: unknown): KeyType {
  if (value === 'oct') {
    throw badParameter("Key type 'oct' is not supported. Symmetric keys are created as 'oct-HSM' (a Managed HSM key type).");
  }
  const kty = lookup(KEY_TYPES, value);
  if (!kty) throw badParameter(`Key type '${String(value)}' is not supported. Supported types are ${Object.keys(KEY_TYPES).join(', ')}.`);
  return value as KeyType;
}

type VersionFields = Omit<KeyVersionRecord, 'version' | 'material'>;

function versionFields(ctx: OperationContext, kty: KeyType, keyOps: unknown): VersionFields {
  const now = ctx.state.now();
  const family = KEY_TYPES[kty].family;
  const version: VersionFields = {
    kty,
    keyOps: parseKeyOps(keyOps, family) ?? [...FAMILIES[family].ops],
    attributes: applyAttributes(ctx.body.attributes, { enabled: true, created: now, updated: now }),
  };
  const tags = parseTags(ctx.body.tags);
  if (tags) version.tags = tags;
  const releasePolicy = optionalObject(ctx.body.release_policy, 'release_policy');
  if (releasePolicy) version.releasePolicy = releasePolicy;
  // keys.json KeyAttributes.exportable: "Release policy must be provided when creating the first
  // version of an exportable key."
  if (version.attributes.exportable === true && !releasePolicy && !ctx.state.keys.has(ctx.name)) {
    throw SERVICE_ERRORS.exportableWithoutPolicy();
  }
  return version;
}

/** `POST /keys/{name}/create`: a new key, or a new version of an existing one. */
export async function createKey(ctx: OperationContext): Promise<OperationResult> {
  const kty = keyTypeOf(ctx.body.kty);
  assertKeyTypeAvailable(ctx.state.settings.flavour, kty);
  const spec = creationSpec(KEY_TYPES[kty].family, ctx.body);
  // why: validate everything (and check for a soft-deleted name) before paying for key generation.
  const fields = versionFields(ctx, kty, ctx.body.key_ops);
  assertNameUsable(ctx.state, ctx.name);
  const material = await generateMaterial(spec);
  const { record, version } = addVersion(ctx.state, ctx.name, { ...fields, material });
  return ok(keyBundle(ctx.state, ctx.base, record, version));
}

/** `PUT /keys/{name}`: import a JWK with its private members (`Hsm` selects the -HSM type). */
export function importKey(ctx: OperationContext): OperationResult {
  const jwk = optionalObject(ctx.body.key, 'key');
  if (!jwk) throw badParameter("The parameter 'key' is required.");
  const kty = importedKeyType(ctx.body);
  if (!kty) throw badParameter(`Key type '${String(jwk.kty)}' is not supported.`);
  assertKeyTypeAvailable(ctx.state.settings.flavour, kty);
  const fields = versionFields(ctx, kty, jwk.key_ops);
  const material = importMaterial(KEY_TYPES[kty].family, jwk);
  const { record, version } = addVersion(ctx.state, ctx.name, { ...fields, material });
  return ok(keyBundle(ctx.state, ctx.base, record, version));
}

/** `GET /keys/{name}/{version?}`; a disabled version answers 403 like the service. */
export function getKey(ctx: OperationContext): OperationResult {
  const { record, version } = ctx.state.keyVersion(ctx.name, ctx.version);
  if (!version.attributes.enabled) throw SERVICE_ERRORS.disabled('Key', 'get');
  return ok(keyBundle(ctx.state, ctx.base, record, version));
}

/** `PATCH /keys/{name}/{version?}`: key_ops, attributes, tags, release policy. */
export function updateKey(ctx: OperationContext): OperationResult {
  const { record, version } = ctx.state.keyVersion(ctx.name, ctx.version);
  const keyOps = parseKeyOps(ctx.body.key_ops, KEY_TYPES[version.kty].family);
  const attributes = applyAttributes(ctx.body.attributes, version.attributes);
  const tags = parseTags(ctx.body.tags);
  const releasePolicy = optionalObject(ctx.body.release_policy, 'release_policy');
  if (keyOps) version.keyOps = keyOps;
  version.attributes = { ...attributes, updated: ctx.state.now() };
  if (tags) version.tags = tags;
  if (releasePolicy) version.releasePolicy = releasePolicy;
  ctx.state.markChanged();
  return ok(keyBundle(ctx.state, ctx.base, record, version));
}

/** `GET /keys`: versionless items of every active key, paged. */
export function getKeys(ctx: OperationContext): OperationResult {
  const items = ctx.state.activeKeys().map((record) => keyItem(ctx.state, ctx.base, record, currentVersion(record), false));
  return ok(page(items, ctx, '/keys'));
}

/** `GET /keys/{name}/versions`: every version of a key, paged (see version-list.ts for order and a missing key). */
export function getKeyVersions(ctx: OperationContext): OperationResult {
  return listVersions(KEY_OBJECTS, ctx);
}
