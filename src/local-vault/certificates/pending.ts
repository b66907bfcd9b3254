/**
 * The pending operation endpoints: get, cancel (PATCH `cancellation_requested`), delete, and
 * merge (`POST .../pending/merge`: the certificate a CA signed for the CSR, with its chain).
 *
 * @module
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { badParameter, VaultHttpError } from '../http/errors.js';
import { CERTIFICATE_OBJECTS, activeRecord } from '../service/object-types.js';
import { ok, type OperationContext, type OperationResult } from '../service/operation.js';
import { applyAttributes, parseTags } from '../service/requests.js';
import { certificateBundle, operationBody } from './bundles.js';
import { completeVersion } from './issue.js';
import { dropPendingVersion } from './operation.js';
import type { CertificateOperationRecord, CertificateRecord } from './records.js';
import { privateKeyObject } from './x509.js';

function pendingNotFound(name: string): VaultHttpError {
  return new VaultHttpError(404, 'PendingCertificateNotFound', `Pending certificate not found: ${name}`);
}

function operationOf(ctx: OperationContext): { record: CertificateRecord; operation: CertificateOperationRecord } {
  const record = ctx.state.certificates.get(ctx.name);
  if (!record || record.deleted || !record.operation) throw pendingNotFound(ctx.name);
  return { record, operation: record.operation };
}

/** `GET /certificates/{name}/pending`. @throws {VaultHttpError} 404 `PendingCertificateNotFound`. */
export function getCertificateOperation(ctx: OperationContext): OperationResult {
  const { record, operation } = operationOf(ctx);
  return ok(operationBody(ctx.base, record, operation));
}

/** `PATCH /certificates/{name}/pending`: `cancellation_requested: true` cancels an operation in progress. */
export function updateCertificateOperation(ctx: OperationContext): OperationResult {
  const { record, operation } = operationOf(ctx);
  const requested = ctx.body.cancellation_requested;
  if (typeof requested !== 'boolean') throw badParameter("The parameter 'cancellation_requested' is required and must be a boolean.");
  if (requested && operation.status === 'inProgress') {
    operation.cancellationRequested = true;
    operation.status = 'cancelled';
    operation.statusDetails = 'The certificate operation was cancelled.';
    ctx.state.markChanged();
  }
  return ok(operationBody(ctx.base, record, operation));
}

/** `DELETE /certificates/{name}/pending`: forgets the operation; a version it never completed goes too. */
export function deleteCertificateOperation(ctx: OperationContext): OperationResult {
  const { record, operation } = operationOf(ctx);
  const body = operationBody(ctx.base, record, operation);
  delete record.operation;
  dropPendingVersion(record, operation.version);
  if (record.versions.length === 0) ctx.state.certificates.delete(record.name);
  ctx.state.markChanged();
  return ok(body);
}

function certificatesOf(value: unknown): Buffer[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw badParameter("The parameter 'x5c' is required: the certificate (base64 DER) signed for the CSR, then its issuers.");
  }
  return (value as string[]).map((text) => {
    const der = Buffer.from(text, 'base64');
    try {
      return Buffer.from(new X509Certificate(der).raw);
    } catch {
      throw badParameter('An entry of x5c is not a base64 DER X.509 certificate.');
    }
  });
}

/**
 * `POST /certificates/{name}/pending/merge`: 201 with the completed certificate.
 *
 * @throws {VaultHttpError} 404 without an operation in progress; 400 when the certificate's
 *   public key is not the CSR's.
 */
export async function mergeCertificate(ctx: OperationContext): Promise<OperationResult> {
  const record = activeRecord(CERTIFICATE_OBJECTS, ctx.state, ctx.name);
  const operation = record.operation;
  const version = record.versions.find((v) => v.version === operation?.version);
  if (!operation || operation.status !== 'inProgress' || !version?.pendingKey) throw pendingNotFound(ctx.name);
  const [leaf, ...chain] = certificatesOf(ctx.body.x5c);
  const expected = createPublicKey(privateKeyObject(version.pendingKey)).export({ format: 'der', type: 'spki' });
  const leafKey = new X509Certificate(leaf as Buffer).publicKey.export({ format: 'der', type: 'spki' });
  if (!leafKey.equals(expected)) {
    throw badParameter("Public key from x509 certificate and key of this instance doesn't match.");
  }
  const now = ctx.state.now();
  const attributes = applyAttributes(ctx.body.attributes, version.attributes);
  const tags = parseTags(ctx.body.tags);
  await completeVersion(ctx.state, record, version, version.pendingKey, leaf as Buffer, chain, now);
  if (tags) version.tags = tags;
  version.attributes.enabled = attributes.enabled;
  operation.status = 'completed';
  delete operation.statusDetails;
  ctx.state.markChanged();
  return { status: 201, body: certificateBundle(ctx.state, ctx.base, record, version) };
}

