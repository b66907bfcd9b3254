/**
 * One certificate version ready for Node's TLS: the private key and the chain as PEM, with the
 * leaf's validity and fingerprint. The key is never printed: `util.inspect`, `JSON.stringify`
 * and `String()` show the public description only, and `key` is not enumerable.
 *
 * @module
 */
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';

/** The public description of a {@link TlsMaterial}. */
export interface TlsMaterialInfo {
  /** The certificate version (Key Vault's version id). */
  version: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf, colon-separated hex (Node's `X509Certificate.fingerprint256`). */
  fingerprint256: string;
}

/** A certificate version as Node's TLS takes it. */
export class TlsMaterial {
  /** The certificate version. */
  readonly version: string;
  /** The chain, leaf first, PEM. */
  readonly cert: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprint256: string;
  /** The leaf's DER (what a TLS peer's `getPeerCertificate().raw` holds). */
  readonly raw: Uint8Array;
  readonly #key: string;

  /** @internal */
  constructor(version: string, privateKey: KeyObject, chain: readonly X509Certificate[]) {
    const leaf = chain[0]!;
    this.version = version;
    this.#key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.cert = chain.map((c) => c.toString()).join('');
    this.subject = leaf.subject;
    this.notBefore = new Date(leaf.validFrom);
    this.notAfter = new Date(leaf.validTo);
    this.fingerprint256 = leaf.fingerprint256;
    this.raw = new Uint8Array(leaf.raw);
  }

  /** The private key, PKCS#8 PEM. Hand it to TLS only; never log it. */
  get key(): string {
    return this.#key;
  }

  /** `{ key, cert }` for `https.createServer`, `tls.createSecureContext` or `server.setSecureContext`. */
  secureContextOptions(): { key: string; cert: string } {
    return { key: this.#key, cert: this.cert };
  }

  /** SHA-256 of the leaf's DER, base64url (the JOSE `x5t#S256`). */
  get x5tS256(): string {
    return createHash('sha256').update(this.raw).digest('base64url');
  }

  /** Public description only (no key). */
  toJSON(): TlsMaterialInfo {
    return { version: this.version, subject: this.subject, notBefore: this.notBefore, notAfter: this.notAfter, fingerprint256: this.fingerprint256 };
  }

  toString(): string {
    return `TlsMaterial(${this.subject}, version ${this.version}, notAfter ${this.notAfter.toISOString()})`;
  }

  [inspect.custom](_depth: number, opts: InspectOptions): string {
    return `TlsMaterial ${inspect(this.toJSON(), opts)}`;
  }
}
