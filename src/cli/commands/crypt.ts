/** `kv-envelope encrypt` and `kv-envelope decrypt`: streaming, atomic output files. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { EnvelopeClient } from '../../envelope/client.js';
import { EnvelopeMalformedError, NoMatchingKekError } from '../../errors.js';
import { parseHeader } from '../../format/envelope.js';
import { NeedMoreBytes } from '../../format/internal/reader.js';
import { keyValues, parse, positionals } from '../args.js';
import { writeAtomically } from '../atomic-file.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { VaultContext } from '../vault-context.js';

export const ENCRYPT_HELP = `Usage: kv-envelope encrypt --key NAME [--context k=v ...] FILE|- [-o OUT|-]

Encrypts FILE (or standard input) into a self-contained envelope. The data key is wrapped by
the vault key NAME (an RSA or oct-HSM key). --context pairs are authenticated and stored in the
envelope (not secret). OUT defaults to FILE.kve; the output appears only when complete.

Options: --key NAME, --context k=v (repeatable), -o/--output OUT, --json, --vault-url URL, --home DIR`;

export const DECRYPT_HELP = `Usage: kv-envelope decrypt FILE|- [-o OUT|-]

Decrypts an envelope. The key is found from the envelope; only keys of the selected vault are
contacted. OUT defaults to FILE without .kve; the output appears only when fully authenticated:
a tampered or truncated envelope leaves no output file.

Options: -o/--output OUT, --json, --vault-url URL, --home DIR`;

const OPTIONS = { key: { type: 'string' }, context: { type: 'string', multiple: true }, output: { type: 'string', short: 'o' } } as const;

export async function encryptCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const { values, positionals: pos } = parse(argv, OPTIONS, 'encrypt');
  if (values.help) return help(ENCRYPT_HELP);
  const [input] = positionals(pos, ['file'], 'encrypt');
  if (values.key === undefined) throw new UsageError('encrypt needs --key NAME (see: kv-envelope encrypt --help)');
  const output = values.output ?? (input === '-' ? undefined : `${input}.kve`);
  if (output === undefined) throw new UsageError('reading standard input: give -o OUT (or -o - for standard output)');
  const context = keyValues(values.context, 'context');
  const source = await openInput(input!);
  const v = await vault();
  const client = new EnvelopeClient({ keks: v.kek(values.key) });
  let bytesIn = 0;
  source.on('data', (c: Buffer) => (bytesIn += c.length));
  await writeAtomically(output, source.pipe(client.encryptStream({ context })));
  report(out, output, `encrypted ${input} → ${output} (${bytesIn} bytes) with ${values.key}`, { input, output, bytes: bytesIn, key: values.key, context: context ?? {} });
  return 0;
}

export async function decryptCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const { values, positionals: pos } = parse(argv, { output: OPTIONS.output }, 'decrypt');
  if (values.help) return help(DECRYPT_HELP);
  const [input] = positionals(pos, ['file'], 'decrypt');
  const output = values.output ?? (input !== '-' && input!.endsWith('.kve') ? input!.slice(0, -4) : undefined);
  if (output === undefined) throw new UsageError('give -o OUT (or -o - for standard output): the input does not end in .kve');
  const { kekIds, stream } = await readHeader(await openInput(input!));
  const v = await vault();
  const ours = kekIds.filter((id) => sameOrigin(id, v.url));
  if (ours.length === 0) throw new NoMatchingKekError(kekIds);
  const keyName = new URL(ours[0]!).pathname.split('/')[2]!;
  const client = new EnvelopeClient({ keks: v.kek(keyName) });
  let context: Record<string, string> = {};
  const dec = client.decryptStream();
  dec.on('context', (c: Record<string, string>) => (context = c));
  let bytesOut = 0;
  dec.on('data', (c: Buffer) => (bytesOut += c.length));
  await writeAtomically(output, stream.pipe(dec));
  report(out, output, `decrypted ${input} → ${output} (${bytesOut} bytes); context ${JSON.stringify(context)}; key ${ours[0]}`, { input, output, bytes: bytesOut, context, kekId: ours[0] });
  return 0;
}

/** The result line; when the data itself went to stdout, the report goes to stderr instead. */
function report(out: Output, output: string, human: string, data: unknown): void {
  if (output !== '-') out.result(human, data);
  else process.stderr.write(`${out.json ? JSON.stringify(data) : human}\n`);
}

function help(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

async function openInput(path: string): Promise<Readable> {
  if (path === '-') return process.stdin;
  const s = await stat(path);
  if (!s.isFile()) throw new UsageError(`${path} is not a file`);
  return createReadStream(path);
}

const MAX_HEADER_BYTES = 256 * 1024;

/** Reads until the envelope header parses; returns its kekIds and a stream of the whole input. */
async function readHeader(source: Readable): Promise<{ kekIds: string[]; stream: Readable }> {
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
      return { kekIds: header.wrappedKeys.map((w) => w.kekId), stream: Readable.from(rest(), { objectMode: false }) };
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err;
      if (next.done || length > MAX_HEADER_BYTES) throw new EnvelopeMalformedError('envelope is truncated');
    }
  }
}

function sameOrigin(kekId: string, vaultUrl: string): boolean {
  try {
    return new URL(kekId).origin === new URL(vaultUrl).origin;
  } catch {
    return false;
  }
}
