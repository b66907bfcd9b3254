/**
 * jwksHandler over a real node:http server: body and headers, Cache-Control max-age, a strong
 * ETag that changes with the key set, 304 on If-None-Match (also weak and lists), HEAD, 405,
 * and 503 when the JWKS cannot be produced.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwkSet, jwksHandler, type JwksHandlerOptions } from '../../src/jwt/index.js';

const KEY_A = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', use: 'sig', alg: 'ES256', kid: 'a' } as const;
const KEY_B = { ...KEY_A, kid: 'b' } as const;

describe('jwksHandler', () => {
  let current: JwkSet | Error = { keys: [KEY_A] };
  const errors: unknown[] = [];
  const source = { jwks: async () => { if (current instanceof Error) throw current; return current; } };
  let server: Server;
  let base: string;
  const serve = (path: string, options: JwksHandlerOptions) => [path, jwksHandler(source, options)] as const;
  const routes = new Map([serve('/jwks', { maxAge: '10m', onError: (e) => errors.push(e) }), serve('/default', {})]);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the JWKS with Cache-Control and a strong ETag', async () => {
    current = { keys: [KEY_A] };
    const res = await fetch(`${base}/jwks`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [KEY_A] });
    expect(res.headers.get('cache-control')).toBe('public, max-age=600');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect((await fetch(`${base}/default`)).headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('answers If-None-Match with 304 (no body), and 200 with a new ETag once the keys change', async () => {
    current = { keys: [KEY_A] };
    const etag = (await fetch(`${base}/jwks`)).headers.get('etag')!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await fetch(`${base}/jwks`, { headers: { 'if-none-match': inm } });
      expect(res.status, inm).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('public, max-age=600');
      expect(await res.text()).toBe('');
    }
    current = { keys: [KEY_B, KEY_A] };
    const res = await fetch(`${base}/jwks`, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(etag);
    expect((await res.json()).keys).toHaveLength(2);
  });

  it('the ETag depends only on the content (instances serving the same keys agree)', async () => {
    current = { keys: [KEY_A] };
    const a = (await fetch(`${base}/jwks`)).headers.get('etag');
    const b = (await fetch(`${base}/default`)).headers.get('etag');
    expect(a).toBe(b);
  });

  it('HEAD has the headers and no body; other methods get 405 with Allow', async () => {
    current = { keys: [KEY_A] };
    const head = await fetch(`${base}/jwks`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(JSON.stringify(current).length);
    expect(await head.text()).toBe('');
    const post = await fetch(`${base}/jwks`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('503 with no-store and Retry-After when the JWKS cannot be produced; onError sees the error', async () => {
    current = new Error('vault down');
    const res = await fetch(`${base}/jwks`);
    expect(res.status).toBe(503);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('retry-after')).toBe('30');
    expect(errors).toEqual([current]);
  });

  it('a failing response or onError never becomes an unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const handler = jwksHandler(source, { onError: () => { throw new Error('reporter broke'); } });
      current = new Error('vault down');
      const res = { headersSent: false, writeHead: () => { throw new Error('socket gone'); }, end: () => undefined };
      handler({ method: 'GET', headers: {} } as never, res as never);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('options are checked when the handler is made', () => {
    expect(() => jwksHandler(source, { maxAge: -1 })).toThrow(RangeError);
    expect(() => jwksHandler(source, { contentType: 'json' })).toThrow(TypeError);
    expect(() => jwksHandler({} as never)).toThrow(TypeError);
  });
});
