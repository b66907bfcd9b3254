/**
 * Choosing `bits` for a blind index (the CipherSweet approach, docs/searchable.md): enough bits
 * that a lookup returns few false positives, few enough that every index value is shared by
 * several distinct plaintexts, so the column shows buckets, not equality.
 *
 * @module
 */
import { assertPositiveInt } from '../internal/bytes.js';

/** What the planner needs to know about the column. */
export interface BlindIndexPlanInput {
  /** Rows in the table (now, or what you expect it to grow to). */
  rows: number;
  /** Distinct values in the column (an estimate: `SELECT count(DISTINCT …)` on the plaintext, or the domain size). */
  distinctValues: number;
  /** Distinct plaintexts that must share each index value at least, on average. Default 2: an index value never pins one value. */
  minValuesPerBucket?: number;
  /** Bits of other blind indexes on the same rows: together they narrow a row down like one index of their total bits. Default 0. */
  otherIndexBits?: number;
}

/** The recommendation. */
export interface BlindIndexPlan {
  /** Recommended bits, or undefined when no blind index is safe for this column. */
  readonly bits: number | undefined;
  /** Distinct plaintexts per index value, on average, at `bits`. */
  readonly valuesPerBucket: number;
  /** Rows an equality lookup returns on average (true matches included). */
  readonly rowsPerLookup: number;
  /** Of those, rows that are false positives (filtered by decrypting). */
  readonly falsePositivesPerLookup: number;
  /** Why, in a sentence or two. */
  readonly explanation: string;
}

/**
 * Recommends the largest `bits` (cheapest queries) that keeps at least `minValuesPerBucket`
 * distinct values per index value, counting the bits of other indexes on the same rows.
 * @throws {TypeError | RangeError} on invalid input, naming it.
 * @example
 * ```ts
 * import { planBlindIndex } from 'kv-envelope/postgres';
 * planBlindIndex({ rows: 1_000_000, distinctValues: 1_000_000 }).bits; // 18
 * ```
 */
export function planBlindIndex(input: BlindIndexPlanInput): BlindIndexPlan {
  if (input === null || typeof input !== 'object') throw new TypeError('input must be an object');
  assertPositiveInt(input.rows, 'input.rows');
  assertPositiveInt(input.distinctValues, 'input.distinctValues');
  if (input.distinctValues > input.rows) throw new RangeError('input.distinctValues cannot exceed input.rows');
  const k = input.minValuesPerBucket ?? 2;
  if (typeof k !== 'number' || !(k >= 1)) throw new RangeError('input.minValuesPerBucket must be a number ≥ 1');
  const other = input.otherIndexBits ?? 0;
  if (!Number.isInteger(other) || other < 0) throw new RangeError('input.otherIndexBits must be a non-negative integer');
  const max = Math.floor(Math.log2(input.distinctValues / k)) - other;
  const rowsPerValue = input.rows / input.distinctValues;
  if (max < 1) {
    return {
      bits: undefined, valuesPerBucket: input.distinctValues, rowsPerLookup: input.rows, falsePositivesPerLookup: input.rows - rowsPerValue,
      explanation: `${input.distinctValues} distinct values cannot fill even 2 buckets with ${k} values each${other > 0 ? ` once the other indexes' ${other} bits are counted` : ''}: any blind index would reveal equality. Do not index this column (or index it together with another value in a compound index).`,
    };
  }
  const bits = Math.min(max, 32);
  const buckets = 2 ** bits;
  const valuesPerBucket = input.distinctValues / buckets;
  const rowsPerLookup = rowsPerValue + (input.rows - rowsPerValue) / buckets;
  return {
    bits, valuesPerBucket, rowsPerLookup, falsePositivesPerLookup: rowsPerLookup - rowsPerValue,
    explanation: `${bits} bits: ${fmt(valuesPerBucket)} distinct values share each index value (at least ${k} wanted), and a lookup returns ~${fmt(rowsPerLookup)} rows, ${fmt(rowsPerLookup - rowsPerValue)} of them false positives that decrypting filters out.${bits === 32 ? ' (Capped at 32 bits.)' : ''}`,
  };
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(n >= 10 ? 1 : 2);
}
