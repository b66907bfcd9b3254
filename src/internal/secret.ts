import { inspect } from 'node:util';

const REDACTED = '[SecretKey: redacted]';

/**
 * Holds secret key bytes so they cannot leak by accident (Tink's SecretBytes): `toString`,
 * `toJSON` and `util.inspect` print a placeholder, and `wipe()` zeroes the bytes when the key
 * leaves a cache. Wiping is best effort in JavaScript: node:crypto and the engine may hold
 * copies we cannot reach (docs/security.md says so).
 */
export class SecretKey {
  #bytes: Uint8Array;
  #wiped = false;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** The raw bytes. Callers must not retain them past the key's lifetime. */
  expose(): Uint8Array {
    if (this.#wiped) throw new Error('SecretKey used after wipe');
    return this.#bytes;
  }

  get length(): number {
    return this.#bytes.length;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** Zeroes the bytes (best effort) and makes further use throw. */
  wipe(): void {
    this.#bytes.fill(0);
    this.#wiped = true;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
