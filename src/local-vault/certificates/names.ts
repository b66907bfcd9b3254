/**
 * Names in certificates: the policy's subject (an X.500 distinguished name written as text,
 * `CN=api.myapp.com, O=Contoso`) and its subject alternative names (DNS names, e-mail addresses,
 * user principal names). Parsing and validation are the service's 400s; the ASN.1 structures
 * come from `@peculiar/asn1-x509`.
 *
 * @module
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, DirectoryString, GeneralName, Name, OtherName, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { isIP } from 'node:net';
import { badParameter } from '../http/errors.js';
import type { SubjectAlternativeNamesWire } from './records.js';

// Attribute types Key Vault subjects use (RFC 4514 names plus the Windows spellings S and E).
const ATTRIBUTE_TYPES: Record<string, { oid: string; kind: 'utf8' | 'printable' | 'ia5' }> = {
  CN: { oid: '2.5.4.3', kind: 'utf8' },
  O: { oid: '2.5.4.10', kind: 'utf8' },
  OU: { oid: '2.5.4.11', kind: 'utf8' },
  L: { oid: '2.5.4.7', kind: 'utf8' },
  ST: { oid: '2.5.4.8', kind: 'utf8' },
  S: { oid: '2.5.4.8', kind: 'utf8' },
  C: { oid: '2.5.4.6', kind: 'printable' },
  STREET: { oid: '2.5.4.9', kind: 'utf8' },
  SERIALNUMBER: { oid: '2.5.4.5', kind: 'printable' },
  DC: { oid: '0.9.2342.19200300.100.1.25', kind: 'ia5' },
  E: { oid: '1.2.840.113549.1.9.1', kind: 'ia5' },
  EMAIL: { oid: '1.2.840.113549.1.9.1', kind: 'ia5' },
};
/** The user principal name `otherName` type (Microsoft). */
export const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Splits `text` at unescaped, unquoted `,` or `;` (RFC 4514 escaping with `\`, and quoted values). */
function splitRdns(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && (c === ',' || c === ';')) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (quoted) throw badParameter(`The subject '${text}' has an unterminated quoted value.`);
  parts.push(current);
  return parts.map((p) => p.trim());
}

/** The attributes of a subject, in the order written. @throws {VaultHttpError} 400 when malformed. */
export function parseDistinguishedName(text: string): { type: string; oid: string; value: string }[] {
  return splitRdns(text).map((part) => {
    const eq = part.indexOf('=');
    const type = eq < 0 ? '' : part.slice(0, eq).trim().toUpperCase();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    const known = ATTRIBUTE_TYPES[type];
    if (!known || value === '') throw badParameter(`The subject '${text}' is not a valid X.500 distinguished name (at '${part}').`);
    return { type, oid: known.oid, value };
  });
}

/** The ASN.1 Name of a subject. As in RFC 4514, the text lists the most specific attribute first. */
export function subjectName(text: string): Name {
  if (text === '') return new Name([]);
  const rdns = parseDistinguishedName(text).map(({ type, oid, value }) => {
    const kind = (ATTRIBUTE_TYPES[type] as { kind: string }).kind;
    const attributeValue =
      kind === 'ia5' ? new AttributeValue({ ia5String: value }) : kind === 'printable' ? new AttributeValue({ printableString: value }) : new AttributeValue({ utf8String: value });
    return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: attributeValue })]);
  });
  return new Name(rdns.reverse());
}

/** Whether `name` is a DNS host name, optionally with a leading `*.` wildcard label. */
export function isDnsName(name: string): boolean {
  const host = name.startsWith('*.') ? name.slice(2) : name;
  return host.length > 0 && host.length <= 253 && host.split('.').every((label) => DNS_LABEL.test(label));
}

/**
 * Checks every subject alternative name.
 *
 * @throws {VaultHttpError} 400 naming the first DNS name, e-mail or UPN that is not valid.
 */
export function assertSubjectAlternativeNames(sans: SubjectAlternativeNamesWire): void {
  for (const [field, valid, what] of SAN_CHECKS) {
    const bad = sans[field]?.find((n) => !valid(n));
    if (bad !== undefined) throw badParameter(`The subject alternative name '${bad}' is not a valid ${what}.`);
  }
}

// An absolute URI (RFC 3986: scheme ":" ...) without spaces; URL.canParse checks the rest.
const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

/** Each kind of subject alternative name, its check and its name in the 400, in the order checked. */
const SAN_CHECKS: readonly [keyof SubjectAlternativeNamesWire, (name: string) => boolean, string][] = [
  ['dns_names', isDnsName, 'DNS name'],
  ['emails', (n) => EMAIL.test(n), 'e-mail address'],
  ['upns', (n) => EMAIL.test(n), 'user principal name'],
  ['uris', (n) => URI.test(n) && URL.canParse(n), 'URI'],
  ['ipAddresses', (n) => isIP(n) !== 0, 'IP address'],
];

/** The GeneralNames of a policy's subject alternative names (UPNs as Microsoft's otherName). */
export function generalNames(sans: SubjectAlternativeNamesWire): GeneralName[] {
  return [
    ...(sans.dns_names ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(sans.emails ?? []).map((rfc822Name) => new GeneralName({ rfc822Name })),
    ...(sans.upns ?? []).map(
      (upn) => new GeneralName({ otherName: new OtherName({ typeId: UPN_OID, value: AsnConvert.serialize(new DirectoryString({ utf8String: upn })) }) }),
    ),
    ...(sans.uris ?? []).map((uniformResourceIdentifier) => new GeneralName({ uniformResourceIdentifier })),
    ...(sans.ipAddresses ?? []).map((iPAddress) => new GeneralName({ iPAddress })),
  ];
}
