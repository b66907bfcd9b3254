/**
 * Fault injection: make the next n requests, or a fraction of all requests, fail the way a
 * real vault or network does: 429 (with or without Retry-After), 503, added latency, or a
 * dropped connection. Faults apply to requests that carry an Authorization header (the 401
 * challenge round trip is never faulted), optionally filtered by operation name.
 *
 * @module
 */

/** Restricts a fault to some operations (`'unwrapKey'`, `'getKey'`, ...). */
export interface FaultFilter {
  operations?: readonly string[];
}

/** One fault. `retryAfterSeconds` adds a `Retry-After` header; the real 429 has none. */
export type Fault = (
  | { type: '429'; retryAfterSeconds?: number }
  | { type: '503'; retryAfterSeconds?: number }
  | { type: 'delay'; ms: number }
  | { type: 'reset' }
) &
  FaultFilter;

interface Rule {
  fault: Fault;
  remaining: number;
}

function validate(fault: Fault): Fault {
  if (fault === null || typeof fault !== 'object') throw new TypeError('fault must be an object');
  if (!['429', '503', 'delay', 'reset'].includes(fault.type)) {
    throw new TypeError(`fault.type must be '429', '503', 'delay' or 'reset', got ${String(fault.type)}`);
  }
  if (fault.type === 'delay' && !(Number.isFinite(fault.ms) && fault.ms >= 0)) {
    throw new RangeError('fault.ms must be a non-negative number');
  }
  if ((fault.type === '429' || fault.type === '503') && fault.retryAfterSeconds !== undefined) {
    if (!(Number.isInteger(fault.retryAfterSeconds) && fault.retryAfterSeconds >= 0)) {
      throw new RangeError('fault.retryAfterSeconds must be a non-negative integer');
    }
  }
  return { ...fault, ...(fault.operations ? { operations: [...fault.operations] } : {}) } as Fault;
}

function matches(fault: Fault, operation: string): boolean {
  return !fault.operations || fault.operations.includes(operation);
}

/**
 * The fault plan of one vault (`vault.faults`).
 *
 * @example
 * ```ts
 * vault.faults.next(1, { type: '429' });                       // the next request: 429, no Retry-After
 * vault.faults.next(2, { type: '429', retryAfterSeconds: 1 }); // retried by the Azure pipeline
 * vault.faults.rate(0.1, { type: 'delay', ms: 50, operations: ['unwrapKey'] });
 * vault.faults.clear();
 * ```
 */
export class VaultFaults {
  #next: Rule[] = [];
  #rates: { fraction: number; fault: Fault }[] = [];
  #injected = 0;

  /**
   * The next `n` matching requests get `fault`. Rules queue in call order.
   *
   * @throws {RangeError} when `n` is not a positive integer or the fault is malformed.
   */
  next(n: number, fault: Fault): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    this.#next.push({ fault: validate(fault), remaining: n });
  }

  /**
   * Each matching request gets `fault` with probability `fraction` (after any `next` rules).
   *
   * @throws {RangeError} when `fraction` is outside [0, 1] or the fault is malformed.
   */
  rate(fraction: number, fault: Fault): void {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`fraction must be in [0, 1], got ${fraction}`);
    this.#rates.push({ fraction, fault: validate(fault) });
  }

  /** Removes every rule (the injected count stays). */
  clear(): void {
    this.#next = [];
    this.#rates = [];
  }

  /** How many faults were injected so far. */
  get injected(): number {
    return this.#injected;
  }

  /** The fault for a request to `operation`, if any; consumes a `next` slot. @internal */
  take(operation: string): Fault | undefined {
    const rule = this.#next.find((r) => r.remaining > 0 && matches(r.fault, operation));
    let fault: Fault | undefined;
    if (rule) {
      rule.remaining--;
      this.#next = this.#next.filter((r) => r.remaining > 0);
      fault = rule.fault;
    } else {
      fault = this.#rates.find((r) => matches(r.fault, operation) && Math.random() < r.fraction)?.fault;
    }
    if (fault) this.#injected++;
    return fault;
  }
}
