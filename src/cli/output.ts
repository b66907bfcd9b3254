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
