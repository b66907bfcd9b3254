/**
 * The service's throttling limits, per vault and per 10-second window, for CREATE
 * transactions and for all others, by key type (learn.microsoft.com key-vault service limits),
 * weighted and enforced on their sum as the service does. Windows follow the vault's clock,
 * so tests can cross a boundary by moving it. Requests refused with 429 do not count, as the
 * service documents today. The subscription-wide limit (5x) is not modelled.
 *
 * @module
 */
import { KEY_TYPES, lookup, type KeyType } from '../crypto/algorithms.js';
import { materialSize, rsaModulusBits } from '../crypto/key-material.js';
import { importedKeyType } from './requests.js';
import type { KeyVersionRecord } from './state.js';

/** Transactions per 10 s: [CREATE, all other]. */
const LIMITS: Record<string, readonly [number, number]> = {
  'RSA-2048': [20, 4000],
  'RSA-3072': [20, 1000],
  'RSA-4096': [20, 500],
  EC: [20, 4000],
  'RSA-HSM-2048': [10, 2000],
  'RSA-HSM-3072': [10, 500],
  'RSA-HSM-4096': [10, 250],
  'EC-HSM': [10, 2000],
  // Managed HSM has its own limits; the local vault treats oct-HSM like EC-HSM.
  'oct-HSM': [10, 2000],
  // "All secrets, vault related transactions".
  vault: [4000, 4000],
};
const WINDOW_MS = 10_000;

function limitClass(kty: KeyType | undefined, size: number | undefined): string {
  if (kty === undefined) return 'vault';
  if (kty === 'RSA' || kty === 'RSA-HSM') return `${kty}-${size ?? 2048}`;
  return kty;
}

/**
 * The limit class of a request: `RSA-2048`, `RSA-HSM-4096`, `EC`, `EC-HSM`, `oct-HSM`, or
 * `vault` when no key is involved. Create and import classify by the request body; everything
 * else by the key's current version.
 */
export function requestLimitClass(
  operation: string,
  body: Record<string, unknown>,
  current: KeyVersionRecord | undefined,
): string {
  if (operation === 'createKey') {
    const kty = lookup(KEY_TYPES, body.kty) ? (body.kty as KeyType) : undefined;
    return limitClass(kty, typeof body.key_size === 'number' ? body.key_size : undefined);
  }
  if (operation === 'importKey') {
    const n = (body.key as { n?: unknown } | undefined)?.n;
    return limitClass(importedKeyType(body), typeof n === 'string' ? rsaModulusBits({ n }) : undefined);
  }
  return limitClass(current?.kty, current ? materialSize(current.material) : undefined);
}

/** Whether a transaction was admitted; when not, how long until the window ends. */
export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

const KEY_CAPACITY = 4000;
const CREATE_CAPACITY = 20;

/**
 * Weighted fixed-window counters: the service enforces its thresholds "weighted, on their
 * sum" (service limits page: a GET on an RSA-4096 HSM key costs 8 times one on RSA-2048 HSM).
 * Each key transaction costs capacity / its class's limit in a shared pool of 4,000 units
 * (RSA-2048 costs 1, RSA-3072 4, RSA-4096 8, HSM keys twice their software class); CREATE
 * transactions share a pool of 20 (software 1, HSM 2); secrets and vault transactions have
 * their own 4,000.
 */
export class Throttle {
  readonly #clock: () => number;
  readonly #windows = new Map<string, { start: number; used: number }>();

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Counts one transaction of `limitClass`, or says how long to wait when its pool is spent. */
  admit(limitClass: string, create: boolean): Admission {
    const limits = LIMITS[limitClass] ?? LIMITS.vault ?? [4000, 4000];
    const pool = limitClass === 'vault' ? 'vault' : create ? 'create' : 'keys';
    const capacity = pool === 'create' ? CREATE_CAPACITY : KEY_CAPACITY;
    const cost = pool === 'vault' ? 1 : capacity / (create ? limits[0] : limits[1]);
    const now = this.#clock();
    const start = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    let window = this.#windows.get(pool);
    if (!window || window.start !== start) {
      window = { start, used: 0 };
      this.#windows.set(pool, window);
    }
    if (window.used + cost > capacity) {
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((start + WINDOW_MS - now) / 1000)) };
    }
    window.used += cost;
    return { admitted: true };
  }
}
