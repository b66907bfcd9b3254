/**
 * X.509 for the certificates data plane: the self-signed certificate of a policy, the
 * certificate signing request of a pending operation, and the node:crypto KeyObjects of the
 * vault's key material. Structures are `@peculiar/asn1-x509` / `@peculiar/asn1-csr` objects (DER
 * encoding); signatures come from node:crypto. Reading certificates is node:crypto's
 * `X509Certificate`.
 *
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Attribute,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import type { KeyMaterial } from '../crypto/key-material.js';
import { generalNames, subjectName } from './names.js';
import type { CertificatePolicyWire } from './records.js';

const NODE_CURVES: Record<string, string> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', 'P-256K': 'secp256k1' };
// Signature algorithm per key: sha256WithRSAEncryption; ECDSA with the curve's hash (RFC 5758).
const SIGNATURES: Record<string, { oid: string; hash: string }> = {
  RSA: { oid: '1.2.840.113549.1.1.11', hash: 'sha256' },
  'P-256': { oid: '1.2.840.10045.4.3.2', hash: 'sha256' },
  'P-256K': { oid: '1.2.840.10045.4.3.2', hash: 'sha256' },
  'P-384': { oid: '1.2.840.10045.4.3.3', hash: 'sha384' },
  'P-521': { oid: '1.2.840.10045.4.3.4', hash: 'sha512' },
};
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** The node:crypto private KeyObject of RSA or EC material. */
export function privateKeyObject(material: KeyMaterial): KeyObject {
  if (material.kty === 'oct') throw new TypeError('certificates have RSA or EC keys');
  const jwk = material.kty === 'EC' ? { ...material, crv: NODE_CURVES[material.crv] } : { ...material };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function signatureOf(material: KeyMaterial): { identifier: AlgorithmIdentifier; hash: string } {
  const { oid, hash } = SIGNATURES[material.kty === 'EC' ? material.crv : 'RSA'] as { oid: string; hash: string };
  // RFC 4055 §5: the RSA PKCS#1 v1.5 signature algorithms carry NULL parameters; ECDSA none (RFC 5758).
  return { identifier: new AlgorithmIdentifier(material.kty === 'RSA' ? { algorithm: oid, parameters: null } : { algorithm: oid }), hash };
}

function extension(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function keyUsageFlags(usages: readonly string[]): number {
  const flags = KeyUsageFlags as unknown as Record<string, number>;
  return usages.reduce((bits, usage) => bits | (flags[usage] ?? 0), 0);
}

/** The extensions a policy asks for (what the service puts in the certificate and the CSR). */
function policyExtensions(policy: CertificatePolicyWire, spki: SubjectPublicKeyInfo): Extension[] {
  const x509 = policy.x509_props;
  const out = [extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false }))];
  if (x509.key_usage.length > 0) out.push(extension(id_ce_keyUsage, true, new KeyUsage(keyUsageFlags(x509.key_usage))));
  if (x509.ekus.length > 0) out.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(x509.ekus)));
  const names = generalNames(x509.sans ?? {});
  // RFC 5280 §4.2.1.6: with an empty subject, the SAN extension is critical.
  if (names.length > 0) out.push(extension(id_ce_subjectAltName, x509.subject === '', new SubjectAlternativeName(names)));
  const keyId = createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();
  out.push(extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(keyId))));
  return out;
}

function spkiOf(material: KeyMaterial): SubjectPublicKeyInfo {
  const der = createPublicKey(privateKeyObject(material)).export({ format: 'der', type: 'spki' });
  return AsnConvert.parse(der, SubjectPublicKeyInfo);
}

/** `date` plus `months` calendar months (UTC). */
export function addMonths(seconds: number, months: number): number {
  const date = new Date(seconds * 1000);
  date.setUTCMonth(date.getUTCMonth() + months);
  return Math.floor(date.getTime() / 1000);
}

/**
 * The self-signed certificate (DER) of `policy` for `material`, valid from `now` for the
 * policy's months.
 */
export function selfSignedCertificate(policy: CertificatePolicyWire, material: KeyMaterial, now: number): Buffer {
  const algorithm = signatureOf(material);
  const signature = algorithm.identifier;
  const spki = spkiOf(material);
  const name = subjectName(policy.x509_props.subject);
  const serial = randomBytes(16);
  // DER INTEGER: positive and minimal (see transport/certificate.ts).
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature,
    issuer: name,
    subject: name,
    validity: new Validity({ notBefore: new Date(now * 1000), notAfter: new Date(addMonths(now, policy.x509_props.validity_months) * 1000) }),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(policyExtensions(policy, spki)),
  });
  const value = sign(algorithm.hash, Buffer.from(AsnConvert.serialize(tbsCertificate)), { key: privateKeyObject(material), dsaEncoding: 'der' });
  const certificate = new Certificate({ tbsCertificate, signatureAlgorithm: signature, signatureValue: new Uint8Array(value).buffer });
  return Buffer.from(AsnConvert.serialize(certificate));
}

/** The PKCS#10 certificate signing request (DER) of `policy` for `material`. */
export function certificateSigningRequest(policy: CertificatePolicyWire, material: KeyMaterial): Buffer {
  const algorithm = signatureOf(material);
  const spki = spkiOf(material);
  const extensions = new Extensions(policyExtensions(policy, spki));
  const info = new CertificationRequestInfo({
    version: 0,
    subject: subjectName(policy.x509_props.subject),
    subjectPKInfo: spki,
  });
  info.attributes.push(new Attribute({ type: EXTENSION_REQUEST, values: [AsnConvert.serialize(extensions)] }));
  const value = sign(algorithm.hash, Buffer.from(AsnConvert.serialize(info)), { key: privateKeyObject(material), dsaEncoding: 'der' });
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: algorithm.identifier,
    signature: new Uint8Array(value).buffer,
  });
  return Buffer.from(AsnConvert.serialize(request));
}
