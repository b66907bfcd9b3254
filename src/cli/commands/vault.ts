/** `kv-envelope vault serve`: the local vault over HTTPS for other processes. */
import { join, resolve } from 'node:path';
import { keepTokenFile } from '../../local-vault/auth/token-file.js';
import { LocalKeyVault, type WebhookDeliveryError } from '../../local-vault/index.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { replaceAtomic } from '../../store/internal/file-io.js';
import { intOption, parse, positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { homeDir } from '../vault-context.js';

export const VAULT_HELP = `Usage: kv-envelope vault serve [--port N] [--webhook URL]...

Serves the local vault (the same keys as the embedded one, from HOME/vault.json) over HTTPS on
127.0.0.1 until interrupted. Other kv-envelope commands may run on the same home meanwhile:
every change is a locked transaction on HOME/vault.json, and the server loads them before each
request. Writes HOME/ca.pem (the self-signed certificate to trust) and HOME/token (an
administrator bearer token, valid 1 hour, rewritten every 30 minutes: read it on each use):

  const client = new KeyClient(url, { getToken: async () => ({ token: readFileSync(tokenFile, 'utf8'),
    expiresOnTimestamp: Date.now() + 30 * 60_000 }) },
    { tlsOptions: { ca: readFileSync(caFile) }, disableChallengeResourceVerification: true });

Key ids served over HTTPS name https://127.0.0.1:PORT, not the embedded vault's host. The port
is recorded in the home and reused by the next vault serve, so envelopes made through the
server still decrypt after a restart. One vault serve per home at a time.

Events (docs/events.md): each --webhook URL gets the vault's events (Event Grid schema, e.g.
Microsoft.KeyVault.SecretNewVersionCreated, SecretNearExpiry) as JSON arrays, in order, retried
with backoff. Event Grid's validation handshake comes first: an endpoint that does not answer it
gets no events (said on stderr). Events published by other commands on this home are delivered
too (within a second).

Options: --port N (default: the port used last time on this home, else a free one; recorded),
--webhook URL (repeatable), --json, --home DIR`;

export async function vaultCommand(argv: string[], out: Output, home: string | undefined): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${VAULT_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals: pos } = parse(rest, { port: { type: 'string' }, webhook: { type: 'string', multiple: true } }, 'vault serve');
  if (values.help) {
    process.stdout.write(`${VAULT_HELP}\n`);
    return 0;
  }
  if (sub !== 'serve') throw new UsageError(`unknown vault command "${sub}" (see: kv-envelope vault --help)`);
  positionals(pos, [], 'vault serve');
  const port = intOption(values.port, 'port');
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--port must be in 1..65535, got ${port}`);
  const webhookUrls = values.webhook ?? [];
  for (const url of webhookUrls) if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--webhook expects an http(s) URL, got "${escapeUntrusted(url)}"`);
  const dir = homeDir({ home });
  const vault = await LocalKeyVault.start({ transport: 'https', ...(port === undefined ? {} : { port }), stateFile: resolve(dir, 'vault.json') });
  const caFile = join(dir, 'ca.pem');
  await replaceAtomic(dir, caFile, Buffer.from(vault.caPem ?? '', 'utf8'));
  const token = await keepTokenFile(vault.credential(), join(dir, 'token'), {
    onError: (error) => process.stderr.write(`warning: could not refresh ${join(dir, 'token')}: ${error instanceof Error ? error.message : String(error)}\n`),
  });
  const refreshMinutes = token.refreshMs / 60_000;
  const webhooks = await subscribeWebhooks(vault, webhookUrls);
  const hooked = webhooks.filter((w) => w.subscribed).map((w) => `\n  webhook: ${w.url}`).join('');
  out.result(
    `local vault serving at ${vault.url}\n  CA certificate: ${caFile}\n  admin token (1 h, rewritten every ${refreshMinutes} min): ${token.path}${hooked}\nPress Ctrl+C to stop.`,
    { url: vault.url, caFile, tokenFile: token.path, tokenExpiresOn: token.expiresOnTimestamp, tokenRefreshSeconds: token.refreshMs / 1000, webhooks },
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  token.stop();
  await vault.close();
  return 0;
}

/** Subscribes each URL (the handshake first); one that fails it is reported on stderr and skipped. */
async function subscribeWebhooks(vault: LocalKeyVault, urls: string[]): Promise<{ url: string; subscribed: boolean; error?: string }[]> {
  const onDeliveryError = (e: WebhookDeliveryError): void => {
    // The first failure of a batch and its drop; the retries in between would only repeat it.
    if (e.attempt === 0 || !e.willRetry) process.stderr.write(`warning: ${e.message}\n`);
  };
  const results = [];
  for (const url of urls) {
    try {
      await vault.events.addWebhook(url, { onDeliveryError });
      results.push({ url, subscribed: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`warning: ${message}\n`);
      results.push({ url, subscribed: false, error: message });
    }
  }
  return results;
}
