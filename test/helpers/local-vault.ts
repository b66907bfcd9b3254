/**
 * Helpers for the local-vault integration tests: raw requests through either transport, a
 * settable clock, forged credentials and node:crypto KeyObjects from vault JWKs.
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type HttpMethods,
} from '@azure/core-rest-pipeline';
import type { JsonWebKey } from '@azure/keyvault-keys';
import { createHmac, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { LocalKeyVault } from '../../src/local-vault/index.js';

/** The two transports every integration suite runs against. */
export const TRANSPORTS = ['in-process', 'https'] as const;

/** Client options that keep the pipeline's exponential retries fast. */
export const FAST_RETRY = { retryOptions: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } };

/** A clock tests move by hand (milliseconds). */
export class ManualClock {
  ms: number;
  constructor(start = Date.now()) {
    this.ms = start;
  }
  readonly now = (): number => this.ms;
  advanceDays(days: number): void {
    this.ms += days * 86_400_000;
  }
  /** Unix seconds. */
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}

/** A response of {@link rawRequest}. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  json: any;
}

/**
 * Sends one request to the vault through its transport, bypassing the Azure pipeline (no
 * challenge dance). `token: null` sends no Authorization header; by default the admin's token.
 */
export async function rawRequest(
  vault: LocalKeyVault,
  method: HttpMethods,
  path: string,
  options: { body?: unknown; token?: string | null; rawBody?: string } = {},
): Promise<RawResponse> {
  const token = options.token === undefined ? (await vault.credential().getToken('https://vault.azure.net/.default'))?.token : options.token;
  const headers = createHttpHeaders({ 'content-type': 'application/json' });
  if (token) headers.set('authorization', `Bearer ${token}`);
  const request = createPipelineRequest({ url: `${vault.url}${path}`, method, headers });
  if (options.rawBody !== undefined) request.body = options.rawBody;
  else if (options.body !== undefined) request.body = JSON.stringify(options.body);
  if (vault.caPem) request.tlsSettings = { ca: vault.caPem };
  const client = vault.clientOptions.httpClient ?? createDefaultHttpClient();
  const response = await client.sendRequest(request);
  const text = response.bodyAsText ?? '';
  return { status: response.status, headers: response.headers.toJSON(), json: text ? JSON.parse(text) : undefined };
}

/** A credential whose JWTs look right but are signed with a key the vault does not know. */
export function forgedCredential(principal = 'local-vault-admin', claims: Record<string, unknown> = {}): TokenCredential {
  const key = randomBytes(32);
  return {
    async getToken(): Promise<AccessToken> {
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(
        JSON.stringify({ aud: 'https://vault.azure.net', oid: principal, sub: principal, iat: now, nbf: now, exp: now + 3600, ...claims }),
      ).toString('base64url');
      const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
      return { token: `${header}.${payload}.${signature}`, expiresOnTimestamp: (now + 3600) * 1000 };
    },
  };
}

const NODE_CURVES: Record<string, string> = { 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', 'P-256K': 'secp256k1' };

/** node:crypto public KeyObject of a vault key (SDK JsonWebKey with Uint8Array members). */
export function publicKeyObject(jwk: JsonWebKey): KeyObject {
  const b64 = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('base64url');
  if (jwk.n && jwk.e) return createPublicKey({ key: { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) }, format: 'jwk' });
  const crv = NODE_CURVES[jwk.crv ?? ''];
  return createPublicKey({ key: { kty: 'EC', crv, x: b64(jwk.x), y: b64(jwk.y) }, format: 'jwk' });
}

/** Asserts that `promise` rejects with a RestError of `statusCode` (and `code`, when given). */
export async function expectRestError(promise: Promise<unknown>, statusCode: number, code?: string): Promise<RestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a RestError ${statusCode}`).toBeInstanceOf(Error);
  expect((error as RestError).name).toBe('RestError');
  expect((error as RestError).statusCode).toBe(statusCode);
  if (code !== undefined) expect((error as RestError).code).toBe(code);
  return error as RestError;
}

/** The inner error code of a Key Vault RestError (`details.error.innerError.code`), if any. */
export function innerCode(error: unknown): string | undefined {
  const inner = (error as { details?: { error?: { innerError?: { code?: string }; innererror?: { code?: string } } } }).details?.error;
  return inner?.innerError?.code ?? inner?.innererror?.code;
}

const IN_PROGRESS = new Set(['ObjectIsBeingDeleted', 'ObjectIsBeingRecovered']);

/**
 * Runs `action` again while the vault answers 409 because a delete, recover or purge of the name
 * is still in progress, as code against Azure must (the purge that precedes a re-create has no
 * poller). Any other error, or the deadline, ends the wait.
 */
export async function retryWhileInProgress<T>(action: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await action();
    } catch (error) {
      const code = innerCode(error);
      if ((error as RestError).statusCode !== 409 || code === undefined || !IN_PROGRESS.has(code) || Date.now() > deadline) throw error;
    }
    await sleep(25);
  }
}

/**
 * Waits until `action` rejects with `statusCode` (e.g. a purged object's 404, which the service
 * gives only once the purge completes), and returns that error.
 */
export async function untilRejectsWith(action: () => Promise<unknown>, statusCode: number, timeoutMs = 15_000): Promise<RestError> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = await action().then(
      () => undefined,
      (e: unknown) => e,
    );
    if ((error as RestError | undefined)?.statusCode === statusCode) return error as RestError;
    if (Date.now() > deadline) return expectRestError(action(), statusCode);
    await sleep(25);
  }
}
