/**
 * A certificate's secret (or file) as a private key and a chain: Key Vault hands a
 * certificate's secret out as `application/x-pkcs12` (base64 PFX, no password) or
 * `application/x-pem-file` (PEM: the private key, then the certificates). node:crypto parses
 * keys and certificates; pkcs12.ts opens PFX files.
 *
 * The chain is ordered leaf first: the leaf is the certificate whose public key matches the
 * private key (or, without one, the certificate that issued no other), then each issuer.
 *
 * @module
 * @internal
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { Pkcs12ReadError, readPkcs12 } from './pkcs12.js';

/** The two content types Key Vault uses for certificate secrets. */
export const CONTENT_TYPES = { pfx: 'application/x-pkcs12', pem: 'application/x-pem-file' } as const;

/** A parsed certificate secret. */
export interface CertificateContent {
  /** The private key; undefined when the secret holds none (a non-exportable key). */
  readonly privateKey: KeyObject | undefined;
  /** Leaf first, then issuers. Never empty. */
  readonly chain: readonly X509Certificate[];
}

/** Input that is not a certificate we can read; the message holds nothing from the input. */
export class ContentError extends Error {
  override readonly name = 'ContentError';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);

const spki = (key: KeyObject): Buffer => (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });

/** Leaf first, then its issuers (by subject/issuer match); unrelated certificates keep file order after them. */
function orderChain(certs: X509Certificate[], privateKey: KeyObject | undefined): X509Certificate[] {
  if (certs.length === 0) throw new ContentError('no certificate found');
  const own = privateKey === undefined ? undefined : spki(privateKey);
  let leaf = own === undefined ? undefined : certs.find((c) => spki(c.publicKey).equals(own));
  if (own !== undefined && leaf === undefined) throw new ContentError('no certificate matches the private key');
  leaf ??= certs.find((c) => !certs.some((o) => o !== c && o.checkIssued(c))) ?? certs[0]!;
  const chain = [leaf];
  const rest = certs.filter((c) => c !== leaf);
  for (;;) {
    const last = chain[chain.length - 1]!;
    if (last.checkIssued(last)) break; // self-signed: the end
    const i = rest.findIndex((c) => last.checkIssued(c));
    if (i < 0) break;
    chain.push(...rest.splice(i, 1));
  }
  return [...chain, ...rest];
}

/**
 * Reads PEM text: every CERTIFICATE block, and at most one private key.
 * @throws {ContentError} when nothing parses, two keys are present, or a key needs a passphrase we do not have.
 */
export function readPem(text: string, passphrase?: string): CertificateContent {
  const certs: X509Certificate[] = [];
  let privateKey: KeyObject | undefined;
  for (const [block, label] of text.matchAll(PEM_BLOCK)) {
    if (label === 'CERTIFICATE') {
      try {
        certs.push(new X509Certificate(block));
      } catch (err) {
        throw new ContentError('a CERTIFICATE block is not a valid X.509 certificate', { cause: err });
      }
    } else if (KEY_LABELS.has(label!)) {
      if (privateKey !== undefined) throw new ContentError('more than one private key');
      try {
        privateKey = createPrivateKey(passphrase === undefined ? block : { key: block, passphrase });
      } catch (err) {
        throw new ContentError(label === 'ENCRYPTED PRIVATE KEY' ? 'the private key is encrypted: wrong or missing password' : 'the private key is not valid', { cause: err });
      }
    }
  }
  return { privateKey, chain: orderChain(certs, privateKey) };
}

/**
 * Reads a PFX file.
 * @throws {ContentError} for anything that is not a PFX we can open (wrong password included).
 */
export async function readPfx(der: Uint8Array, password = ''): Promise<CertificateContent> {
  let content;
  try {
    content = await readPkcs12(der, password);
  } catch (err) {
    throw new ContentError(err instanceof Pkcs12ReadError ? err.message : 'not a PKCS#12 (PFX) file', { cause: err });
  }
  if (content.keys.length > 1) throw new ContentError('the PFX holds more than one private key');
  let privateKey: KeyObject | undefined;
  try {
    privateKey = content.keys[0] && createPrivateKey({ key: Buffer.from(content.keys[0]), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new ContentError('the PFX private key is not valid', { cause: err });
  }
  let certs: X509Certificate[];
  try {
    certs = content.certificates.map((der) => new X509Certificate(der));
  } catch (err) {
    throw new ContentError('a PFX certificate is not a valid X.509 certificate', { cause: err });
  }
  return { privateKey, chain: orderChain(certs, privateKey) };
}

/**
 * A Key Vault certificate secret: by its content type, else by its look (PEM starts with `-----BEGIN`).
 * @throws {ContentError}
 */
export function readSecretValue(value: string, contentType: string | undefined): Promise<CertificateContent> {
  const pem = contentType === CONTENT_TYPES.pem || (contentType !== CONTENT_TYPES.pfx && value.trimStart().startsWith('-----BEGIN'));
  if (pem) return Promise.resolve().then(() => readPem(value));
  const der = Buffer.from(value.replace(/\s+/g, ''), 'base64');
  if (der.length === 0) return Promise.reject(new ContentError('the secret is empty'));
  return readPfx(der);
}

/**
 * A file the user gives us (import): PEM text or PFX bytes, by its look.
 * @throws {ContentError}
 */
export function readCertificateFile(bytes: Uint8Array, password?: string): Promise<CertificateContent> {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN')) return Promise.resolve().then(() => readPem(Buffer.from(bytes).toString('utf8'), password));
  return readPfx(bytes, password ?? '');
}
