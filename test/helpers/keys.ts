import { randomBytes } from 'node:crypto';
import { LocalAesKek } from '../../src/index.js';

/** A fresh local AES-256 KEK. */
export function aesKek(id = `local/aes/${randomBytes(4).toString('hex')}`): LocalAesKek {
  return new LocalAesKek({ id, key: randomBytes(32) });
}

/** Collects an async iterable / stream of chunks into one buffer. */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}
