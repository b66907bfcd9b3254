/**
 * The local vault's own admin endpoints (no Key Vault counterpart), for tests in any language:
 *
 * - `GET /admin/clock` → `{ now, nowMs, offsetMs }`: the vault's clock.
 * - `POST /admin/clock` `{ "advance": "P30D" }` (ISO 8601 duration) → the same, after moving
 *   the clock forward and running what the service runs on its timers (rotation policies,
 *   automatic purge), like lowkey-vault's time shift.
 *
 * Only the vault's administrator may call them (the token `vault.credential()` mints, which
 * `vault serve` writes to HOME/token), whatever the auth mode: an any-bearer vault still
 * refuses other tokens here.
 *
 * @module
 */
import { ADMIN_PRINCIPAL } from '../auth/rbac.js';
import { authenticate, type BearerPolicy } from '../auth/bearer.js';
import { addIsoDuration, parseIsoDuration } from '../service/rotation-policy.js';
import type { VaultService } from '../service/vault-service.js';
import { badParameter, forbidden, VaultHttpError } from './errors.js';

/** The path prefix of the admin endpoints. */
export const ADMIN_PREFIX = '/admin/';

/** The vault's clock as the admin endpoint reports it. */
export interface ClockReading {
  /** ISO 8601 time of the vault's clock. */
  now: string;
  nowMs: number;
  /** How far the vault's clock is ahead of the real one (ms). */
  offsetMs: number;
}

function reading(clock: { nowMs: number; offsetMs: number }): ClockReading {
  return { now: new Date(clock.nowMs).toISOString(), nowMs: clock.nowMs, offsetMs: clock.offsetMs };
}

/**
 * Moves the vault's clock forward by `duration` (ISO 8601, calendar years and months counted
 * from the vault's now) and runs maintenance.
 *
 * @throws {VaultHttpError} 400 when `duration` is not an ISO 8601 duration.
 */
export async function advanceClock(service: VaultService, duration: unknown): Promise<ClockReading> {
  const parsed = parseIsoDuration(duration);
  if (!parsed) throw badParameter(`'advance' must be an ISO 8601 duration such as P30D or PT1H, got ${JSON.stringify(duration)}.`);
  return reading(
    await service.travel((state) => {
      const nowMs = state.nowMs();
      const seconds = Math.floor(nowMs / 1000);
      state.clockOffsetMs += (addIsoDuration(seconds, parsed) - seconds) * 1000;
    }),
  );
}

/** Reads the vault's clock (after running maintenance, as any request does). */
export async function readClock(service: VaultService): Promise<ClockReading> {
  return reading(await service.travel());
}

/**
 * Serves one admin request.
 *
 * @throws {VaultHttpError} 401 without the administrator's token is handled by the caller's
 *   challenge; 403 for another principal; 404/405 for an unknown path or method; 400 for a bad body.
 */
export async function handleAdmin(
  request: { method: string; pathname: string; authorization: string; body: Record<string, unknown> },
  service: VaultService,
  policy: BearerPolicy,
): Promise<ClockReading> {
  const auth = authenticate(request.authorization, policy, { strict: true });
  if (!auth.ok) throw new VaultHttpError(401, 'Unauthorized', auth.reason);
  if (auth.principal !== ADMIN_PRINCIPAL) throw forbidden('Only the local vault administrator may use the admin endpoints.');
  if (request.pathname.replace(/\/$/, '') !== '/admin/clock') {
    throw new VaultHttpError(404, 'NotFound', `The requested resource '${request.pathname}' does not exist.`);
  }
  const method = request.method.toUpperCase();
  if (method === 'GET') return readClock(service);
  if (method === 'POST') return advanceClock(service, request.body.advance);
  throw new VaultHttpError(405, 'MethodNotAllowed', `The method ${method} is not allowed on '${request.pathname}'.`);
}
