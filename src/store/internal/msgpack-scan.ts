/**
 * A structural pass over MessagePack bytes before msgpackr sees them: only the plain types a
 * record file uses (nil, booleans, integers, floats, str, bin, array, map with string keys) are
 * allowed. Every extension type (ext 8/16/32, fixext 1..16) is refused, so msgpackr's record
 * definitions (0x72), RegExp, Set, Map, Error, Date and typed-array extensions are never
 * materialized from a file someone else could write (issue 8 §7). Bounded: depth, element count
 * and every length is checked against the remaining bytes before moving on.
 *
 * @module
 * @internal
 */

/** Deeper than any record file (map → array → map). */
const MAX_DEPTH = 8;
/** More elements than any record within RECORD_LIMITS has. */
const MAX_ITEMS = 4096;

/**
 * Throws unless `bytes` is exactly one MessagePack value of plain types.
 * @throws {RangeError} naming the first offending byte offset (never echoing content).
 * @example `assertPlainMessagePack(fileBytes); const value = packr.unpack(fileBytes);`
 */
export function assertPlainMessagePack(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let items = 0;
  const need = (n: number): void => {
    if (n > bytes.length - pos) throw new RangeError(`MessagePack value truncated at offset ${pos}`);
  };
  const length = (width: 1 | 2 | 4): number => {
    need(width);
    const n = width === 1 ? view.getUint8(pos) : width === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += width;
    return n;
  };
  const value = (depth: number, asKey: boolean): void => {
    if (++items > MAX_ITEMS) throw new RangeError('MessagePack value has too many elements');
    need(1);
    const at = pos;
    const b = bytes[pos++]!;
    const isStr = (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
    if (asKey && !isStr) throw new RangeError(`MessagePack map key at offset ${at} is not a string`);
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return; // fixint, nil, bool
    if (b >= 0xa0 && b <= 0xbf) return skip(b & 0x1f); // fixstr
    if (b >= 0x80 && b <= 0x8f) return container(b & 0x0f, 2, depth);
    if (b >= 0x90 && b <= 0x9f) return container(b & 0x0f, 1, depth);
    switch (b) {
      case 0xc4: case 0xd9: return skip(length(1)); // bin8, str8
      case 0xc5: case 0xda: return skip(length(2));
      case 0xc6: case 0xdb: return skip(length(4));
      case 0xca: return skip(4); // float32
      case 0xcb: return skip(8); // float64
      case 0xcc: case 0xd0: return skip(1); // uint8, int8
      case 0xcd: case 0xd1: return skip(2);
      case 0xce: case 0xd2: return skip(4);
      case 0xcf: case 0xd3: return skip(8);
      case 0xdc: return container(length(2), 1, depth); // array16
      case 0xdd: return container(length(4), 1, depth);
      case 0xde: return container(length(2), 2, depth); // map16
      case 0xdf: return container(length(4), 2, depth);
      default: // 0xc1 (never used), ext 8/16/32 (0xc7-0xc9), fixext (0xd4-0xd8)
        throw new RangeError(`MessagePack type 0x${b.toString(16)} at offset ${at} is not allowed in a key store record`);
    }
  };
  const skip = (n: number): void => {
    need(n);
    pos += n;
  };
  const container = (count: number, perEntry: 1 | 2, depth: number): void => {
    if (depth >= MAX_DEPTH) throw new RangeError('MessagePack value is nested too deeply');
    if (count > MAX_ITEMS) throw new RangeError('MessagePack value has too many elements');
    for (let i = 0; i < count; i++) {
      if (perEntry === 2) value(depth + 1, true);
      value(depth + 1, false);
    }
  };
  value(0, false);
  if (pos !== bytes.length) throw new RangeError(`trailing bytes after the MessagePack value at offset ${pos}`);
}
