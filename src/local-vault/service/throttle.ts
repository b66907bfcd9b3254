/**
 * The service's throttling limits, per vault and per 10-second window, for CREATE
 * transactions and for all others, by key type (learn.microsoft.com key-vault service limits).
 * Windows follow the injected clock, so tests can cross a boundary by moving it. Requests
 * refused with 429 do not count, as the service documents today.
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

/** Fixed-window counters per (class, CREATE or not). */
export class Throttle {
  readonly #clock: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Counts one transaction of `limitClass`; `false` when the window's limit is already reached. */
  admit(limitClass: string, create: boolean): boolean {
    const limits = LIMITS[limitClass] ?? LIMITS.vault ?? [4000, 4000];
    const limit = create ? limits[0] : limits[1];
    const key = `${limitClass}:${create ? 'create' : 'other'}`;
    const start = Math.floor(this.#clock() / WINDOW_MS) * WINDOW_MS;
    const window = this.#windows.get(key);
    if (!window || window.start !== start) {
      this.#windows.set(key, { start, count: 1 });
      return true;
    }
    if (window.count >= limit) return false;
    window.count++;
    return true;
  }
}
