/** A webhook endpoint on 127.0.0.1 (node:http) that records every request and answers as told. */
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: any;
}

/** What the receiver answers a request with. */
export type Answer = (request: ReceivedRequest) => { status: number; body?: unknown };

/** Echoes the validation code, and 200 to notifications: a well-behaved endpoint. */
export const WELL_BEHAVED: Answer = (r) =>
  r.headers['aeg-event-type'] === 'SubscriptionValidation' ? { status: 200, body: { validationResponse: r.body[0].data.validationCode } } : { status: 200 };

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  answer: Answer;
  #server: Server | undefined;
  #port = 0;

  constructor(answer: Answer = WELL_BEHAVED) {
    this.answer = answer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/events`;
  }

  /** Events of every notification received, in arrival order. */
  get notified(): any[] {
    return this.requests.filter((r) => r.headers['aeg-event-type'] === 'Notification').flatMap((r) => r.body as any[]);
  }

  /** Starts listening (again, on the same port after {@link stop}). */
  async start(listener?: RequestListener): Promise<this> {
    const server = createServer(
      listener ??
        ((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const request = { headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
            this.requests.push(request);
            const { status, body } = this.answer(request);
            res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
          });
        }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', resolve);
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Stops listening: connections are refused until {@link start}. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
