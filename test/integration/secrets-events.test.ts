/**
 * Rotation pickup by events, end to end: the vault publishes SecretNewVersionCreated, the
 * resolver re-reads at once instead of at the next refreshInterval. In-process (a subscriber
 * feeding `resolver.handleEvent`) and across processes (`kv-envelope vault serve --webhook URL`
 * POSTing to `createEventGridHandler(resolver)`). Adversaries: a refreshInterval of an hour on a
 * clock that does not move (without the event, the old value is served: a control resolver
 * shows it), a webhook endpoint that does not answer the handshake (the CLI says so and serves
 * on), a secret written by another process on the same home (`kv-envelope secret set`), an
 * event naming the same secret in another vault, and malformed or hostile POSTs to the handler.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { createEventGridHandler, SecretResolver, type SecretEvent } from '../../src/secrets/index.js';
import { CLI, runCli } from '../cli/run-cli.js';
import { ManualClock } from '../helpers/local-vault.js';

const HOUR = 3_600_000;

describe('in-process: vault.events → resolver.handleEvent', () => {
  it('the next resolve after setSecret returns the new value, with the clock still inside refreshInterval', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const vault = await LocalKeyVault.start({ clock: clock.now, events: { scanIntervalMs: 0 } });
    const options = { credential: vault.credential(), clientOptions: vault.clientOptions, now: clock.now, refreshInterval: HOUR };
    const fed = new SecretResolver(options);
    const control = new SecretResolver(options); // not fed events
    try {
      const stop = vault.events.subscribe((event) => fed.handleEvent(event));
      const admin = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
      await admin.setSecret('Db-Password', 'old-value');
      const ref = '@Microsoft.KeyVault(SecretUri=https://local.vault.azure.net/secrets/db-password)';
      expect(await fed.resolve(ref)).toBe('old-value');
      expect(await control.resolve(ref)).toBe('old-value');
      const rotated: SecretEvent[] = [];
      fed.on('rotated', (e: SecretEvent) => rotated.push(e));
      const second = await admin.setSecret('DB-PASSWORD', 'new-value');
      expect(await fed.resolve(ref)).toBe('new-value');
      expect(await control.resolve(ref)).toBe('old-value');
      expect(rotated.map((e) => e.version)).toEqual([second.properties.version]);
      stop();
    } finally {
      fed.close();
      control.close();
      await vault.close();
    }
  });
});

describe('resolver.handleEvent matches the vault', () => {
  it('ignores an event naming the same secret in another vault (by data.Id host and port, else VaultName)', async () => {
    const vault = await LocalKeyVault.start({ events: { scanIntervalMs: 0 } });
    const resolver = new SecretResolver({ credential: vault.credential(), clientOptions: vault.clientOptions, refreshInterval: HOUR });
    try {
      const admin = new SecretClient(vault.url, vault.credential(), vault.clientOptions);
      await admin.setSecret('shared-name', 'one');
      const ref = '@Microsoft.KeyVault(VaultName=local;SecretName=shared-name)';
      expect(await resolver.resolve(ref)).toBe('one');
      await admin.setSecret('shared-name', 'two');
      const event = (data: Record<string, unknown>) => ({ eventType: 'Microsoft.KeyVault.SecretNewVersionCreated', data: { ObjectName: 'shared-name', ...data } });
      vault.stats.reset();
      resolver.handleEvent([
        event({ Id: 'https://local.vault.azure.net:8443/secrets/shared-name/0123456789abcdef0123456789abcdef', VaultName: 'local' }), // another port
        event({ Id: 'https://attacker.vault.azure.net/secrets/shared-name/0123456789abcdef0123456789abcdef', VaultName: 'local' }), // Id wins over VaultName
        event({ VaultName: 'other' }),
      ]);
      expect(await resolver.resolve(ref)).toBe('one');
      expect(vault.stats.byOperation.getSecret ?? 0).toBe(0);
      resolver.handleEvent(event({ VaultName: 'LOCAL' })); // no Id: the vault name decides
      expect(await resolver.resolve(ref)).toBe('two');
    } finally {
      resolver.close();
      await vault.close();
    }
  });
});

function post(url: string, body: string, method = 'POST', headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
}

describe('createEventGridHandler', () => {
  it('answers the handshake, feeds events, and refuses what is not an Event Grid POST', async () => {
    const fed: unknown[] = [];
    const server = createServer(createEventGridHandler({ handleEvent: (e) => fed.push(...e) }, { maxBodyBytes: 4096 }));
    const url = await listen(server);
    try {
      const handshake = [{ id: '1', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', data: { validationCode: 'code-123', validationUrl: null } }];
      expect(await post(url, JSON.stringify(handshake), 'POST', { 'aeg-event-type': 'SubscriptionValidation' })).toEqual({ status: 200, json: { validationResponse: 'code-123' } });
      expect(fed).toEqual([]);
      const event = { eventType: 'Microsoft.KeyVault.SecretNewVersionCreated', data: { ObjectName: 'x' } };
      expect((await post(url, JSON.stringify([event]), 'POST', { 'aeg-event-type': 'Notification' })).status).toBe(200);
      expect((await post(url, JSON.stringify(event))).status).toBe(200); // a single event, not in an array
      expect(fed).toEqual([event, event]);
      expect((await post(url, '{not json')).status).toBe(400);
      expect((await post(url, '[]')).status).toBe(400);
      expect((await post(url, '[{"data":{}}]')).status).toBe(400);
      expect((await post(url, JSON.stringify([{ eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', data: {} }]))).status).toBe(400);
      expect((await post(url, JSON.stringify([{ ...event, pad: 'x'.repeat(5000) }]))).status).toBe(413);
      expect((await post(url, '', 'GET')).status).toBe(405);
      expect(fed).toHaveLength(2);
    } finally {
      server.close();
    }
    expect(() => createEventGridHandler({} as never)).toThrow(TypeError);
  });
});

describe('across processes: vault serve --webhook → createEventGridHandler → resolver', { timeout: 120_000 }, () => {
  let root: string;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
    root = mkdtempSync(join(tmpdir(), 'kv-secrets-events-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function serve(home: string, webhooks: string[]): { child: ChildProcess; info: Promise<any>; stderr: () => string; stop: () => Promise<void> } {
    const child = spawn(process.execPath, [CLI, 'vault', 'serve', '--json', ...webhooks.flatMap((w) => ['--webhook', w])], {
      env: { ...process.env, KV_ENVELOPE_HOME: home, AZURE_KEYVAULT_URL: '' },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const info = new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      void exited.then(() => reject(new Error(`vault serve exited: ${stderr}`)));
    });
    return {
      child,
      info,
      stderr: () => stderr,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }

  it('a new version set through the server, or by another process on the home, reaches the resolver at once; a failing endpoint is reported', async () => {
    const home = join(root, 'home');
    const seed = await LocalKeyVault.start({ stateFile: join(home, 'vault.json') }); // makes the home
    await seed.close();
    let resolver: SecretResolver | undefined;
    // The resolver needs the served URL, known after the handshake: the handler forwards to it.
    const app = createServer(createEventGridHandler({ handleEvent: (events) => resolver?.handleEvent(events) }));
    const appUrl = await listen(app);
    const refusing = createServer((_req, res) => res.writeHead(403).end());
    const refusingUrl = await listen(refusing);
    const served = serve(home, [appUrl, refusingUrl]);
    try {
      const info = await served.info;
      expect(info.webhooks).toEqual([
        { url: appUrl, subscribed: true },
        { url: refusingUrl, subscribed: false, error: expect.stringContaining('HTTP 403') },
      ]);
      expect(served.stderr()).toContain(`${refusingUrl} did not complete the Event Grid subscription validation handshake`);
      const credential = { getToken: async () => ({ token: readFileSync(info.tokenFile, 'utf8'), expiresOnTimestamp: Date.now() + 60_000 }) };
      const clientOptions = { tlsOptions: { ca: readFileSync(info.caFile, 'utf8') }, disableChallengeResourceVerification: true as const };
      resolver = new SecretResolver({ credential, clientOptions, refreshInterval: HOUR, allowedVaults: [info.url] });
      const admin = new SecretClient(info.url, credential, clientOptions);
      await admin.setSecret('api-key', 'first');
      const ref = { vaultUrl: info.url, name: 'api-key', version: undefined }; // the App Service grammar has no port
      expect(await resolver.resolve(ref)).toBe('first');

      await admin.setSecret('api-key', 'second');
      await vi.waitFor(async () => expect(await resolver!.resolve(ref)).toBe('second'), { timeout: 20_000, interval: 50 });

      // Another process on the same home, as a user types it: the server's scan delivers its event.
      const set = await runCli(['secret', 'set', 'api-key', '--value', 'third'], { cwd: root, env: { KV_ENVELOPE_HOME: home } });
      expect(set.code, set.stderr).toBe(0);
      await vi.waitFor(async () => expect(await resolver!.resolve(ref)).toBe('third'), { timeout: 20_000, interval: 50 });
    } finally {
      resolver?.close();
      await served.stop();
      app.close();
      refusing.close();
    }
  });
});
