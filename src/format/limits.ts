/**
 * Named bounds of both formats. Every length read from untrusted bytes is checked against one of
 * these before anything is allocated or sliced (docs/format.md §Limits says why each exists).
 */
export const Limits = {
  /** Wrapped DEKs per envelope: one per KEK; 16 covers primary + DR vaults with room to spare. */
  MAX_WRAPPED_KEYS: 16,
  /** UTF-8 bytes of a kekId: a Key Vault kid is < 200; 1 KiB leaves room for long host names. */
  MAX_KEK_ID_BYTES: 1024,
  /** ASCII bytes of an algorithm id ('RSA-OAEP-256' is 12). */
  MAX_ALG_BYTES: 32,
  /** Wrapped DEK bytes: RSA-4096 gives 512; 1 KiB bounds an attacker's allocation. */
  MAX_WRAPPED_KEY_BYTES: 1024,
  /** Encoded encryption context (stored part). Context is for labels, not data. */
  MAX_CONTEXT_BYTES: 16 * 1024,
  /** Pairs in one context map. */
  MAX_CONTEXT_PAIRS: 64,
  /** Smallest and largest frame size a decryptor accepts (the largest bounds memory per stream). */
  MIN_FRAME_SIZE: 1024,
  MAX_FRAME_SIZE: 4 * 1024 * 1024,
  /**
   * Default frame size. 256 KiB keeps per-frame set-up (cipher init, 20 bytes of framing) below
   * 1% of the work on large inputs while a stream holds at most two frames in memory
   * (bench/README: 64 KiB measured ~3% slower than 256 KiB at 1 MiB; 1 MiB no faster).
   */
  DEFAULT_FRAME_SIZE: 256 * 1024,
  /** Frames per message: the sequence number is a u32 in the nonce; 0 is the header's. */
  MAX_FRAMES: 0xffff_ffff,
  /** Bytes of a field AAD string once UTF-8 encoded. */
  MAX_FIELD_AAD_BYTES: 4096,
} as const;
