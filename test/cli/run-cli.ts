/** Runs the built `dist/cli.js` as a user would: a child process, in a given directory. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  raw: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  input?: Buffer;
  env?: NodeJS.ProcessEnv;
}

/** `kv-envelope ARGS` in `cwd`, with KV_ENVELOPE_HOME and AZURE_KEYVAULT_URL cleared unless given. */
export function runCli(args: string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, KV_ENVELOPE_HOME: '', AZURE_KEYVAULT_URL: '', ...options.env };
    const child = execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, encoding: 'buffer', env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: stdout.toString('utf8'), raw: stdout, stderr: stderr.toString('utf8') });
    });
    child.stdin!.end(options.input);
  });
}
