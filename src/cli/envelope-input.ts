/** Reading envelope input for the CLI: files or stdin, the header first, escaped for display. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { EnvelopeMalformedError } from '../errors.js';
import { type EnvelopeHeader, parseHeader } from '../format/envelope.js';
import { NeedMoreBytes } from '../format/internal/reader.js';
import { escapeUntrusted } from '../internal/escape.js';
import { UsageError } from './errors.js';

/** A file as a stream (or stdin for `-`); a missing file is a one-line usage error. */
export async function openInput(path: string): Promise<Readable> {
  if (path === '-') return process.stdin;
  const s = await stat(path);
  if (!s.isFile()) throw new UsageError(`${path} is not a file`);
  return createReadStream(path);
}

const MAX_HEADER_BYTES = 256 * 1024;

/** Reads until the envelope header parses; returns it and a stream of the whole input. */
export async function readHeader(source: Readable): Promise<{ header: EnvelopeHeader; stream: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const iterator = source[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (!next.done) {
      chunks.push(next.value as Buffer);
      length += (next.value as Buffer).length;
    }
    const head = Buffer.concat(chunks);
    try {
      const header = parseHeader(head);
      const rest = async function* () {
        yield head;
        for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value as Buffer;
      };
      return { header, stream: Readable.from(rest(), { objectMode: false }) };
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err;
      if (next.done || length > MAX_HEADER_BYTES) throw new EnvelopeMalformedError('envelope is truncated');
    }
  }
}

/** Whether a kid names the same vault (origin) as `vaultUrl`. */
export function sameOrigin(kekId: string, vaultUrl: string): boolean {
  try {
    return new URL(kekId).origin === new URL(vaultUrl).origin;
  } catch {
    return false;
  }
}

/** A context (attacker-controlled when it comes from an envelope) as one escaped line: `k=v, k=v`. */
export function formatContext(context: Readonly<Record<string, string>>): string {
  const entries = Object.entries(context);
  return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${escapeUntrusted(k)}=${escapeUntrusted(v)}`).join(', ');
}
