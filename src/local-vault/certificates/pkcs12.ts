/**
 * PKCS#12 (PFX) for certificate secrets and imports, built and read with pkijs: the private key
 * in a PKCS8ShroudedKeyBag (PBES2: PBKDF2-SHA-256, AES-256-CBC), the certificates in CertBags,
 * integrity by HMAC-SHA-256 under the password (RFC 7292 §B KDF; the empty password for the
 * vault's own PFX, as the service hands it out). What OpenSSL 3 writes by default reads back;
 * the legacy RC2/3DES encryptions (`openssl pkcs12 -legacy`) do not.
 *
 * pkijs is an ES module loaded on first use, so that loading the local vault stays cheap.
 *
 * @module
 */
import { badParameter } from '../http/errors.js';

type Pkijs = typeof import('pkijs');

const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const ITERATIONS = 2048;

let loaded: Promise<Pkijs> | undefined;
function pkijs(): Promise<Pkijs> {
  loaded ??= import('pkijs');
  return loaded;
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The contents of a PFX: the PKCS#8 private key (when present) and the certificates, leaf first as stored. */
export interface PfxContents {
  privateKey?: Buffer;
  certificates: Buffer[];
}

/**
 * A PFX (DER) holding `privateKey` (PKCS#8 DER; omitted for a non-exportable key) and
 * `certificates` (DER, leaf first), protected by `password` (empty by default).
 */
export async function buildPfx(contents: PfxContents, password = ''): Promise<Buffer> {
  const lib = await pkijs();
  const secret = arrayBuffer(Buffer.from(password, 'utf8'));
  const safeContents: { privacyMode: number; value: InstanceType<Pkijs['SafeContents']> }[] = [];
  if (contents.privateKey) {
    const keyBag = new lib.PKCS8ShroudedKeyBag({ parsedValue: lib.PrivateKeyInfo.fromBER(arrayBuffer(contents.privateKey)) });
    await keyBag.makeInternalValues({
      password: secret,
      // pkijs draws the IV itself; its type asks for one all the same.
      contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 } as import('pkijs').ContentEncryptionAlgorithm,
      hmacHashAlgorithm: 'SHA-256',
      iterationCount: ITERATIONS,
    });
    safeContents.push({ privacyMode: 0, value: new lib.SafeContents({ safeBags: [new lib.SafeBag({ bagId: SHROUDED_KEY_BAG, bagValue: keyBag })] }) });
  }
  const certBags = contents.certificates.map(
    (der) => new lib.SafeBag({ bagId: CERT_BAG, bagValue: new lib.CertBag({ parsedValue: lib.Certificate.fromBER(arrayBuffer(der)) }) }),
  );
  safeContents.push({ privacyMode: 0, value: new lib.SafeContents({ safeBags: certBags }) });
  const authenticatedSafe = new lib.AuthenticatedSafe({ parsedValue: { safeContents } });
  await authenticatedSafe.makeInternalValues({ safeContents: safeContents.map(() => ({})) });
  const pfx = new lib.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues({ password: secret, iterations: ITERATIONS, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256' });
  return Buffer.from(pfx.toSchema().toBER(false));
}

const UNREADABLE =
  'The specified PKCS#12 (PFX) content could not be read: the password is wrong, or the data is damaged or uses an encryption this vault does not support (OpenSSL 3 defaults are supported; -legacy RC2/3DES is not).';

/**
 * Reads a PFX protected by `password`.
 *
 * @throws {VaultHttpError} 400 BadParameter for a wrong password, damaged data or an
 *   unsupported encryption (the message never contains the password).
 */
export async function readPfx(der: Buffer, password = ''): Promise<PfxContents> {
  const lib = await pkijs();
  const secret = arrayBuffer(Buffer.from(password, 'utf8'));
  const out: PfxContents = { certificates: [] };
  try {
    const pfx = lib.PFX.fromBER(arrayBuffer(der));
    await pfx.parseInternalValues({ password: secret, checkIntegrity: pfx.macData !== undefined });
    const authenticatedSafe = pfx.parsedValue?.authenticatedSafe;
    if (!authenticatedSafe) throw new Error('no authenticated safe');
    await authenticatedSafe.parseInternalValues({ safeContents: authenticatedSafe.safeContents.map(() => ({ password: secret })) });
    for (const { value } of authenticatedSafe.parsedValue?.safeContents ?? []) {
      for (const bag of value.safeBags) {
        if (bag.bagId === SHROUDED_KEY_BAG && bag.bagValue instanceof lib.PKCS8ShroudedKeyBag) {
          await bag.bagValue.parseInternalValues({ password: secret });
          const info = bag.bagValue.parsedValue;
          if (info) out.privateKey = Buffer.from(info.toSchema().toBER(false));
        } else if (bag.bagId === KEY_BAG && bag.bagValue instanceof lib.PrivateKeyInfo) {
          out.privateKey = Buffer.from(bag.bagValue.toSchema().toBER(false));
        } else if (bag.bagId === CERT_BAG && bag.bagValue instanceof lib.CertBag) {
          const value = bag.bagValue.parsedValue;
          if (value instanceof lib.Certificate) out.certificates.push(Buffer.from(value.toSchema().toBER(false)));
        }
      }
    }
  } catch {
    throw badParameter(UNREADABLE);
  }
  return out;
}
