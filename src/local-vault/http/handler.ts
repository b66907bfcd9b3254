/**
 * The request pipeline both transports share: size limits → challenge → route → count → fault →
 * token → api-version → RBAC → body → service. Every failure becomes a service-shaped JSON error.
 *
 * Ids in responses (kid, secret id, recoveryId, nextLink) are built from the vault's configured
 * URL (`origin`), never from the request's Host header: a client that sends `Host: evil.example`
 * must not receive ids that send the next request (with its token) there.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { authenticate, type BearerPolicy } from '../auth/bearer.js';
import type { RoleAssignments } from '../auth/rbac.js';
import type { Fault, VaultFaults } from '../faults.js';
import type { VaultAuthMode } from '../options.js';
import type { VaultSecrets } from '../secrets.js';
import type { OperationResult } from '../service/operation.js';
import type { VaultService } from '../service/vault-service.js';
import type { VaultStats } from '../stats.js';
import { apiVersionError } from './api-versions.js';
import { badParameter, VaultHttpError } from './errors.js';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import { route } from './router.js';
import { SERVICE_ERRORS } from './service-errors.js';
import type { VaultOutcome, VaultRequest, VaultResponse } from './types.js';

/** What the pipeline needs from its vault. */
export interface VaultHandlerDeps {
  service: VaultService;
  secrets: VaultSecrets;
  roles: RoleAssignments;
  faults: VaultFaults;
  stats: VaultStats;
  /** The vault's URL origin (`https://host[:port]`): every id in a response starts with it. */
  origin: () => string;
  /** `strict` (tokens this vault signed) or `any-bearer`. */
  authMode: VaultAuthMode;
  /** The resource the challenge names and tokens must be for (Key Vault or Managed HSM). */
  resource: string;
}

/** Longest URL (path and query) accepted, in characters. */
export const MAX_URL_LENGTH = 8192;
/** Largest request line plus headers accepted, in bytes (HTTP.sys's default MaxRequestBytes). */
export const MAX_HEADER_BYTES = 16_384;

function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badParameter('The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badParameter('The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** The shared request pipeline of one vault. */
export class VaultHandler {
  readonly #deps: VaultHandlerDeps;
  readonly #challenge: string;
  readonly #policy: BearerPolicy;

  constructor(deps: VaultHandlerDeps) {
    this.#deps = deps;
    // The authorization path must be one segment: the SDK takes it as the tenant id.
    this.#challenge = `Bearer authorization="https://login.microsoftonline.com/${deps.secrets.tenantId}", resource="${deps.resource}"`;
    const { tokenKey, tenantId } = deps.secrets;
    this.#policy = { mode: deps.authMode, tokenKey, tenantId, resource: deps.resource };
  }

  /** Handles one request; never throws except when the request was aborted. */
  async handle(request: VaultRequest): Promise<VaultOutcome> {
    let outcome: VaultOutcome;
    try {
      outcome = await this.#handle(request);
    } catch (error) {
      if (request.signal?.aborted) throw error;
      outcome = { kind: 'response', response: this.#errorResponse(request, error) };
    }
    this.#deps.stats.recordStatus(outcome.kind === 'reset' ? 'reset' : outcome.response.status);
    return outcome;
  }

  async #handle(request: VaultRequest): Promise<VaultOutcome> {
    const { stats, faults, roles, service } = this.#deps;
    if (request.url.pathname.length + request.url.search.length > MAX_URL_LENGTH) throw SERVICE_ERRORS.urlTooLong(MAX_URL_LENGTH);
    if ((request.headerBytes ?? 0) > MAX_HEADER_BYTES) throw SERVICE_ERRORS.headersTooLarge(MAX_HEADER_BYTES);
    const authorization = request.header('authorization');
    if (!authorization) {
      stats.recordChallenge();
      throw SERVICE_ERRORS.missingToken({ 'www-authenticate': this.#challenge });
    }
    if (request.url.pathname.startsWith(ADMIN_PREFIX)) {
      const admin = { method: request.method, pathname: request.url.pathname, authorization, body: parseBody(request.body) };
      return { kind: 'response', response: this.#response(request, { status: 200, body: await handleAdmin(admin, service, this.#policy) }) };
    }
    const routed = route(request.method.toUpperCase(), request.url.pathname);
    stats.recordOperation(routed.operation, routed.name);
    const fault = faults.take(routed.operation);
    if (fault?.type === 'reset') return { kind: 'reset' };
    if (fault?.type === 'delay') await sleep(fault.ms, undefined, { signal: request.signal });
    else if (fault) throw this.#faultError(fault);
    const principal = this.#authenticate(authorization);
    const versionError = apiVersionError(request.url.searchParams.get('api-version'));
    if (versionError) throw versionError;
    // why: the RBAC check runs inside execute, after the reload, so that role assignments
    // made by other processes are seen; the body is parsed after it, as the service does.
    const result = await service.execute(routed.operation, () => {
      // any-bearer: every data action is allowed until a role is assigned (seen after the reload).
      if (this.#policy.mode === 'strict' || roles.configured()) roles.check(principal, routed.operation, routed.name, service.state.nowMs());
      return { base: this.#deps.origin(), name: routed.name, version: routed.version, body: parseBody(request.body), query: request.url.searchParams };
    });
    return { kind: 'response', response: this.#response(request, result) };
  }

  #authenticate(authorization: string): string {
    const check = authenticate(authorization, this.#policy);
    if (!check.ok) {
      throw new VaultHttpError(401, 'Unauthorized', check.reason, { headers: { 'www-authenticate': this.#challenge } });
    }
    return check.principal;
  }

  #faultError(fault: Exclude<Fault, { type: 'reset' | 'delay' }>): VaultHttpError {
    const headers: Record<string, string> =
      fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
    return fault.type === '429' ? SERVICE_ERRORS.throttled(headers) : SERVICE_ERRORS.serviceUnavailable(headers);
  }

  #headers(request: VaultRequest, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    const headers: Record<string, string> = {
      'cache-control': 'no-cache',
      'x-ms-request-id': randomUUID(),
      'x-content-type-options': 'nosniff',
      ...extra,
    };
    const clientRequestId = request.header('x-ms-client-request-id');
    if (clientRequestId) headers['x-ms-client-request-id'] = clientRequestId;
    return headers;
  }

  #response(request: VaultRequest, result: OperationResult): VaultResponse {
    if (result.body === undefined) return { status: result.status, headers: this.#headers(request), body: '' };
    return {
      status: result.status,
      headers: this.#headers(request, { 'content-type': 'application/json; charset=utf-8' }),
      body: JSON.stringify(result.body),
    };
  }

  #errorResponse(request: VaultRequest, error: unknown): VaultResponse {
    const vaultError =
      error instanceof VaultHttpError
        ? error
        : new VaultHttpError(500, 'InternalServerError', `The local vault failed: ${error instanceof Error ? error.message : String(error)}`);
    return {
      status: vaultError.status,
      headers: this.#headers(request, { ...vaultError.headers, 'content-type': 'application/json; charset=utf-8' }),
      body: JSON.stringify(vaultError.toBody()),
    };
  }
}
