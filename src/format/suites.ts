/**
 * Algorithm suites as a data table (resolved once; code below never switches on ids).
 * docs/format.md §Suites.
 */
import { utf8 } from '../internal/bytes.js';

export interface EnvelopeSuite {
  /** The byte stored in the envelope. */
  readonly id: number;
  readonly name: string;
  /** Length of the DEK the KEKs wrap. */
  readonly dekLength: number;
  /** Length of the per-message content key HKDF derives. */
  readonly contentKeyLength: number;
  /** Length of the key commitment HKDF derives next to the content key. */
  readonly commitmentLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  /** HKDF `info`; binds the derived keys to this suite. */
  readonly kdfInfo: Uint8Array;
}

/** Suite 0x01: AES-256-GCM, per-message key and commitment from HKDF-SHA-256(DEK, salt = messageId). */
export const SUITE_AES256GCM_HKDF_COMMIT: EnvelopeSuite = Object.freeze({
  id: 0x01,
  name: 'AES-256-GCM-HKDF-SHA256-COMMIT',
  dekLength: 32,
  contentKeyLength: 32,
  commitmentLength: 32,
  nonceLength: 12,
  tagLength: 16,
  kdfInfo: utf8('kv-envelope/v1 suite 0x01 content key + commitment'),
});

const SUITES: ReadonlyMap<number, EnvelopeSuite> = new Map([[SUITE_AES256GCM_HKDF_COMMIT.id, SUITE_AES256GCM_HKDF_COMMIT]]);

/** The suite for a stored id, or undefined when unknown. */
export function suiteById(id: number): EnvelopeSuite | undefined {
  return SUITES.get(id);
}

export const DEFAULT_SUITE = SUITE_AES256GCM_HKDF_COMMIT;
