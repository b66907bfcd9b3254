/**
 * Certificate response shapes as the service sends them: CertificateBundle (with `kid`, `sid`,
 * `x5t`, `cer` and the policy), CertificateItem, the policy and the operation. A version whose
 * operation has not completed has no `cer` and no `x5t`. Ids are built from the request's origin.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { keyId, objectAttributes } from '../service/bundles.js';
import { secretId } from '../service/secret-bundles.js';
import type { VaultState } from '../service/state.js';
import type { CertificateOperationRecord, CertificatePolicyWire, CertificateRecord, CertificateVersionRecord } from './records.js';

/** `https://host[:port]/certificates/{name}[/{version}]`. */
export function certificateId(base: string, name: string, version?: string): string {
  return version ? `${base}/certificates/${name}/${version}` : `${base}/certificates/${name}`;
}

/** The SHA-1 thumbprint of a DER certificate, base64url (the service's `x5t`). */
export function thumbprint(cer: string): string {
  return createHash('sha1').update(Buffer.from(cer, 'base64')).digest('base64url');
}

/**
 * The version a certificate's responses show: the newest completed one, else (a certificate
 * whose first operation is pending) the pending one.
 */
export function currentCertificateVersion(record: CertificateRecord): CertificateVersionRecord {
  const completed = [...record.versions].reverse().find((v) => v.cer !== undefined);
  const version = completed ?? record.versions.at(-1);
  if (!version) throw new Error(`certificate ${record.name} has no versions`);
  return version;
}

/** The policy as the service returns it, with its id. */
export function policyBody(base: string, record: CertificateRecord): Record<string, unknown> {
  return { id: `${certificateId(base, record.name)}/policy`, ...structuredClone(record.policy) };
}

function attributesOf(state: VaultState, version: CertificateVersionRecord): Record<string, unknown> {
  return objectAttributes(state, version);
}

/** The CertificateBundle of one version (the policy included, as getCertificate returns it). */
export function certificateBundle(state: VaultState, base: string, record: CertificateRecord, version: CertificateVersionRecord): Record<string, unknown> {
  const shown = version.cer === undefined && version === record.versions.at(-1) ? currentCertificateVersion(record) : version;
  const out: Record<string, unknown> = {
    id: certificateId(base, record.name, shown.version),
    kid: keyId(base, record.name, shown.version),
    sid: secretId(base, record.name, shown.version),
  };
  if (shown.cer !== undefined) {
    out.x5t = thumbprint(shown.cer);
    out.cer = shown.cer;
  }
  out.attributes = attributesOf(state, shown);
  if (shown.tags) out.tags = { ...shown.tags };
  out.policy = policyBody(base, record);
  out.contentType = record.policy.secret_props.contentType;
  return out;
}

/** A CertificateItem for list results; `withVersion` for list-versions, versionless otherwise. */
export function certificateItem(
  state: VaultState,
  base: string,
  record: CertificateRecord,
  version: CertificateVersionRecord,
  withVersion: boolean,
): Record<string, unknown> {
  const shown = withVersion ? version : currentCertificateVersion(record);
  const out: Record<string, unknown> = { id: certificateId(base, record.name, withVersion ? shown.version : undefined) };
  if (shown.cer !== undefined) out.x5t = thumbprint(shown.cer);
  out.attributes = attributesOf(state, shown);
  if (shown.tags) out.tags = { ...shown.tags };
  return out;
}

/** The CertificateOperation as the service returns it. */
export function operationBody(base: string, record: CertificateRecord, operation: CertificateOperationRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: `${certificateId(base, record.name)}/pending`,
    issuer: { ...operation.issuer },
    csr: operation.csr,
    cancellation_requested: operation.cancellationRequested,
    status: operation.status,
    status_details: operation.statusDetails ?? '',
    request_id: operation.requestId,
  };
  if (operation.error) out.error = { ...operation.error };
  if (operation.status === 'completed') out.target = certificateId(base, record.name);
  return out;
}

/** A policy copy for a version record (the policy is the certificate's, not a version's). */
export function clonePolicy(policy: CertificatePolicyWire): CertificatePolicyWire {
  return structuredClone(policy);
}
