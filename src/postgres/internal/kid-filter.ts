/**
 * A SQL pre-filter for "this envelope does not yet name the target key versions", so workers
 * claim only rows that need work and a finished table costs no vault call and no row lock.
 *
 * The kekId of every wrapped key is stored in clear in the envelope header, so an envelope is
 * under the targets iff each target kekId's bytes occur in it. For bytea that is `position()`.
 * For base64 text, the kekId's bytes sit at one of three alignments: the base64 characters that
 * depend only on the kekId (not on its neighbours) are computed for each alignment and both
 * alphabets (standard and URL-safe), and any of them matching counts. The filter can only err
 * towards "done" when an envelope names a target AND an extra old key; the JavaScript check on
 * each claimed row is the authority, and the verification count uses the same filter (see
 * docs/operations.md).
 *
 * @module
 * @internal
 */
import type { ColumnStorage } from './table-columns.js';

/** The base64 substrings that occur in the base64 of any byte string containing `bytes`. */
export function base64Needles(bytes: Uint8Array): string[] {
  const out = new Set<string>();
  for (let pad = 0; pad < 3; pad++) {
    const padded = Buffer.concat([Buffer.alloc(pad), bytes]);
    const text = padded.toString('base64');
    const first = Math.ceil((8 * pad) / 6);
    const end = Math.floor((8 * (pad + bytes.length)) / 6);
    const core = text.slice(first, end);
    out.add(core);
    out.add(core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...out];
}

/**
 * SQL that is true when `column` names every target kekId, with parameters appended to
 * `params` (returns the expression; `params` grows).
 */
export function namesTargetsSql(column: string, storage: ColumnStorage, kekIds: readonly string[], params: unknown[]): string {
  const parts = kekIds.map((kid) => {
    const bytes = Buffer.from(kid, 'utf8');
    if (storage === 'bytea') {
      params.push(bytes);
      return `position($${params.length}::bytea in ${column}) > 0`;
    }
    const any = base64Needles(bytes).map((needle) => {
      params.push(needle);
      return `strpos(${column}, $${params.length}) > 0`;
    });
    return `(${any.join(' OR ')})`;
  });
  return `(${parts.join(' AND ')})`;
}
