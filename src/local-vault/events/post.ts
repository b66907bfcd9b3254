/**
 * One JSON POST to a webhook (node:http / node:https), with a deadline and a bounded response.
 *
 * @module
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** How much of a response body is read (the handshake's answer is a few dozen bytes). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A webhook's answer. */
export interface PostResponse {
  status: number;
  body: string;
}

/**
 * POSTs `body` as JSON to `url` with `headers`.
 *
 * @throws {Error} when the connection fails or no answer comes within `timeoutMs`.
 */
export function postJson(url: URL, body: unknown, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<PostResponse> {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(payload.length), ...headers },
        ...(signal ? { signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
