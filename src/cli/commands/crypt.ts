/** `kv-envelope encrypt` and `kv-envelope decrypt`: streaming, atomic output files. */
import { EnvelopeClient } from '../../envelope/client.js';
import { DecryptionFailedError, NoMatchingKekError } from '../../errors.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { keyValues, parse, positionals } from '../args.js';
import { writeAtomically } from '../atomic-file.js';
import { UsageError } from '../errors.js';
import { formatContext, openInput, readHeader, sameOrigin } from '../envelope-input.js';
import { type Output, refuseOverwrite } from '../output.js';
import type { VaultContext } from '../vault-context.js';

export const ENCRYPT_HELP = `Usage: kv-envelope encrypt --key NAME [--context k=v ...] FILE|- [-o OUT|-]

Encrypts FILE (or standard input) into a self-contained envelope. The data key is wrapped by
the vault key NAME (an RSA or oct-HSM key). --context pairs are authenticated and stored in the
envelope (readable, not secret). --required-context pairs are authenticated but NOT stored:
decrypting needs "decrypt --context" with the same pairs. OUT defaults to FILE.kve; the output
appears only when complete, and an existing OUT is kept unless --force.

Options: --key NAME, --context k=v (repeatable), --required-context k=v (repeatable),
-o/--output OUT, --force, --json, --vault-url URL, --home DIR`;

export const DECRYPT_HELP = `Usage: kv-envelope decrypt FILE|- [-o OUT|-] [--context k=v ...] [--expect-context k=v ...]

Decrypts an envelope. The key is found from the envelope; only keys of the selected vault are
contacted. OUT defaults to FILE without .kve; the output appears only when fully authenticated:
a tampered or truncated envelope leaves no output file, and an existing OUT is kept unless
--force.

Options:
  --context k=v          the required context the envelope was made with (repeatable)
  --expect-context k=v   fail (exit 1, no output) unless the stored context has k=v (repeatable)
  -o/--output OUT, --force, --json, --vault-url URL, --home DIR`;

const OPTIONS = {
  key: { type: 'string' }, context: { type: 'string', multiple: true }, 'required-context': { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' }, force: { type: 'boolean' },
} as const;
const DECRYPT_OPTIONS = { context: OPTIONS.context, 'expect-context': { type: 'string', multiple: true }, output: OPTIONS.output, force: OPTIONS.force } as const;

export async function encryptCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const { values, positionals: pos } = parse(argv, OPTIONS, 'encrypt');
  if (values.help) return help(ENCRYPT_HELP);
  const [input] = positionals(pos, ['file'], 'encrypt');
  if (values.key === undefined) throw new UsageError('encrypt needs --key NAME (see: kv-envelope encrypt --help)');
  const output = values.output ?? (input === '-' ? undefined : `${input}.kve`);
  if (output === undefined) throw new UsageError('reading standard input: give -o OUT (or -o - for standard output)');
  const context = keyValues(values.context, 'context');
  const requiredContext = keyValues(values['required-context'], 'required-context');
  for (const k of Object.keys(requiredContext ?? {})) {
    if (context !== undefined && Object.hasOwn(context, k)) throw new UsageError(`${escapeUntrusted(k)} is in both --context and --required-context`);
  }
  refuseOverwrite(output, values.force);
  const source = await openInput(input!);
  const v = await vault();
  const client = new EnvelopeClient({ keks: v.kek(values.key) });
  let bytesIn = 0;
  source.on('data', (c: Buffer) => (bytesIn += c.length));
  await writeAtomically(output, source.pipe(client.encryptStream({ context, requiredContext })));
  report(out, output, `encrypted ${input} → ${output} (${bytesIn} bytes) with ${values.key}`, {
    input, output, bytes: bytesIn, key: values.key, context: context ?? {}, requiredContextKeys: Object.keys(requiredContext ?? {}),
  });
  return 0;
}

export async function decryptCommand(argv: string[], vault: () => Promise<VaultContext>, out: Output): Promise<number> {
  const { values, positionals: pos } = parse(argv, DECRYPT_OPTIONS, 'decrypt');
  if (values.help) return help(DECRYPT_HELP);
  const [input] = positionals(pos, ['file'], 'decrypt');
  const output = values.output ?? (input !== '-' && input!.endsWith('.kve') ? input!.slice(0, -4) : undefined);
  if (output === undefined) throw new UsageError('give -o OUT (or -o - for standard output): the input does not end in .kve');
  const requiredContext = keyValues(values.context, 'context');
  const expected = keyValues(values['expect-context'], 'expect-context');
  refuseOverwrite(output, values.force);
  const { header, stream } = await readHeader(await openInput(input!));
  const kekIds = header.wrappedKeys.map((w) => w.kekId);
  const v = await vault();
  const ours = kekIds.filter((id) => sameOrigin(id, v.url));
  if (ours.length === 0) throw new NoMatchingKekError(kekIds);
  const keyName = new URL(ours[0]!).pathname.split('/')[2]!;
  const client = new EnvelopeClient({ keks: v.kek(decodeURIComponent(keyName)) });
  let context: Record<string, string> = {};
  const dec = client.decryptStream({ requiredContext });
  // The stored context is known (and authenticated) before any plaintext is released.
  dec.on('context', (c: Record<string, string>) => {
    context = c;
    const wrong = Object.entries(expected ?? {}).filter(([k, val]) => c[k] !== val);
    if (wrong.length > 0) {
      dec.destroy(new ContextMismatchError(`the stored context does not match --expect-context ${wrong.map(([k, val]) => `${escapeUntrusted(k)}=${escapeUntrusted(val)}`).join(', ')} (stored: ${formatContext(c)})`));
    }
  });
  let bytesOut = 0;
  dec.on('data', (c: Buffer) => (bytesOut += c.length));
  try {
    await writeAtomically(output, stream.pipe(dec));
  } catch (err) {
    // The same static hint for every failure: it tells an attacker nothing about the envelope.
    if (requiredContext === undefined && err instanceof DecryptionFailedError) {
      throw new DecryptionFailedError(`${err.message} (tampered, another key, or made with --required-context: then give the same pairs with --context)`, { cause: err });
    }
    throw err;
  }
  report(out, output, `decrypted ${input} → ${output} (${bytesOut} bytes); context ${formatContext(context)}; key ${escapeUntrusted(ours[0])}`, {
    input, output, bytes: bytesOut, context, kekId: ours[0],
  });
  return 0;
}

/** The stored context is not what `--expect-context` asked for (exit 1, no output). */
export class ContextMismatchError extends Error {
  readonly code = 'CONTEXT_MISMATCH';
  constructor(message: string) {
    super(message);
    this.name = 'ContextMismatchError';
  }
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
