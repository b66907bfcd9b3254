/**
 * The versions of a Key Vault certificate, for the key ring. Key Vault gives every certificate
 * version a key version of the same name and version id (the certificate's `kid`), so a
 * renewal is a rotation: `listPropertiesOfCertificateVersions` lists them with the
 * certificate's validity as nbf/exp, and `getCertificateVersion` gives the leaf (`cer`) whose
 * public key the JWKS publishes, with `x5c` and `x5t#S256`.
 *
 * Only certificate metadata is read (Key Vault Certificate User or Reader-level
 * `certificates/read`); the private key never leaves the vault (signing is a `keys/sign` on the
 * kid). `x5c` is the leaf alone (RFC 7517 §4.7 requires only it): the rest of a CA-issued chain
 * is only in the certificate's secret, which holds the private key, and a signer need not read it.
 *
 * @module
 * @internal
 */
import type { CertificateClient, CertificateProperties } from '@azure/keyvault-certificates';
import { type ParsedKeyId, parseKeyId, versionedId, versionlessId } from '../../azure/internal/key-id.js';
import { KekUnavailableError } from '../../errors.js';
import type { PublicKeyMaterial } from '../jwks/jwk.js';
import { materialFromCertificate } from '../jwks/x509.js';
import type { VaultCall, VersionSource } from './key-ring.js';
import { keyTimes } from './key-source.js';
import type { VersionTimes } from './schedule.js';

/** The versions of one certificate; `key` is `{ origin, name: certificateName }`. */
export class CertificateSource implements VersionSource {
  readonly #key: ParsedKeyId;
  readonly #client: CertificateClient;
  readonly #call: VaultCall;

  constructor(key: ParsedKeyId, client: CertificateClient, call: VaultCall) {
    this.#key = key;
    this.#client = client;
    this.#call = call;
  }

  /** `https://host/certificates/name` (for messages). */
  get id(): string {
    return `${this.#key.origin}/certificates/${this.#key.name}`;
  }

  async list(now: number): Promise<VersionTimes[]> {
    const listed = await this.#call('listCertificateVersions', this.id, undefined, async (s) => {
      const out: CertificateProperties[] = [];
      for await (const p of this.#client.listPropertiesOfCertificateVersions(this.#key.name, { abortSignal: s })) out.push(p);
      return out;
    });
    return listed.filter((p) => typeof p.version === 'string' && p.version !== '').map((p) => keyTimes(p, now, this.id));
  }

  kid(version: string): string {
    return versionedId(this.#key, version);
  }

  async material(version: string): Promise<PublicKeyMaterial> {
    const where = `${this.id}/${version}`;
    const cert = await this.#call('getCertificate', where, undefined, (s) => this.#client.getCertificateVersion(this.#key.name, version, { abortSignal: s }));
    // The certificate's kid must be the key version we will sign with (Key Vault: same name and version).
    const kid = parseKeyId(cert.keyId);
    const expected = this.kid(version);
    if (kid === undefined || kid.version === undefined || versionedId(kid).toLowerCase() !== expected.toLowerCase()) {
      throw new KekUnavailableError(`${where}: its key id is not ${versionlessId(this.#key)}/${version}`);
    }
    return materialFromCertificate(cert.cer, expected);
  }
}
