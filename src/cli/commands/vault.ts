/** `kv-envelope vault serve`: the local vault over HTTPS for other processes. */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalKeyVault } from '../../local-vault/index.js';
import { intOption, parse, positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { homeDir } from '../vault-context.js';

export const VAULT_HELP = `Usage: kv-envelope vault serve [--port N]

Serves the local vault (the same keys as the embedded one, from HOME/vault.json) over HTTPS on
127.0.0.1 until interrupted. Writes HOME/ca.pem (the self-signed certificate to trust) and
HOME/token (an administrator bearer token, valid 1 hour) and prints how to use them:

  const client = new KeyClient(url, { getToken: async () => ({ token, expiresOnTimestamp }) },
    { tlsOptions: { ca: readFileSync(caFile) }, disableChallengeResourceVerification: true });

Key ids served over HTTPS name https://127.0.0.1:PORT, not the embedded vault's host, so
envelopes made by one are decrypted through the same one.

Options: --port N (default: a free port), --json, --home DIR`;

export async function vaultCommand(argv: string[], out: Output, home: string | undefined): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${VAULT_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, { port: { type: 'string' } }, 'vault serve');
  if (values.help) {
    process.stdout.write(`${VAULT_HELP}\n`);
    return 0;
  }
  if (sub !== 'serve') throw new UsageError(`unknown vault command "${sub}" (see: kv-envelope vault --help)`);
  positionals(pos, [], 'vault serve');
  const dir = homeDir({ home });
  const vault = await LocalKeyVault.start({ transport: 'https', port: intOption(values.port, 'port') ?? 0, stateFile: resolve(dir, 'vault.json') });
  const caFile = join(dir, 'ca.pem');
  const tokenFile = join(dir, 'token');
  await writeFile(caFile, vault.caPem ?? '', { mode: 0o600 });
  const token = await vault.credential().getToken('https://vault.azure.net/.default');
  await writeFile(tokenFile, token?.token ?? '', { mode: 0o600 });
  out.result(`local vault serving at ${vault.url}\n  CA certificate: ${caFile}\n  admin token (1 h): ${tokenFile}\nPress Ctrl+C to stop.`, {
    url: vault.url, caFile, tokenFile, tokenExpiresOn: token?.expiresOnTimestamp,
  });
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await vault.close();
  return 0;
}
