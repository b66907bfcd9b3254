/**
 * The length of an envelope header from its length fields alone, for streaming parsers that
 * receive the header in arbitrary chunks. Walking only the length fields (≤ 3 per wrapped key
 * plus 4) instead of re-parsing the whole header on each chunk keeps streaming decrypt linear in
 * the header size: the caller asks again only once it holds `need` bytes.
 */
import { EnvelopeMalformedError } from '../../errors.js';
import { Limits } from '../limits.js';
import { ENVELOPE_V1, ENVELOPE_V2, suiteById } from '../suites.js';

/** `complete`: the header is `length` bytes; otherwise at least `need` bytes are needed to learn more. */
export type HeaderLengthProbe = { readonly complete: true; readonly length: number } | { readonly complete: false; readonly need: number };

const PREFIX = 34;
const V2_SECTION_MAC = 32;
const FRAME_SIZE = 4;
const V1_COMMITMENT_AND_TAG = 32 + 16;

/**
 * Probes the header at the start of `bytes`. Checks the version, the suite and every length
 * against its limit as soon as it is visible, so a hostile stream cannot make a reader wait for
 * more than the format allows.
 * @throws {EnvelopeMalformedError} on an unknown version or suite, or a length over its limit.
 */
export function probeHeaderLength(bytes: Uint8Array, notAnEnvelope: (version: number) => Error): HeaderLengthProbe {
  const n = bytes.length;
  if (n < 2) return { complete: false, need: 2 };
  const version = bytes[0]!;
  if (version !== ENVELOPE_V1 && version !== ENVELOPE_V2) throw notAnEnvelope(version);
  if (suiteById(bytes[1]!, version) === undefined) throw new EnvelopeMalformedError(`unknown envelope suite 0x${bytes[1]!.toString(16).padStart(2, '0')}`);
  let off = PREFIX;
  if (n < off + 1) return { complete: false, need: off + 1 };
  const count = bytes[off++]!;
  if (count === 0 || count > Limits.MAX_WRAPPED_KEYS) {
    throw new EnvelopeMalformedError(`wrapped key count ${count} is outside 1..${Limits.MAX_WRAPPED_KEYS}`);
  }
  for (let i = 0; i < count; i++) {
    if (n < off + 2) return { complete: false, need: off + 2 };
    off += 2 + bounded(u16(bytes, off), Limits.MAX_KEK_ID_BYTES, 'kekId');
    if (n < off + 1) return { complete: false, need: off + 1 };
    off += 1 + bounded(bytes[off]!, Limits.MAX_ALG_BYTES, 'alg');
    if (n < off + 2) return { complete: false, need: off + 2 };
    off += 2 + bounded(u16(bytes, off), Limits.MAX_WRAPPED_KEY_BYTES, 'wrapped key');
  }
  if (version === ENVELOPE_V2) off += V2_SECTION_MAC;
  if (n < off + 2) return { complete: false, need: off + 2 };
  off += 2 + bounded(u16(bytes, off), Limits.MAX_CONTEXT_BYTES, 'context') + FRAME_SIZE;
  if (version === ENVELOPE_V1) off += V1_COMMITMENT_AND_TAG;
  return { complete: true, length: off };
}

function u16(bytes: Uint8Array, off: number): number {
  return (bytes[off]! << 8) | bytes[off + 1]!;
}

function bounded(n: number, max: number, what: string): number {
  if (n > max) throw new EnvelopeMalformedError(`${what} is ${n} bytes, more than the limit of ${max}`);
  return n;
}
