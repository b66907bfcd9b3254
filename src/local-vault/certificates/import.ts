/**
 * `POST /certificates/{name}/import`: a certificate with its private key, as a base64 PFX (with
 * or without a password) or PEM. Without a policy in the request, the policy is read off the
 * certificate (subject, SANs, key usage, EKUs, key type and size, validity), with issuer
 * `Unknown` and the secret's content type following the input's form, as the service does.
 * The soft-delete, backup and restore of a certificate are the shared machinery (companions).
 *
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, ExtendedKeyUsage, id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName, KeyUsage, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { materialSize, type KeyMaterial } from '../crypto/key-material.js';
import { badParameter } from '../http/errors.js';
import { backupObject, restoreObject } from '../service/backup.js';
import { CERTIFICATE_OBJECTS, assertNameUsable } from '../service/object-types.js';
import { newVersionId } from '../service/objects.js';
import { ok, type OperationContext, type OperationResult } from '../service/operation.js';
import { applyAttributes, optionalObject, parseTags } from '../service/requests.js';
import { getDeleted, listDeleted, purgeDeleted, recoverDeleted, softDelete } from '../service/soft-delete.js';
import { certificateBundle } from './bundles.js';
import { assertCompanionsFree, completeVersion, validityOf } from './issue.js';
import { UPN_OID } from './names.js';
import { settlePreviousOperation } from './operation.js';
import { parsePolicy } from './policy.js';
import type { CertificateRecord } from './records.js';
import { readImportedCertificate } from './secret-value.js';

/** The policy members a certificate implies (wire shape, before defaults). */
function impliedPolicy(der: Buffer, material: KeyMaterial, pem: boolean): Record<string, unknown> {
  const x509 = new X509Certificate(der);
  const parsed = AsnConvert.parse(der, Certificate);
  const extension = (oid: string): ArrayBuffer | undefined =>
    parsed.tbsCertificate.extensions?.find((e) => e.extnID === oid)?.extnValue.buffer as ArrayBuffer | undefined;
  const sansRaw = extension(id_ce_subjectAltName);
  const sans: Record<string, string[]> = {};
  for (const name of sansRaw ? AsnConvert.parse(sansRaw, SubjectAlternativeName) : []) {
    if (name.dNSName) (sans.dns_names ??= []).push(name.dNSName);
    else if (name.rfc822Name) (sans.emails ??= []).push(name.rfc822Name);
    else if (name.uniformResourceIdentifier) (sans.uris ??= []).push(name.uniformResourceIdentifier);
    else if (name.iPAddress) (sans.ipAddresses ??= []).push(name.iPAddress);
    else if (name.otherName?.typeId === UPN_OID) (sans.upns ??= []).push(x509.subjectAltName?.match(/othername:UPN:([^,]+)/i)?.[1] ?? '');
  }
  const keyUsageRaw = extension(id_ce_keyUsage);
  const ekuRaw = extension(id_ce_extKeyUsage);
  const { nbf, exp } = validityOf(der);
  const months = Math.max(1, Math.min(1200, Math.round((exp - nbf) / (30.44 * 86_400))));
  const subject = x509.subject.split('\n').reverse().join(', ');
  return {
    key_props: material.kty === 'EC' ? { kty: 'EC', crv: material.crv } : { kty: 'RSA', key_size: materialSize(material) },
    secret_props: { contentType: pem ? 'application/x-pem-file' : 'application/x-pkcs12' },
    x509_props: {
      subject,
      sans,
      ...(ekuRaw ? { ekus: [...AsnConvert.parse(ekuRaw, ExtendedKeyUsage)] } : {}),
      ...(keyUsageRaw ? { key_usage: AsnConvert.parse(keyUsageRaw, KeyUsage).toJSON().map((u) => (u === 'crlSign' ? 'cRLSign' : u)) } : {}),
      validity_months: months,
    },
    issuer: { name: 'Unknown' },
  };
}

/**
 * `POST /certificates/{name}/import`.
 *
 * @throws {VaultHttpError} 400 for unreadable content or a wrong password (never echoed); 409
 *   when the name is held by a soft-deleted certificate or a key/secret of its own.
 */
export async function importCertificate(ctx: OperationContext): Promise<OperationResult> {
  const state = ctx.state;
  assertNameUsable(CERTIFICATE_OBJECTS, state, ctx.name);
  assertCompanionsFree(state, ctx.name);
  const password = ctx.body.pwd;
  if (password !== undefined && password !== null && typeof password !== 'string') throw badParameter("The parameter 'pwd' must be a string.");
  const imported = await readImportedCertificate(ctx.body.value, password ?? undefined);
  const now = state.now();
  const pem = String(ctx.body.value).includes('-----BEGIN');
  const requested = optionalObject(ctx.body.policy, 'policy');
  const implied = parsePolicy(impliedPolicy(imported.leaf, imported.material, pem), now);
  const existing = state.certificates.get(ctx.name);
  const policy = requested ? parsePolicy(requested, now, existing?.policy ?? implied) : (existing?.policy ?? implied);
  if (existing) settlePreviousOperation(existing);
  const attributes = applyAttributes(ctx.body.attributes, { enabled: true, created: now, updated: now });
  const tags = parseTags(ctx.body.tags);
  const record: CertificateRecord = existing ?? { name: ctx.name, versions: [], policy };
  record.policy = policy;
  const version = { version: newVersionId(), attributes: { enabled: true, created: now, updated: now }, ...(tags ? { tags } : {}) };
  record.versions.push(version);
  state.certificates.set(record);
  await completeVersion(state, record, version, imported.material, imported.leaf, imported.chain, now);
  version.attributes.enabled = attributes.enabled;
  return ok(certificateBundle(state, ctx.base, record, version));
}

/** `DELETE /certificates/{name}`: the certificate, its key and its secret. */
export const deleteCertificate = (ctx: OperationContext): OperationResult => softDelete(CERTIFICATE_OBJECTS, ctx);
/** `GET /deletedcertificates/{name}`. */
export const getDeletedCertificate = (ctx: OperationContext): OperationResult => getDeleted(CERTIFICATE_OBJECTS, ctx);
/** `GET /deletedcertificates`, paged. */
export const getDeletedCertificates = (ctx: OperationContext): OperationResult => listDeleted(CERTIFICATE_OBJECTS, ctx);
/** `POST /deletedcertificates/{name}/recover`: with its key and secret. */
export const recoverDeletedCertificate = (ctx: OperationContext): OperationResult => recoverDeleted(CERTIFICATE_OBJECTS, ctx);
/** `DELETE /deletedcertificates/{name}`: with its key and secret. */
export const purgeDeletedCertificate = (ctx: OperationContext): OperationResult => purgeDeleted(CERTIFICATE_OBJECTS, ctx);
/** `POST /certificates/{name}/backup`: the certificate, its key and its secret in one blob. */
export const backupCertificate = (ctx: OperationContext): OperationResult => backupObject(CERTIFICATE_OBJECTS, ctx);
/** `POST /certificates/restore`. */
export const restoreCertificate = (ctx: OperationContext): OperationResult => restoreObject(CERTIFICATE_OBJECTS, ctx);
