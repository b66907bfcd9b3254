/** Pieces of `kv-envelope cert`: the policy from the options, SAN checks, display, and the download formats. */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { CertificatePolicy, KeyVaultCertificate, KeyVaultCertificateWithPolicy } from '@azure/keyvault-certificates';
import { type CertificateContent, ContentError, readSecretValue } from '../../certificates/internal/content.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { intOption } from '../args.js';
import { CommandError, UsageError } from '../errors.js';

/** RFC 1123 host names; a wildcard only as the whole left-most label. */
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const MAILBOX = /^[^\s@]{1,64}@[^\s@]{1,253}$/;
const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;
// The CLI's --san prefixes for the client's subjectAlternativeNames fields (also how `show` prints them).
const SAN_KINDS: Record<string, string> = { dnsNames: 'dns', emails: 'email', userPrincipalNames: 'upn', uniformResourceIdentifiers: 'uri', ipAddresses: 'ip' };
type SubjectAlternativeNamesOut = Partial<Record<'dnsNames' | 'emails' | 'userPrincipalNames' | 'uniformResourceIdentifiers' | 'ipAddresses', string[]>>;

function dnsName(value: string): string {
  const labels = value.split('.');
  const ok = value.length <= 253 && labels.length >= 1 && labels.every((l, i) => (i === 0 && l === '*' && labels.length > 2) || DNS_LABEL.test(l));
  if (!ok) throw new UsageError(`--san dns:${escapeUntrusted(value)} is not a valid DNS name (letters, digits and dashes per label; a wildcard only as "*.example.com")`);
  return value;
}

/** `--san dns:… | email:… | upn:… | uri:… | ip:…` as Key Vault's subjectAlternativeNames. */
export function subjectAlternativeNames(sans: readonly string[]): SubjectAlternativeNamesOut | undefined {
  if (sans.length === 0) return undefined;
  const out = { dnsNames: [] as string[], emails: [] as string[], userPrincipalNames: [] as string[], uniformResourceIdentifiers: [] as string[], ipAddresses: [] as string[] };
  for (const san of sans) {
    const i = san.indexOf(':');
    const kind = i < 0 ? '' : san.slice(0, i).toLowerCase();
    const value = san.slice(i + 1);
    if (kind === 'dns') out.dnsNames.push(dnsName(value));
    else if ((kind === 'email' || kind === 'upn') && MAILBOX.test(value)) (kind === 'email' ? out.emails : out.userPrincipalNames).push(value);
    else if (kind === 'email' || kind === 'upn') throw new UsageError(`--san ${kind}:${escapeUntrusted(value)} is not a valid ${kind === 'email' ? 'e-mail address' : 'user principal name (user@domain)'}`);
    else if (kind === 'uri' && URI.test(value) && URL.canParse(value)) out.uniformResourceIdentifiers.push(value);
    else if (kind === 'uri') throw new UsageError(`--san uri:${escapeUntrusted(value)} is not a valid URI (scheme:rest, e.g. spiffe://example.com/api)`);
    else if (kind === 'ip' && isIP(value) !== 0) out.ipAddresses.push(value);
    else if (kind === 'ip') throw new UsageError(`--san ip:${escapeUntrusted(value)} is not a valid IP address (IPv4 or IPv6)`);
    else throw new UsageError(`--san expects dns:NAME, email:ADDRESS, upn:USER@DOMAIN, uri:URI or ip:ADDRESS, got "${escapeUntrusted(san)}"`);
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v.length > 0));
}

/** What `cert create` takes. */
export interface CreateValues {
  subject?: string;
  san?: string[];
  'validity-months'?: string;
  'key-type'?: string;
  size?: string;
  curve?: string;
  pem?: boolean;
  'not-exportable'?: boolean;
}

/**
 * The policy of `cert create` (issuer Self), checked before any vault call.
 * @throws {UsageError}
 */
export function createPolicy(v: CreateValues): CertificatePolicy {
  const subject = v.subject;
  if (subject === undefined || !/^\s*[A-Za-z][A-Za-z0-9.]*\s*=/.test(subject)) throw new UsageError('cert create needs --subject "CN=…" (an X.500 name, e.g. "CN=api.example.com, O=Example")');
  const months = intOption(v['validity-months'], 'validity-months') ?? 12;
  if (months > 120) throw new UsageError('--validity-months is at most 120');
  const keyType = v['key-type'] ?? 'RSA';
  const size = intOption(v.size, 'size');
  let key: Pick<CertificatePolicy, 'keyType' | 'keySize' | 'keyCurveName'>;
  if (keyType === 'RSA') {
    if (v.curve !== undefined) throw new UsageError('--curve applies to --key-type EC');
    if (size !== undefined && ![2048, 3072, 4096].includes(size)) throw new UsageError('--size for RSA is 2048, 3072 or 4096');
    key = { keyType: 'RSA', keySize: size ?? 2048 };
  } else if (keyType === 'EC') {
    if (size !== undefined) throw new UsageError('--size applies to RSA; use --curve for EC');
    const curve = v.curve ?? 'P-256';
    if (!['P-256', 'P-384', 'P-521', 'P-256K'].includes(curve)) throw new UsageError('--curve is P-256, P-384, P-521 or P-256K');
    key = { keyType: 'EC', keyCurveName: curve as CertificatePolicy['keyCurveName'] };
  } else {
    throw new UsageError(`--key-type is RSA or EC, got "${escapeUntrusted(keyType)}"`);
  }
  const sans = subjectAlternativeNames(v.san ?? []);
  return {
    issuerName: 'Self',
    subject: subject.trim(),
    ...(sans === undefined ? {} : { subjectAlternativeNames: sans }),
    validityInMonths: months,
    ...key,
    exportable: v['not-exportable'] !== true,
    reuseKey: false,
    contentType: v.pem === true ? 'application/x-pem-file' : 'application/x-pkcs12',
  } as CertificatePolicy;
}

/** The JSON form of a certificate. */
export function summary(c: KeyVaultCertificate | KeyVaultCertificateWithPolicy) {
  const p = c.properties;
  const policy = 'policy' in c ? c.policy : undefined;
  return {
    name: c.name,
    id: c.id,
    version: p.version,
    subject: policy?.subject,
    subjectAlternativeNames: policy?.subjectAlternativeNames,
    x509Thumbprint: p.x509ThumbprintString ?? (p.x509Thumbprint ? Buffer.from(p.x509Thumbprint).toString('hex').toUpperCase() : undefined),
    notBefore: p.notBefore,
    expiresOn: p.expiresOn,
    enabled: p.enabled,
    keyId: c.keyId,
    secretId: c.secretId,
    keyType: policy?.keyType,
    exportable: policy?.exportable,
    contentType: policy?.contentType,
    issuer: policy?.issuerName,
    createdOn: p.createdOn,
  };
}

/** Human lines for a certificate. */
export function describe(c: KeyVaultCertificate | KeyVaultCertificateWithPolicy): string {
  const s = summary(c);
  const subject = s.subject ?? (c.cer && c.cer.length > 0 ? new X509Certificate(c.cer).subject : '');
  const sans = Object.entries(s.subjectAlternativeNames ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x: string) => `${SAN_KINDS[k] ?? k}:${x}`) : []));
  return [
    `${s.name} version ${s.version}${s.enabled === false ? ' (disabled)' : ''}`,
    `  subject: ${escapeUntrusted(subject)}${sans.length > 0 ? `\n  SANs: ${escapeUntrusted(sans.join(', '))}` : ''}`,
    `  valid: ${s.notBefore?.toISOString() ?? '?'} → ${s.expiresOn?.toISOString() ?? '?'}`,
    `  thumbprint: ${s.x509Thumbprint ?? ''}`,
    ...(s.issuer === undefined ? [] : [`  issuer: ${s.issuer}, key ${s.keyType ?? '?'}${s.exportable === false ? ' (not exportable)' : ''}, stored as ${s.contentType ?? '?'}`]),
    `  kid: ${s.keyId ?? ''}`,
  ].join('\n');
}

/** The certificate's secret, parsed; a secret without a private key is "not exportable". */
export async function exportableContent(value: string, contentType: string | undefined, name: string): Promise<CertificateContent> {
  let content: CertificateContent;
  try {
    content = await readSecretValue(value, contentType);
  } catch (err) {
    if (err instanceof ContentError) throw new CommandError('ERR_CERTIFICATE_MALFORMED', `certificate ${name}: its secret is not a readable PFX/PEM (${err.message})`);
    throw err;
  }
  if (content.privateKey === undefined) {
    throw new CommandError('ERR_CERTIFICATE_NOT_EXPORTABLE', `certificate ${name}: its key is not exportable, so only the public certificate can be downloaded (--format cer)`);
  }
  return content;
}

/** PEM of a parsed secret: the private key (PKCS#8), then the chain, leaf first. */
export function toPem(content: CertificateContent): string {
  return `${content.privateKey!.export({ type: 'pkcs8', format: 'pem' }).toString()}${content.chain.map((c) => c.toString()).join('')}`;
}

/** `undefined` for a 404; rethrows anything else. */
export function notFound(err: unknown): undefined {
  if ((err as { statusCode?: unknown })?.statusCode === 404) return undefined;
  throw err;
}
