/** `kv-envelope vault serve | time | role`: the local vault over HTTPS for other processes, its clock and roles. */
import { join, resolve } from 'node:path';
import { keepTokenFile } from '../../local-vault/auth/token-file.js';
import { LocalKeyVault, VAULT_FLAVOURS, type LocalKeyVaultOptions, type VaultFlavour, type WebhookDeliveryError } from '../../local-vault/index.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { replaceAtomic } from '../../store/internal/file-io.js';
import { intOption, parse, positionals } from '../args.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { homeDir } from '../vault-context.js';
import { ROLE_OPTIONS, roleCommand, roleDefinitions, timeCommand } from './vault-admin.js';

export const VAULT_HELP = `Usage: kv-envelope vault serve [--port N] [--webhook URL]... [--flavour F] [--auth MODE]
                                [--role-definitions FILE] [--throttle]
       kv-envelope vault time show
       kv-envelope vault time advance DURATION
       kv-envelope vault role assign PRINCIPAL ROLE [--scope keys/NAME|secrets/NAME] [--role-definitions FILE]

serve: serves the local vault (the same keys as the embedded one, from HOME/vault.json) over
HTTPS on 127.0.0.1 until interrupted. Other kv-envelope commands may run on the same home
meanwhile: every change is a locked transaction on HOME/vault.json, and the server loads them
before each request. Writes HOME/ca.pem (the self-signed certificate to trust) and HOME/token
(an administrator bearer token, valid 1 hour, rewritten every 30 minutes: read it on each use):

  const client = new KeyClient(url, { getToken: async () => ({ token: readFileSync(tokenFile, 'utf8'),
    expiresOnTimestamp: Date.now() + 30 * 60_000 }) },
    { tlsOptions: { ca: readFileSync(caFile) }, disableChallengeResourceVerification: true });

Key ids served over HTTPS name https://127.0.0.1:PORT, not the embedded vault's host. The port
is recorded in the home and reused by the next vault serve, so envelopes made through the
server still decrypt after a restart. One vault serve per home at a time.

time: the vault's clock (time travel, for rotation policies, expiry and purge in tests). advance
moves it forward by an ISO 8601 duration (P30D, PT12H, P1Y) for every process on the home, the
server included, then runs the due rotations, purges and expiry events. A served vault also answers
GET /admin/clock and POST /admin/clock {"advance":"P30D"} with the admin token.

role assign: gives PRINCIPAL (a token's oid) a built-in role ("Key Vault Crypto User") or a
custom one from --role-definitions, on the vault or one object; a running server applies it
from its next request. With --auth any-bearer, the first assignment turns RBAC on.

Events (docs/events.md): each --webhook URL gets the vault's events (Event Grid schema, e.g.
Microsoft.KeyVault.SecretNewVersionCreated, SecretNearExpiry) as JSON arrays, in order, retried
with backoff. Event Grid's validation handshake comes first: an endpoint that does not answer it
gets no events (said on stderr). Events published by other commands on this home are delivered
too (within a second).

Options: --port N (default: the port used last time on this home, else a free one; recorded),
--webhook URL (repeatable),
--flavour standard|premium|managed-hsm (default: the one recorded in the home, else premium;
oct-HSM keys, AES and /rng need managed-hsm), --auth strict|any-bearer (default strict: only
HOME/token; any-bearer accepts any well-formed bearer token, e.g. other SDKs' credentials),
--role-definitions FILE (custom roles: a JSON role definition or an array of them),
--throttle (the service's weighted limits, 429 with Retry-After), --json, --home DIR`;

const SERVE_OPTIONS = {
  port: { type: 'string' },
  webhook: { type: 'string', multiple: true },
  flavour: { type: 'string' },
  auth: { type: 'string' },
  'role-definitions': { type: 'string' },
  throttle: { type: 'boolean' },
} as const;

async function serveOptions(values: Record<string, unknown>): Promise<LocalKeyVaultOptions> {
  const port = intOption(values.port as string | undefined, 'port');
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`--port must be in 1..65535, got ${port}`);
  const flavour = values.flavour as string | undefined;
  if (flavour !== undefined && !(VAULT_FLAVOURS as readonly string[]).includes(flavour)) {
    throw new UsageError(`--flavour is ${VAULT_FLAVOURS.join(', ')}, got "${escapeUntrusted(flavour)}"`);
  }
  const auth = values.auth as string | undefined;
  if (auth !== undefined && auth !== 'strict' && auth !== 'any-bearer') throw new UsageError(`--auth is strict or any-bearer, got "${escapeUntrusted(auth)}"`);
  const roles = await roleDefinitions(values['role-definitions'] as string | undefined);
  return {
    transport: 'https',
    ...(port === undefined ? {} : { port }),
    ...(flavour === undefined ? {} : { flavour: flavour as VaultFlavour }),
    ...(auth === undefined ? {} : { auth }),
    ...(roles === undefined ? {} : { roleDefinitions: roles }),
    ...(values.throttle ? { throttle: true } : {}),
  };
}

export async function vaultCommand(argv: string[], out: Output, home: string | undefined): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${VAULT_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'serve' && sub !== 'time' && sub !== 'role') throw new UsageError(`unknown vault command "${escapeUntrusted(sub)}" (see: kv-envelope vault --help)`);
  const accepted = sub === 'serve' ? SERVE_OPTIONS : sub === 'role' ? ROLE_OPTIONS : {};
  const { values, positionals: pos } = parse(rest, accepted, `vault ${sub}`);
  if (values.help) {
    process.stdout.write(`${VAULT_HELP}\n`);
    return 0;
  }
  if (sub === 'time') return timeCommand(pos, homeDir({ home, create: false }), out);
  if (sub === 'role') return roleCommand(pos, values, homeDir({ home, create: false }), out);
  positionals(pos, [], 'vault serve');
  const options = await serveOptions(values);
  const webhookUrls = ((values as Record<string, unknown>).webhook as string[] | undefined) ?? [];
  for (const url of webhookUrls) if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--webhook expects an http(s) URL, got "${escapeUntrusted(url)}"`);
  const dir = homeDir({ home });
  let vault: LocalKeyVault;
  try {
    vault = await LocalKeyVault.start({ ...options, stateFile: resolve(dir, 'vault.json') });
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
  const caFile = join(dir, 'ca.pem');
  await replaceAtomic(dir, caFile, Buffer.from(vault.caPem ?? '', 'utf8'));
  const token = await keepTokenFile(vault.credential(), join(dir, 'token'), {
    resource: vault.resource,
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
