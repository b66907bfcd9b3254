/**
 * The certificate lifecycle endpoints: create, get (current or a version), list, list versions,
 * update properties, get and update the policy.
 *
 * Listing leaves out certificates whose only version is pending unless `includePending=true`,
 * and list-versions shows completed versions only, as the service does.
 *
 * @module
 */
import { badParameter, forbidden } from '../http/errors.js';
import { page } from '../service/bundles.js';
import { CERTIFICATE_OBJECTS, activeRecord, assertNameUsable, recordVersion } from '../service/object-types.js';
import { ok, type OperationContext, type OperationResult } from '../service/operation.js';
import { applyAttributes, optionalObject, parseTags } from '../service/requests.js';
import { certificateBundle, certificateItem, currentCertificateVersion, operationBody, policyBody } from './bundles.js';
import { assertCompanionsFree } from './issue.js';
import { settlePreviousOperation, startVersion } from './operation.js';
import { BUILT_IN_ISSUERS, parsePolicy } from './policy.js';
import type { CertificatePolicyWire, CertificateRecord } from './records.js';

/**
 * Refuses an issuer that is neither built in nor set on this vault.
 *
 * @throws {VaultHttpError} 400 BadParameter naming the issuer.
 */
export function assertIssuerKnown(ctx: OperationContext, policy: CertificatePolicyWire): void {
  const name = policy.issuer.name;
  if ((BUILT_IN_ISSUERS as readonly string[]).includes(name) || ctx.state.issuers.has(name.toLowerCase())) return;
  throw badParameter(`The issuer '${name}' is unknown. Use 'Self', 'Unknown', or an issuer created with setIssuer.`);
}

/** `POST /certificates/{name}/create`: 202 with the operation; Self-signed ones are complete at once. */
export async function createCertificate(ctx: OperationContext): Promise<OperationResult> {
  const state = ctx.state;
  assertNameUsable(CERTIFICATE_OBJECTS, state, ctx.name);
  assertCompanionsFree(state, ctx.name);
  const existing = state.certificates.get(ctx.name);
  if (existing?.operation?.status === 'inProgress') settlePreviousOperation(existing); // 409
  if (!existing && (ctx.body.policy === undefined || ctx.body.policy === null)) throw badParameter("The parameter 'policy' is required to create a certificate.");
  const now = state.now();
  const policy = ctx.body.policy === undefined || ctx.body.policy === null ? (existing as CertificateRecord).policy : parsePolicy(ctx.body.policy, now);
  assertIssuerKnown(ctx, policy);
  const attributes = applyAttributes(ctx.body.attributes, { enabled: true, created: now, updated: now });
  const tags = parseTags(ctx.body.tags);
  if (existing) settlePreviousOperation(existing);
  const record: CertificateRecord = existing ?? { name: ctx.name, versions: [], policy };
  record.policy = policy;
  state.certificates.set(record);
  const operation = await startVersion(state, record, now, tags, attributes.enabled);
  return { status: 202, body: operationBody(ctx.base, record, operation) };
}

/**
 * `GET /certificates/{name}/{version?}`.
 *
 * @throws {VaultHttpError} 404 `CertificateNotFound`.
 */
export function getCertificate(ctx: OperationContext): OperationResult {
  if (ctx.version) {
    const { record, version } = recordVersion(CERTIFICATE_OBJECTS, ctx.state, ctx.name, ctx.version);
    return ok(certificateBundle(ctx.state, ctx.base, record, version));
  }
  const record = activeRecord(CERTIFICATE_OBJECTS, ctx.state, ctx.name);
  return ok(certificateBundle(ctx.state, ctx.base, record, currentCertificateVersion(record)));
}

/** `PATCH /certificates/{name}/{version?}`: attributes (enabled, nbf, exp), tags, and the policy. */
export function updateCertificate(ctx: OperationContext): OperationResult {
  const record = activeRecord(CERTIFICATE_OBJECTS, ctx.state, ctx.name);
  const version = ctx.version ? recordVersion(CERTIFICATE_OBJECTS, ctx.state, ctx.name, ctx.version).version : currentCertificateVersion(record);
  const now = ctx.state.now();
  const attributes = applyAttributes(ctx.body.attributes, version.attributes);
  delete attributes.exportable;
  const tags = parseTags(ctx.body.tags);
  if (ctx.body.policy !== undefined && ctx.body.policy !== null) {
    const policy = parsePolicy(ctx.body.policy, now, record.policy);
    assertIssuerKnown(ctx, policy);
    record.policy = policy;
  }
  version.attributes = { ...attributes, updated: now };
  if (tags) version.tags = tags;
  // The key and secret of the version follow its enabled state, as they are one object to callers.
  for (const companion of [ctx.state.keys.get(record.name), ctx.state.secrets.get(record.name)]) {
    const same = companion?.versions.find((v) => v.version === version.version);
    if (same) same.attributes = { ...same.attributes, enabled: version.attributes.enabled, updated: now };
  }
  ctx.state.markChanged();
  return ok(certificateBundle(ctx.state, ctx.base, record, version));
}

/** `GET /certificates`: versionless items, paged; pending-only certificates with `includePending=true`. */
export function getCertificates(ctx: OperationContext): OperationResult {
  const includePending = ctx.query.get('includePending') === 'true';
  const items = ctx.state.certificates
    .active()
    .filter((record) => includePending || record.versions.some((v) => v.cer !== undefined))
    .map((record) => certificateItem(ctx.state, ctx.base, record, currentCertificateVersion(record), false));
  return ok(page(items, ctx, '/certificates'));
}

/** `GET /certificates/{name}/versions`: the completed versions, paged. */
export function getCertificateVersions(ctx: OperationContext): OperationResult {
  const record = activeRecord(CERTIFICATE_OBJECTS, ctx.state, ctx.name);
  const items = record.versions.filter((v) => v.cer !== undefined).map((version) => certificateItem(ctx.state, ctx.base, record, version, true));
  return ok(page(items, ctx, `/certificates/${record.name}/versions`));
}

/** `GET /certificates/{name}/policy`. */
export function getCertificatePolicy(ctx: OperationContext): OperationResult {
  return ok(policyBody(ctx.base, activeRecord(CERTIFICATE_OBJECTS, ctx.state, ctx.name)));
}

/** `PATCH /certificates/{name}/policy`: the members given replace the stored ones; the next version uses it. */
export function updateCertificatePolicy(ctx: OperationContext): OperationResult {
  const record = activeRecord(CERTIFICATE_OBJECTS, ctx.state, ctx.name);
  const policy = parsePolicy(optionalObject(ctx.body, 'policy'), ctx.state.now(), record.policy);
  assertIssuerKnown(ctx, policy);
  record.policy = policy;
  ctx.state.markChanged();
  return ok(policyBody(ctx.base, record));
}

/**
 * Refuses direct writes to the key or secret of a certificate (their lifetime is the certificate's).
 *
 * @throws {VaultHttpError} 403 Forbidden, inner `KeyManagedByKeyVault` / `SecretManagedByKeyVault`.
 */
export function assertNotManaged(record: { managed?: boolean } | undefined, noun: 'Key' | 'Secret', verb: string): void {
  if (record?.managed) {
    throw forbidden(`Operation "${verb}" is not allowed as this object's lifetime is managed by Key Vault.`, `${noun}ManagedByKeyVault`);
  }
}
