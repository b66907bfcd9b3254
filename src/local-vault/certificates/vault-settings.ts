/**
 * Vault-wide certificate settings: the contacts (set, get, delete) and the named issuers (set,
 * update, get, list, delete). Issuers are stored and returned as the service does (the account
 * id, never the password, which is not even kept), but never contacted: a certificate whose
 * policy names one fails its operation with a clear error (see operation.ts). `Self` and
 * `Unknown` are built in and cannot be set.
 *
 * @module
 */
import { badParameter, VaultHttpError } from '../http/errors.js';
import { page } from '../service/bundles.js';
import { ok, type OperationContext, type OperationResult } from '../service/operation.js';
import { optionalObject } from '../service/requests.js';
import { BUILT_IN_ISSUERS } from './policy.js';
import type { ContactRecord, IssuerRecord } from './records.js';

function contactsBody(ctx: OperationContext, contacts: ContactRecord[]): Record<string, unknown> {
  return { id: `${ctx.base}/certificates/contacts`, contacts: contacts.map((c) => ({ ...c })) };
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badParameter(`The parameter '${field}' must be a string.`);
  return value;
}

/** `PUT /certificates/contacts`: replaces the contacts. */
export function setCertificateContacts(ctx: OperationContext): OperationResult {
  const list = ctx.body.contacts;
  if (!Array.isArray(list)) throw badParameter("The parameter 'contacts' is required and must be an array.");
  const contacts = list.map((item: unknown) => {
    const entry = optionalObject(item, 'contacts[]') ?? {};
    const contact: ContactRecord = {};
    for (const field of ['email', 'name', 'phone'] as const) {
      const value = text(entry[field], field);
      if (value !== undefined) contact[field] = value;
    }
    if (contact.email === undefined) throw badParameter('Every certificate contact needs an email.');
    return contact;
  });
  ctx.state.contacts = contacts;
  ctx.state.markChanged();
  return ok(contactsBody(ctx, contacts));
}

function contactsNotFound(): VaultHttpError {
  return new VaultHttpError(404, 'ContactsNotFound', 'Contacts not found');
}

/** `GET /certificates/contacts`. @throws {VaultHttpError} 404 when none are set. */
export function getCertificateContacts(ctx: OperationContext): OperationResult {
  if (!ctx.state.contacts) throw contactsNotFound();
  return ok(contactsBody(ctx, ctx.state.contacts));
}

/** `DELETE /certificates/contacts`: answers the contacts it removed. */
export function deleteCertificateContacts(ctx: OperationContext): OperationResult {
  const contacts = ctx.state.contacts;
  if (!contacts) throw contactsNotFound();
  ctx.state.contacts = undefined;
  ctx.state.markChanged();
  return ok(contactsBody(ctx, contacts));
}

function issuerBody(ctx: OperationContext, issuer: IssuerRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: `${ctx.base}/certificates/issuers/${issuer.name}`, provider: issuer.provider };
  if (issuer.credentials) out.credentials = { ...issuer.credentials };
  if (issuer.org_details) out.org_details = structuredClone(issuer.org_details);
  out.attributes = { ...issuer.attributes };
  return out;
}

function issuerNotFound(name: string): VaultHttpError {
  return new VaultHttpError(404, 'CertificateIssuerNotFound', `Issuer not found: ${name}`);
}

function storedIssuer(ctx: OperationContext): IssuerRecord {
  const issuer = ctx.state.issuers.get(ctx.name.toLowerCase());
  if (!issuer) throw issuerNotFound(ctx.name);
  return issuer;
}

function applyIssuer(ctx: OperationContext, issuer: IssuerRecord): IssuerRecord {
  const provider = text(ctx.body.provider, 'provider');
  if (provider !== undefined) issuer.provider = provider;
  const credentials = optionalObject(ctx.body.credentials, 'credentials');
  if (credentials) {
    const accountId = text(credentials.account_id, 'account_id');
    // why: the service never returns an issuer's password, and this vault never uses it: not kept.
    text(credentials.pwd, 'pwd');
    issuer.credentials = accountId === undefined ? {} : { account_id: accountId };
  }
  const org = optionalObject(ctx.body.org_details, 'org_details');
  if (org) issuer.org_details = structuredClone(org) as IssuerRecord['org_details'] & object;
  const enabled = optionalObject(ctx.body.attributes, 'attributes')?.enabled;
  if (typeof enabled === 'boolean') issuer.attributes.enabled = enabled;
  issuer.attributes.updated = ctx.state.now();
  ctx.state.issuers.set(issuer.name.toLowerCase(), issuer);
  ctx.state.markChanged();
  return issuer;
}

/** `PUT /certificates/issuers/{name}`: creates or replaces a named issuer (a provider is required). */
export function setCertificateIssuer(ctx: OperationContext): OperationResult {
  if ((BUILT_IN_ISSUERS as readonly string[]).some((b) => b.toLowerCase() === ctx.name.toLowerCase())) {
    throw badParameter(`The issuer name '${ctx.name}' is reserved: 'Self' and 'Unknown' are built in.`);
  }
  if (typeof ctx.body.provider !== 'string' || ctx.body.provider === '') throw badParameter("The parameter 'provider' is required.");
  const now = ctx.state.now();
  const previous = ctx.state.issuers.get(ctx.name.toLowerCase());
  const issuer: IssuerRecord = { name: previous?.name ?? ctx.name, provider: '', attributes: { enabled: true, created: previous?.attributes.created ?? now, updated: now } };
  return ok(issuerBody(ctx, applyIssuer(ctx, issuer)));
}

/** `PATCH /certificates/issuers/{name}`: changes the members given. */
export function updateCertificateIssuer(ctx: OperationContext): OperationResult {
  return ok(issuerBody(ctx, applyIssuer(ctx, storedIssuer(ctx))));
}

/** `GET /certificates/issuers/{name}`. */
export function getCertificateIssuer(ctx: OperationContext): OperationResult {
  return ok(issuerBody(ctx, storedIssuer(ctx)));
}

/** `DELETE /certificates/issuers/{name}`: answers the issuer it removed. */
export function deleteCertificateIssuer(ctx: OperationContext): OperationResult {
  const issuer = storedIssuer(ctx);
  ctx.state.issuers.delete(issuer.name.toLowerCase());
  ctx.state.markChanged();
  return ok(issuerBody(ctx, issuer));
}

/** `GET /certificates/issuers`: `{ id, provider }` items, paged. */
export function getCertificateIssuers(ctx: OperationContext): OperationResult {
  const items = [...ctx.state.issuers.values()]
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
    .map((issuer) => ({ id: `${ctx.base}/certificates/issuers/${issuer.name}`, provider: issuer.provider }));
  return ok(page(items, ctx, '/certificates/issuers'));
}
