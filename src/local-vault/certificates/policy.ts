/**
 * Certificate policies: validation of a request's `policy` (create, import, update) and the
 * service's defaults (RSA 2048, exportable, new key on renewal, PKCS#12, 12 months, key usage
 * digitalSignature + keyEncipherment for RSA, serverAuth + clientAuth, AutoRenew at 80 % of the
 * lifetime). An update merges the members it names into the stored policy, as PATCH does.
 *
 * @module
 */
import { CURVES, FAMILIES } from '../crypto/algorithms.js';
import { badParameter } from '../http/errors.js';
import { optionalObject } from '../service/requests.js';
import type { CertificateContentType, CertificatePolicyWire, LifetimeActionWire } from './records.js';
import { assertSubjectAlternativeNames, parseDistinguishedName } from './names.js';

const CONTENT_TYPES: readonly CertificateContentType[] = ['application/x-pkcs12', 'application/x-pem-file'];
const KEY_TYPES = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM'] as const;
const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];
const SERVER_AND_CLIENT_AUTH = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];
const OID = /^[0-2](?:\.(?:0|[1-9]\d*))+$/;
// Key Vault: 1 to 1200 months of validity for self-signed certificates.
const MAX_VALIDITY_MONTHS = 1200;

/** The issuers every vault knows: `Self` signs with the certificate's own key; `Unknown` waits for a merge. */
export const BUILT_IN_ISSUERS = ['Self', 'Unknown'] as const;

function strings(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badParameter(`The parameter '${field}' must be an array of strings.`);
  return value as string[];
}

function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw badParameter(`The parameter '${field}' must be a boolean.`);
  return value;
}

function keyProps(value: unknown, base: CertificatePolicyWire['key_props'] | undefined): CertificatePolicyWire['key_props'] {
  const props = optionalObject(value, 'key_props') ?? {};
  const kty = (props.kty ?? base?.kty ?? 'RSA') as CertificatePolicyWire['key_props']['kty'];
  if (!KEY_TYPES.includes(kty)) throw badParameter(`Key type '${String(kty)}' is not supported for certificates. Supported types are ${KEY_TYPES.join(', ')}.`);
  const out: CertificatePolicyWire['key_props'] = {
    exportable: bool(props.exportable, 'exportable', base?.exportable ?? true),
    kty,
    reuse_key: bool(props.reuse_key, 'reuse_key', base?.reuse_key ?? false),
  };
  if (kty.startsWith('EC')) {
    const crv = props.crv ?? (base?.crv !== undefined && base.kty.startsWith('EC') ? base.crv : 'P-256');
    if (typeof crv !== 'string' || !Object.hasOwn(CURVES, crv)) {
      throw badParameter(`The curve '${String(crv)}' is not supported. Supported curves are ${Object.keys(CURVES).join(', ')}.`);
    }
    // why: pkijs cannot put a secp256k1 key in a PKCS#12 key bag, so the secret could not be made.
    if (crv === 'P-256K') throw badParameter("The curve 'P-256K' is not supported for certificates by this vault. Use P-256, P-384 or P-521.");
    out.crv = crv;
  } else {
    const size = props.key_size ?? (base?.key_size !== undefined && base.kty.startsWith('RSA') ? base.key_size : FAMILIES.RSA.defaultSize);
    if (typeof size !== 'number' || !(FAMILIES.RSA.sizes as readonly number[]).includes(size)) {
      throw badParameter(`Key size ${String(size)} is not supported for RSA keys. Supported sizes are ${FAMILIES.RSA.sizes.join(', ')}.`);
    }
    out.key_size = size;
  }
  return out;
}

function x509Props(value: unknown, base: CertificatePolicyWire['x509_props'] | undefined, rsa: boolean): CertificatePolicyWire['x509_props'] {
  const props = optionalObject(value, 'x509_props') ?? {};
  const subject = props.subject ?? base?.subject ?? '';
  if (typeof subject !== 'string') throw badParameter("The parameter 'subject' must be a string.");
  const sansIn: Record<string, unknown> | undefined = props.sans === undefined ? { ...base?.sans } : optionalObject(props.sans, 'sans');
  const sans: NonNullable<CertificatePolicyWire['x509_props']['sans']> = {};
  for (const field of ['dns_names', 'emails', 'upns', 'uris', 'ipAddresses'] as const) {
    const list = strings(sansIn?.[field], field);
    if (list && list.length > 0) sans[field] = list;
  }
  if (subject === '' && Object.keys(sans).length === 0) {
    throw badParameter('The certificate policy must specify a subject or at least one subject alternative name.');
  }
  if (subject !== '') parseDistinguishedName(subject);
  assertSubjectAlternativeNames(sans);
  const ekus = strings(props.ekus, 'ekus') ?? base?.ekus ?? SERVER_AND_CLIENT_AUTH;
  const bad = ekus.find((e) => !OID.test(e));
  if (bad !== undefined) throw badParameter(`The extended key usage '${bad}' is not an object identifier.`);
  const keyUsage = strings(props.key_usage, 'key_usage') ?? base?.key_usage ?? (rsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  const unknown = keyUsage.find((u) => !KEY_USAGES.includes(u));
  if (unknown !== undefined) throw badParameter(`The key usage '${unknown}' is not supported. Supported values are ${KEY_USAGES.join(', ')}.`);
  const months = props.validity_months ?? base?.validity_months ?? 12;
  if (typeof months !== 'number' || !Number.isInteger(months) || months < 1 || months > MAX_VALIDITY_MONTHS) {
    throw badParameter(`The parameter 'validity_months' must be an integer between 1 and ${MAX_VALIDITY_MONTHS}.`);
  }
  const out: CertificatePolicyWire['x509_props'] = { subject, ekus: [...ekus], key_usage: [...keyUsage], validity_months: months };
  if (Object.keys(sans).length > 0) out.sans = sans;
  return out;
}

function lifetimeAction(value: unknown, validityMonths: number): LifetimeActionWire {
  const item = optionalObject(value, 'lifetime_actions[]') ?? {};
  const trigger = optionalObject(item.trigger, 'trigger') ?? {};
  const type = optionalObject(item.action, 'action')?.action_type;
  const actionType = typeof type === 'string' ? ['AutoRenew', 'EmailContacts'].find((t) => t.toLowerCase() === type.toLowerCase()) : undefined;
  if (!actionType) throw badParameter("A lifetime action's action_type must be 'AutoRenew' or 'EmailContacts'.");
  const percentage = trigger.lifetime_percentage;
  const days = trigger.days_before_expiry;
  if ((percentage === undefined || percentage === null) === (days === undefined || days === null)) {
    throw badParameter("A lifetime action's trigger needs exactly one of 'lifetime_percentage' and 'days_before_expiry'.");
  }
  if (percentage !== undefined && percentage !== null) {
    if (typeof percentage !== 'number' || !Number.isInteger(percentage) || percentage < 1 || percentage > 99) {
      throw badParameter("'lifetime_percentage' must be an integer between 1 and 99.");
    }
    return { trigger: { lifetime_percentage: percentage }, action: { action_type: actionType as LifetimeActionWire['action']['action_type'] } };
  }
  // Key Vault: days_before_expiry between 1 and (validity in months × 27) days.
  const maxDays = validityMonths * 27;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > maxDays) {
    throw badParameter(`'days_before_expiry' must be an integer between 1 and ${maxDays} (validity_months × 27).`);
  }
  return { trigger: { days_before_expiry: days }, action: { action_type: actionType as LifetimeActionWire['action']['action_type'] } };
}

/** The issuer's name as written (`Self`, `Unknown` in any letter case are normalised). */
function issuerName(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw badParameter('The certificate policy must name an issuer (issuer.name).');
  return BUILT_IN_ISSUERS.find((i) => i.toLowerCase() === value.toLowerCase()) ?? value;
}

/**
 * Validates a request's `policy` against `base` (the stored policy for an update, none for a
 * create) and returns the complete policy.
 *
 * @throws {VaultHttpError} 400 BadParameter naming the first invalid member.
 */
export function parsePolicy(value: unknown, now: number, base?: CertificatePolicyWire): CertificatePolicyWire {
  const policy = optionalObject(value, 'policy') ?? {};
  const key = keyProps(policy.key_props, base?.key_props);
  const secret = optionalObject(policy.secret_props, 'secret_props');
  const contentType = (secret?.contentType ?? base?.secret_props.contentType ?? 'application/x-pkcs12') as CertificateContentType;
  if (!CONTENT_TYPES.includes(contentType)) {
    throw badParameter(`The content type '${String(contentType)}' is not supported. Supported types are ${CONTENT_TYPES.join(', ')}.`);
  }
  const x509 = x509Props(policy.x509_props, base?.x509_props, key.kty.startsWith('RSA'));
  const issuerIn = optionalObject(policy.issuer, 'issuer');
  const issuer: CertificatePolicyWire['issuer'] = { name: issuerName(issuerIn?.name ?? base?.issuer.name) };
  const cty = issuerIn?.cty ?? base?.issuer.cty;
  if (typeof cty === 'string') issuer.cty = cty;
  const transparency = issuerIn?.cert_transparency ?? base?.issuer.cert_transparency;
  if (typeof transparency === 'boolean') issuer.cert_transparency = transparency;
  const actionsIn = policy.lifetime_actions;
  if (actionsIn !== undefined && actionsIn !== null && !Array.isArray(actionsIn)) throw badParameter("'lifetime_actions' must be an array.");
  let actions = actionsIn ? (actionsIn as unknown[]).map((a) => lifetimeAction(a, x509.validity_months)) : base?.lifetime_actions;
  if (actions && actions.length > 1) throw badParameter('A certificate policy can have at most one lifetime action.');
  const selfSigned = issuer.name === 'Self';
  actions ??= [{ trigger: { lifetime_percentage: 80 }, action: { action_type: selfSigned ? 'AutoRenew' : 'EmailContacts' } }];
  const attributes = optionalObject(policy.attributes, 'attributes');
  const enabled = bool(attributes?.enabled, 'enabled', base?.attributes.enabled ?? true);
  return {
    key_props: key,
    secret_props: { contentType },
    x509_props: x509,
    lifetime_actions: actions,
    issuer,
    attributes: { enabled, created: base?.attributes.created ?? now, updated: now },
  };
}
