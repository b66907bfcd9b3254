/**
 * The value of a certificate's secret and the value of an import: PKCS#12 (base64 PFX, no
 * password) or PEM (the PKCS#8 private key, then the certificate and its chain). A
 * non-exportable key is left out: the service documents that the private key "isn't part of the
 * value" of such a certificate's secret. Imports accept either form, PFX with or without a
 * password and PEM with a plain or encrypted private key.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { importMaterial, type KeyMaterial } from '../crypto/key-material.js';
import { badParameter } from '../http/errors.js';
import { buildPfx, readPfx } from './pkcs12.js';
import type { CertificateContentType } from './records.js';
import { privateKeyObject } from './x509.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The secret value for `certificates` (DER, leaf first) and, when exportable, the key.
 */
export async function certificateSecretValue(contentType: CertificateContentType, certificates: Buffer[], material: KeyMaterial | undefined): Promise<string> {
  const privateKey = material ? privateKeyObject(material).export({ format: 'der', type: 'pkcs8' }) : undefined;
  if (contentType === 'application/x-pem-file') {
    return (privateKey ? pem('PRIVATE KEY', privateKey) : '') + certificates.map((der) => pem('CERTIFICATE', der)).join('');
  }
  return (await buildPfx(privateKey ? { privateKey, certificates } : { certificates })).toString('base64');
}

/** An imported certificate: its key material, the leaf and the rest of the chain (DER). */
export interface ImportedCertificate {
  material: KeyMaterial;
  leaf: Buffer;
  chain: Buffer[];
}

function materialOf(key: KeyObject): KeyMaterial {
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') throw badParameter('The private key of a certificate must be an RSA or EC key.');
  if (jwk.kty === 'EC' && !['P-256', 'P-384', 'P-521'].includes(String(jwk.crv))) {
    throw badParameter(`The curve of the certificate's key is not supported by this vault. Use P-256, P-384 or P-521.`);
  }
  return importMaterial(jwk.kty, jwk);
}

function samePublicKey(certificate: Buffer, key: KeyObject): boolean {
  const spki = (k: KeyObject): Buffer => k.export({ format: 'der', type: 'spki' });
  return new X509Certificate(certificate).publicKey.export({ format: 'der', type: 'spki' }).equals(spki(createPublicKey(key)));
}

function assemble(key: KeyObject | undefined, certificates: Buffer[]): ImportedCertificate {
  if (!key) throw badParameter('Private key is not specified in the specified X.509 certificate content. Please specify the private key in the certificate content.');
  const leaf = certificates.find((der) => samePublicKey(der, key));
  if (!leaf) throw badParameter("The specified certificate content has no certificate whose public key matches the private key.");
  return { material: materialOf(key), leaf, chain: certificates.filter((der) => der !== leaf) };
}

function readPem(text: string, password: string | undefined): ImportedCertificate {
  let key: KeyObject | undefined;
  const certificates: Buffer[] = [];
  for (const [block, label] of text.matchAll(PEM_BLOCK)) {
    if (label === 'CERTIFICATE') {
      certificates.push(Buffer.from(new X509Certificate(block).raw));
    } else if (label?.endsWith('PRIVATE KEY')) {
      try {
        key = createPrivateKey(password === undefined ? { key: block } : { key: block, passphrase: password });
      } catch {
        throw badParameter('The private key in the specified PEM content could not be read: it is damaged, or encrypted and the password is missing or wrong.');
      }
    }
  }
  return assemble(key, certificates);
}

/**
 * Reads an import's `value`: PEM text, or a base64 PFX protected by `password`.
 *
 * @throws {VaultHttpError} 400 for unreadable content, a wrong password, a missing private key,
 *   or a key that matches none of the certificates.
 */
export async function readImportedCertificate(value: unknown, password: string | undefined): Promise<ImportedCertificate> {
  if (typeof value !== 'string' || value.trim() === '') throw badParameter("The parameter 'value' is required: the base64 PFX or the PEM of the certificate.");
  try {
    if (value.includes('-----BEGIN')) return readPem(value, password);
  } catch (error) {
    if (error instanceof Error && error.name === 'VaultHttpError') throw error;
    throw badParameter('The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format.');
  }
  const contents = await readPfx(Buffer.from(value, 'base64'), password ?? '');
  const key = contents.privateKey ? createPrivateKey({ key: contents.privateKey, format: 'der', type: 'pkcs8' }) : undefined;
  return assemble(key, contents.certificates);
}
