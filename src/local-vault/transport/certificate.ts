/**
 * A self-signed TLS certificate for the HTTPS transport. The key pair and the signature come
 * from node:crypto (ECDSA P-256 with SHA-256); only the X.509 structure is built with
 * `@peculiar/asn1-x509` (DER encoding), which node:crypto cannot produce. Loaded lazily, so the
 * in-process transport works without it.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

/** A certificate and its private key, both PEM. */
export interface TlsIdentity {
  certPem: string;
  keyPem: string;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const VALIDITY_MS = 365 * 86_400_000;

/** The names a local vault certificate covers: localhost, *.localhost, 127.0.0.1, ::1 and `host`. */
export function certificateHosts(host: string | undefined): string[] {
  const hosts = ['localhost', '*.localhost', '127.0.0.1', '::1'];
  if (host && !hosts.includes(host)) hosts.push(host);
  return hosts;
}

function pem(der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

async function loadAsn1(): Promise<{ schema: typeof import('@peculiar/asn1-schema'); x509: typeof import('@peculiar/asn1-x509') }> {
  try {
    const [schema, x509] = await Promise.all([import('@peculiar/asn1-schema'), import('@peculiar/asn1-x509')]);
    return { schema, x509 };
  } catch (cause) {
    throw new Error(
      "The local vault's https transport needs the packages '@peculiar/asn1-x509' and '@peculiar/asn1-schema' to build its certificate; install them or use transport 'in-process'.",
      { cause },
    );
  }
}

/** Generates a self-signed certificate (CA:TRUE, serverAuth) whose SANs are `hosts`, valid one year. */
export async function createSelfSignedCertificate(hosts: readonly string[], now = Date.now()): Promise<TlsIdentity> {
  const { schema, x509 } = await loadAsn1();
  const { AsnConvert, OctetString } = schema;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = new x509.Name([
    new x509.RelativeDistinguishedName([
      new x509.AttributeTypeAndValue({ type: COMMON_NAME, value: new x509.AttributeValue({ utf8String: 'kv-envelope local vault' }) }),
    ]),
  ]);
  const algorithm = new x509.AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const serial = randomBytes(16);
  // DER INTEGER: positive (top bit clear) and minimal (no leading zero byte). A first byte of 0x00
  // followed by one < 0x80 made OpenSSL refuse ~1 in 256 certificates ("illegal padding").
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  const extension = (extnID: string, critical: boolean, value: object): InstanceType<typeof x509.Extension> =>
    new x509.Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
  const altNames = hosts.map((h) => new x509.GeneralName(isIP(h) ? { iPAddress: h } : { dNSName: h }));
  const tbsCertificate = new x509.TBSCertificate({
    version: x509.Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: algorithm,
    issuer: name,
    subject: name,
    validity: new x509.Validity({ notBefore: new Date(now - 3_600_000), notAfter: new Date(now + VALIDITY_MS) }),
    subjectPublicKeyInfo: AsnConvert.parse(publicKey.export({ format: 'der', type: 'spki' }), x509.SubjectPublicKeyInfo),
    extensions: new x509.Extensions([
      extension(x509.id_ce_basicConstraints, true, new x509.BasicConstraints({ cA: true })),
      extension(x509.id_ce_extKeyUsage, false, new x509.ExtendedKeyUsage([x509.id_kp_serverAuth])),
      extension(x509.id_ce_subjectAltName, false, new x509.SubjectAlternativeName(altNames)),
    ]),
  });
  const signature = sign('sha256', Buffer.from(AsnConvert.serialize(tbsCertificate)), privateKey);
  const certificate = new x509.Certificate({ tbsCertificate, signatureAlgorithm: algorithm, signatureValue: new Uint8Array(signature).buffer });
  const certPem = pem(new Uint8Array(AsnConvert.serialize(certificate)));
  return { certPem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** Whether a stored certificate still covers `hosts` and stays valid for at least a day. */
export function certificateUsable(identity: TlsIdentity, hosts: readonly string[], now = Date.now()): boolean {
  try {
    const cert = new X509Certificate(identity.certPem);
    const dnsNames = new Set((cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)));
    const covered = hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : dnsNames.has(h)));
    return covered && Date.parse(cert.validTo) - now > 86_400_000;
  } catch {
    return false;
  }
}
