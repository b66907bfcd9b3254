/**
 * Webhook subscriptions of the local vault, against real HTTP endpoints on 127.0.0.1.
 * Adversaries: endpoints that fail Event Grid's validation handshake (a wrong code, a 404, an
 * empty 200, nobody listening: none is subscribed and none gets an event), an endpoint that is
 * down for a while (the events arrive after retries, in order, none lost or repeated), one that
 * answers 400 (not retried, as in Event Grid), one that never comes back (dropped after the
 * bounded retries, reported, and later events still flow).
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalKeyVault, WebhookValidationError, type WebhookDeliveryError } from '../../src/local-vault/index.js';
import { UUID } from '../helpers/vault-events.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const FAST = [5, 10, 20, 40, 80];
let vault: LocalKeyVault;
let receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await vault?.close();
  for (const r of receivers) await r.stop();
  receivers = [];
});

async function setup(): Promise<SecretClient> {
  vault = await LocalKeyVault.start({ events: { scanIntervalMs: 0 } });
  return new SecretClient(vault.url, vault.credential(), vault.clientOptions);
}

async function receiver(answer?: ConstructorParameters<typeof WebhookReceiver>[0]): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver(answer).start();
  receivers.push(r);
  return r;
}

describe('webhook subscriptions', () => {
  it('an endpoint that fails the validation handshake is not subscribed and gets no event', async () => {
    const client = await setup();
    const wrongCode = await receiver(() => ({ status: 200, body: { validationResponse: 'not-the-code' } }));
    const notFound = await receiver(() => ({ status: 404 }));
    const empty = await receiver(() => ({ status: 200 }));
    const down = await receiver();
    await down.stop();
    for (const r of [wrongCode, notFound, empty, down]) {
      const error = await vault.events.addWebhook(r.url, { retryDelaysMs: FAST }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WebhookValidationError);
      expect((error as WebhookValidationError).url).toBe(r.url);
    }
    await expect(vault.events.addWebhook(notFound.url)).rejects.toThrow(/HTTP 404.*gets no events/);
    await client.setSecret('s', 'v');
    await client.setSecret('s', 'v2');
    for (const r of [wrongCode, notFound, empty]) {
      expect(r.requests.map((q) => q.headers['aeg-event-type'])).not.toContain('Notification');
    }
    // The handshake as Event Grid sends it.
    const handshake = wrongCode.requests[0]!;
    expect(handshake.headers['aeg-event-type']).toBe('SubscriptionValidation');
    expect(handshake.body).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(UUID),
        topic: vault.events.topic,
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        data: { validationCode: expect.stringMatching(UUID), validationUrl: null },
      }),
    ]);
  });

  it('a validated endpoint gets every event as JSON arrays, in order, with the Notification headers', async () => {
    const client = await setup();
    const r = await receiver();
    const webhook = await vault.events.addWebhook(r.url, { maxBatchSize: 2, retryDelaysMs: FAST });
    const versions: string[] = [];
    for (let i = 0; i < 7; i++) versions.push((await client.setSecret(`s-${i % 3}`, `value-${i}`)).properties.version!);
    await webhook.idle();
    expect(r.notified.map((e) => e.data.Version)).toEqual(versions);
    expect(r.notified.every((e) => e.eventType === 'Microsoft.KeyVault.SecretNewVersionCreated')).toBe(true);
    const notifications = r.requests.filter((q) => q.headers['aeg-event-type'] === 'Notification');
    expect(notifications.every((q) => Array.isArray(q.body) && q.body.length >= 1 && q.body.length <= 2)).toBe(true);
    expect(notifications[0]!.headers).toMatchObject({ 'aeg-subscription-name': webhook.name, 'aeg-delivery-count': '0', 'content-type': 'application/json; charset=utf-8' });
    expect(webhook.delivered).toBe(7);
    expect(JSON.stringify(r.requests.map((q) => q.body))).not.toMatch(/value-\d/);
  });

  it('an endpoint that is down for a while gets the events after retries, in order, each once', async () => {
    const client = await setup();
    const r = await receiver();
    const failures: WebhookDeliveryError[] = [];
    let restarted: Promise<unknown> | undefined;
    const webhook = await vault.events.addWebhook(r.url, {
      retryDelaysMs: [5, 10, 20, 200, 1000, 2000, 5000], // room for the restart to finish
      onDeliveryError: (e) => {
        failures.push(e);
        if (failures.length === 3) restarted = r.start(); // back up after the third failed attempt
      },
    });
    await r.stop();
    const versions: string[] = [];
    for (let i = 0; i < 4; i++) versions.push((await client.setSecret('while-down', `v${i}`)).properties.version!);
    await webhook.idle();
    await restarted;
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.every((f) => f.willRetry)).toBe(true);
    expect(r.notified.map((e) => e.data.Version)).toEqual(versions);
    const counts = r.requests.filter((q) => q.headers['aeg-event-type'] === 'Notification').map((q) => q.headers['aeg-delivery-count']);
    expect(counts[0]).toBe(String(failures.length)); // the first batch got through on its (failures + 1)th attempt
    expect(webhook.dropped).toBe(0);
  });

  it('a 400 is not retried; an endpoint that never comes back is given up on after the bounded retries; later events still flow', async () => {
    const client = await setup();
    let mode: 'bad-request' | 'down' | 'up' = 'bad-request';
    const r = await receiver((q) => {
      if (q.headers['aeg-event-type'] === 'SubscriptionValidation') return { status: 200, body: { validationResponse: q.body[0].data.validationCode } };
      return { status: mode === 'bad-request' ? 400 : mode === 'down' ? 503 : 200 };
    });
    const failures: WebhookDeliveryError[] = [];
    const webhook = await vault.events.addWebhook(r.url, { retryDelaysMs: [1, 1, 1], onDeliveryError: (e) => failures.push(e) });
    await client.setSecret('refused', 'v');
    await webhook.idle();
    expect(failures.map((f) => [f.attempt, f.status, f.willRetry])).toEqual([[0, 400, false]]);
    mode = 'down';
    await client.setSecret('lost', 'v');
    await webhook.idle();
    expect(failures.slice(1).map((f) => [f.attempt, f.status, f.willRetry])).toEqual([
      [0, 503, true],
      [1, 503, true],
      [2, 503, true],
      [3, 503, false],
    ]);
    expect(webhook.dropped).toBe(2);
    mode = 'up';
    await client.setSecret('after', 'v');
    await webhook.idle();
    expect(r.notified.at(-1).subject).toBe('after');
    expect(webhook.delivered).toBe(1);
  });

  it('refuses a URL that is not http(s)', async () => {
    await setup();
    await expect(vault.events.addWebhook('ftp://127.0.0.1/x')).rejects.toThrow(TypeError);
    await expect(vault.events.addWebhook('not a url')).rejects.toThrow(TypeError);
    await expect(vault.events.addWebhook('http://127.0.0.1:1/', { maxBatchSize: 0 })).rejects.toThrow(RangeError);
  });
});
