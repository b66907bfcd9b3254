/**
 * `kv-envelope inspect`: what an envelope's header says (key ids, wrapping algorithms, stored
 * context, frame size) without a vault call. Nothing here is authenticated until a decrypt
 * succeeds, so every string from the envelope is escaped before it reaches the terminal.
 */
import { parseContext } from '../../format/context.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { parse, positionals } from '../args.js';
import { openInput, readHeader, formatContext } from '../envelope-input.js';
import type { Output } from '../output.js';

export const INSPECT_HELP = `Usage: kv-envelope inspect FILE|- [--json]

Shows an envelope's header: the key ids (kids) and algorithms its data key is wrapped with,
the stored context, and the frame size. No vault call, nothing decrypted. The header is NOT
authenticated until the envelope is decrypted: to rely on the context, use
"kv-envelope decrypt --expect-context k=v" instead.`;

export async function inspectCommand(argv: string[], out: Output): Promise<number> {
  const { values, positionals: pos } = parse(argv, {}, 'inspect');
  if (values.help) {
    process.stdout.write(`${INSPECT_HELP}\n`);
    return 0;
  }
  const [input] = positionals(pos, ['file'], 'inspect');
  const { header, stream } = await readHeader(await openInput(input!));
  stream.destroy();
  const context = parseContext(header.contextBytes);
  const wrapped = header.wrappedKeys.map((w) => ({ kekId: w.kekId, alg: w.alg }));
  const lines = [
    `${escapeUntrusted(input)}: envelope, frame size ${header.frameSize} bytes, header ${header.headerLength} bytes (unauthenticated until decrypted)`,
    ...wrapped.map((w) => `  data key wrapped by ${escapeUntrusted(w.kekId)} (${escapeUntrusted(w.alg)})`),
    `  context: ${formatContext(context)}`,
  ];
  out.result(lines.join('\n'), { input, frameSize: header.frameSize, headerLength: header.headerLength, wrappedKeys: wrapped, context, authenticated: false });
  return 0;
}
