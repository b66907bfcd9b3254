/**
 * Reads a PKCS#12 (PFX) file with pkijs (RFC 7292): the MAC is checked with the password, then
 * every SafeContents (plain, or password-encrypted with PBES2) is opened and its key bag
 * (plain or shrouded) and certificate bags are returned as DER. Only glue is ours: pkijs
 * decrypts, node:crypto parses the results.
 *
 * Legacy PKCS#12 encryption (pbeWithSHAAnd3-KeyTripleDES-CBC, RC2-40: OpenSSL 1.x and older
 * Windows exports) is not read by pkijs: such files fail with a message that says so (export
 * them again with AES, e.g. `openssl pkcs12 -export` of OpenSSL 3, or use PEM).
 *
 * pkijs is loaded on first use: importing kv-envelope/certificates (or starting the CLI) does
 * not pay for it.
 *
 * @module
 * @internal
 */
import type { PrivateKeyInfo, SafeContents } from 'pkijs';

/** What a PFX holds. */
export interface Pkcs12Content {
  /** PKCS#8 DER of each private key (usually one). */
  readonly keys: Uint8Array[];
  /** DER of each certificate, in file order. */
  readonly certificates: Uint8Array[];
}

const BAG_KEY = '1.2.840.113549.1.12.10.1.1';
const BAG_SHROUDED_KEY = '1.2.840.113549.1.12.10.1.2';
const BAG_CERT = '1.2.840.113549.1.12.10.1.3';
/** x509Certificate in a CertBag (RFC 7292 §4.2.3). */
const CERT_X509 = '1.2.840.113549.1.9.22.1';
const LEGACY_PBE = /1\.2\.840\.113549\.1\.12\.1\.\d/;

/** A copy on a fresh ArrayBuffer (pkijs wants ArrayBuffer-backed views). */
const bytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array<ArrayBuffer> => {
  const view = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
};

/** Why a failure happened, in words that contain nothing from the file. */
export class Pkcs12ReadError extends Error {
  override readonly name = 'Pkcs12ReadError';
}

/**
 * The keys and certificates of `der`, opened with `password` ('' for none).
 * @throws {Pkcs12ReadError} for anything that is not a PFX we can open (wrong password included).
 */
export async function readPkcs12(der: Uint8Array, password: string): Promise<Pkcs12Content> {
  const pass = bytes(new TextEncoder().encode(password)).buffer;
  const { PFX } = await import('pkijs');
  let pfx: InstanceType<typeof PFX>;
  try {
    pfx = PFX.fromBER(bytes(der));
  } catch (err) {
    throw new Pkcs12ReadError('not a PKCS#12 (PFX) file', { cause: err });
  }
  try {
    await pfx.parseInternalValues({ password: pass, checkIntegrity: true });
  } catch (err) {
    throw new Pkcs12ReadError('the PFX integrity check failed: wrong password, or the file is damaged', { cause: err });
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (safe === undefined) throw new Pkcs12ReadError('the PFX holds no authenticated safe');
  try {
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pass })) });
  } catch (err) {
    const legacy = LEGACY_PBE.test(JSON.stringify(safe.toJSON()));
    throw new Pkcs12ReadError(legacy
      ? 'the PFX uses legacy PKCS#12 encryption (3DES/RC2), which is not supported: export it with AES (OpenSSL 3 does by default) or use PEM'
      : 'the PFX contents could not be decrypted', { cause: err });
  }
  const keys: Uint8Array[] = [];
  const certificates: Uint8Array[] = [];
  const contents = (safe.parsedValue?.safeContents ?? []) as { value: SafeContents }[];
  for (const { value } of contents) {
    for (const bag of value.safeBags) {
      if (bag.bagId === BAG_KEY) keys.push(bytes((bag.bagValue as PrivateKeyInfo).toSchema().toBER(false)));
      else if (bag.bagId === BAG_SHROUDED_KEY) {
        const shrouded = bag.bagValue as unknown as { parseInternalValues(p: { password: ArrayBuffer }): Promise<void>; parsedValue?: PrivateKeyInfo };
        try {
          await shrouded.parseInternalValues({ password: pass });
        } catch (err) {
          throw new Pkcs12ReadError('the PFX private key could not be decrypted (legacy 3DES/RC2 encryption is not supported)', { cause: err });
        }
        if (shrouded.parsedValue !== undefined) keys.push(bytes(shrouded.parsedValue.toSchema().toBER(false)));
      } else if (bag.bagId === BAG_CERT) {
        const cert = bag.bagValue as unknown as { certId: string; certValue: { toSchema?: () => { toBER(s: boolean): ArrayBuffer }; valueBlock?: { valueHexView: Uint8Array } } };
        if (cert.certId !== CERT_X509) continue;
        const v = cert.certValue;
        const der = v.valueBlock?.valueHexView ?? (v.toSchema === undefined ? undefined : new Uint8Array(v.toSchema().toBER(false)));
        if (der !== undefined) certificates.push(bytes(der));
      }
    }
  }
  return { keys, certificates };
}
