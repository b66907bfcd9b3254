/**
 * Events of vaults that share one state file (a `vault serve` and CLI processes on one home).
 * Adversaries: a second vault on the same file racing the first to the same due event (one
 * event is published, with one id, and each vault's subscribers get it once), a restart (what
 * was published before is neither published nor delivered again), a writer process with no
 * subscriber (the other vault's subscribers still get its events), and a state file written
 * before events existed (it loads).
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { ManualClock } from '../helpers/local-vault.js';
import { DAY_MS, EventRecorder } from '../helpers/vault-events.js';

const T0 = Date.UTC(2031, 5, 1);
let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kv-events-shared-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function logged(file: string): Promise<{ kind: string; name: string; id: string }[]> {
  const state = JSON.parse(await readFile(file, 'utf8')) as { events?: { events: { kind: string; name: string; id: string }[] } };
  return state.events?.events ?? [];
}

describe('events on a shared state file', () => {
  it('two vaults racing to the same due events publish each once; every subscriber gets it once, with one id', async () => {
    const file = join(dir, `vault-${n++}.json`);
    const clock = new ManualClock(T0);
    const options = { stateFile: file, clock: clock.now, events: { scanIntervalMs: 0 } };
    const a = await LocalKeyVault.start(options);
    const b = await LocalKeyVault.start({ ...options, transport: 'https' });
    const [ra, rb] = [new EventRecorder(), new EventRecorder()];
    a.events.subscribe(ra.listener);
    b.events.subscribe(rb.listener);
    try {
      const exp = T0 + 50 * DAY_MS;
      await new SecretClient(a.url, a.credential(), a.clientOptions).setSecret('shared', 'v', { expiresOn: new Date(exp) });
      clock.ms = exp - 30 * DAY_MS;
      await Promise.all([a.events.processDue(), b.events.processDue()]);
      await Promise.all([a.events.processDue(), b.events.processDue()]);
      clock.ms = exp;
      await Promise.all([b.events.processDue(), a.events.processDue()]);
      await Promise.all([b.events.processDue(), a.events.processDue()]);

      expect((await logged(file)).map((e) => e.kind)).toEqual(['NewVersionCreated', 'NearExpiry', 'Expired']);
      for (const recorder of [ra, rb]) expect(recorder.types()).toEqual(['SecretNewVersionCreated', 'SecretNearExpiry', 'SecretExpired']);
      expect(rb.events.map((e) => e.id)).toEqual(ra.events.map((e) => e.id));
      // Each vault names itself in the ids it delivers (a resolver matches the URL it reads from).
      expect(ra.events[0]!.data.Id.startsWith(`${a.url}/secrets/shared/`)).toBe(true);
      expect(rb.events[0]!.data.Id.startsWith(`${b.url}/secrets/shared/`)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }

    // A restart: nothing published before is published or delivered again; what falls due later is.
    const c = await LocalKeyVault.start(options);
    const rc = new EventRecorder();
    c.events.subscribe(rc.listener);
    try {
      await c.events.processDue();
      await new SecretClient(c.url, c.credential(), c.clientOptions).getSecret('shared');
      expect(rc.events).toEqual([]);
      expect(await logged(file)).toHaveLength(3);
    } finally {
      await c.close();
    }
  });

  it("a vault with no subscriber (a CLI process) publishes; the serving vault's subscribers get it on their next scan", async () => {
    const file = join(dir, `vault-${n++}.json`);
    const served = await LocalKeyVault.start({ stateFile: file, transport: 'https', events: { scanIntervalMs: 0 } });
    const recorder = new EventRecorder();
    served.events.subscribe(recorder.listener);
    try {
      const cli = await LocalKeyVault.start({ stateFile: file, events: { scanIntervalMs: 0 } });
      const set = await new SecretClient(cli.url, cli.credential(), cli.clientOptions).setSecret('db-password', 'v');
      await cli.close();
      expect(recorder.events).toHaveLength(0);
      await served.events.processDue();
      expect(recorder.types()).toEqual(['SecretNewVersionCreated']);
      expect(recorder.events[0]!.data.Version).toBe(set.properties.version);
      expect(recorder.events[0]!.data.Id.startsWith(served.url)).toBe(true);
    } finally {
      await served.close();
    }
  });

  it('a state file written before events existed loads, and its first event is number 1', async () => {
    const file = join(dir, `vault-${n++}.json`);
    const first = await LocalKeyVault.start({ stateFile: file });
    await new SecretClient(first.url, first.credential(), first.clientOptions).setSecret('old', 'v');
    await first.close();
    const state = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    delete state.events;
    await writeFile(file, JSON.stringify(state));
    const again = await LocalKeyVault.start({ stateFile: file, events: { scanIntervalMs: 0 } });
    try {
      const client = new SecretClient(again.url, again.credential(), again.clientOptions);
      expect((await client.getSecret('old')).value).toBe('v');
      await client.setSecret('new', 'v');
      const log = JSON.parse(await readFile(file, 'utf8')) as { events: { seq: number; events: { seq: number; name: string }[] } };
      expect(log.events.seq).toBe(1);
      expect(log.events.events.map((e) => [e.seq, e.name])).toEqual([[1, 'new']]);
    } finally {
      await again.close();
    }
  });
});
