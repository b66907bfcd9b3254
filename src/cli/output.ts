import { existsSync } from 'node:fs';
import { UsageError } from './errors.js';

/** Human output by default; `--json` prints one JSON document (or JSON lines for streams of items). */
export interface Output {
  readonly json: boolean;
  /** A result: a human line (or lines), or its JSON form. */
  result(human: string, data: unknown): void;
  /** Informational text for humans only (to stderr, so stdout stays clean for pipes). */
  info(text: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(human, data) {
      stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
    },
    info(text) {
      if (!json) stderr.write(`${text}\n`);
    },
  };
}

/** Replacing a file is a choice the user makes with --force, never a side effect. */
export function refuseOverwrite(output: string, force: boolean | undefined): void {
  if (output !== '-' && force !== true && existsSync(output)) {
    throw new UsageError(`${output} already exists (give --force to replace it, or -o OUT)`);
  }
}
