/**
 * What the vault stores for certificates. A certificate is three objects under one name: the
 * certificate record here (versions with the DER certificate and its issuer chain, the policy,
 * the pending operation), a key (a version in the keys collection, same version id, `managed`)
 * and a secret (the PFX or PEM, same version id, `managed`). Everything is plain JSON, so the
 * state file and backups serialise it as-is.
 *
 * The policy is kept in the service's wire shape (snake_case members) once validated and
 * completed with the service's defaults, so that responses echo it as the service does.
 *
 * @module
 */
import type { KeyMaterial } from '../crypto/key-material.js';
import type { ObjectVersionRecord, VersionedRecord } from '../service/objects.js';

/** The two content types of a certificate's secret. */
export type CertificateContentType = 'application/x-pkcs12' | 'application/x-pem-file';

/** A lifetime action as the service writes it. */
export interface LifetimeActionWire {
  trigger: { lifetime_percentage?: number; days_before_expiry?: number };
  action: { action_type: 'AutoRenew' | 'EmailContacts' };
}

/** A policy's subject alternative names in the wire shape (`uris` and `ipAddresses` since API 7.6). */
export interface SubjectAlternativeNamesWire { dns_names?: string[]; emails?: string[]; upns?: string[]; uris?: string[]; ipAddresses?: string[] }

/** A certificate policy in the service's wire shape, with every default filled in. */
export interface CertificatePolicyWire {
  key_props: { exportable: boolean; kty: 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM'; key_size?: number; crv?: string; reuse_key: boolean };
  secret_props: { contentType: CertificateContentType };
  x509_props: {
    subject: string;
    sans?: SubjectAlternativeNamesWire;
    ekus: string[];
    key_usage: string[];
    validity_months: number;
  };
  lifetime_actions: LifetimeActionWire[];
  issuer: { name: string; cty?: string; cert_transparency?: boolean };
  attributes: { enabled: boolean; created: number; updated: number };
}

/** One certificate version. A version without `cer` is pending (its operation is not complete). */
export interface CertificateVersionRecord extends ObjectVersionRecord {
  /** The certificate, DER in base64. */
  cer?: string;
  /** Issuer certificates above it (DER, base64), leaf's issuer first; empty when self-signed. */
  chain?: string[];
  /** The private key of a pending version, until the operation completes (then it moves to the key). */
  pendingKey?: KeyMaterial;
}

/** The state of a certificate operation. */
export type OperationStatus = 'inProgress' | 'completed' | 'failed' | 'cancelled';

/** The latest create/renew/import operation of a certificate. */
export interface CertificateOperationRecord {
  /** The version the operation makes. */
  version: string;
  issuer: CertificatePolicyWire['issuer'];
  /** The certificate signing request, DER in base64. */
  csr: string;
  status: OperationStatus;
  statusDetails?: string;
  cancellationRequested: boolean;
  error?: { code: string; message: string };
  requestId: string;
}

/** A certificate: versions (oldest first), policy, latest operation and deletion state. */
export interface CertificateRecord extends VersionedRecord<CertificateVersionRecord> {
  policy: CertificatePolicyWire;
  operation?: CertificateOperationRecord;
}

/** A named certificate issuer (stored, never contacted: the local vault has no CA). */
export interface IssuerRecord {
  name: string;
  provider: string;
  /** The CA account id; the password is never kept. */
  credentials?: { account_id?: string };
  org_details?: { id?: string; admin_details?: Record<string, unknown>[] };
  attributes: { enabled: boolean; created: number; updated: number };
}

/** One certificate contact. */
export interface ContactRecord {
  email?: string;
  name?: string;
  phone?: string;
}
