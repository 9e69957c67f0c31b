import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A real webhook receiver for tests: an HTTP server on a loopback address that records every request
 * and answers as told (a status, a delay, a body), one answer per request in order, then `fallback`.
 */

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow or hung receiver). */
  delayMs?: number;
}

export class Receiver {
  readonly received: Received[] = [];
  private readonly answers: Answer[] = [];
  fallback: Answer = { status: 200, body: 'ok' };
  private readonly server: http.Server;
  url = '';
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
          at: Date.now(),
        });
        const answer = this.answers.shift() ?? this.fallback;
        const reply = () => {
          if (res.destroyed) return;
          res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
          res.end(answer.body ?? '');
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
  }

  /** Listens on `host` (127.0.0.1 unless told), on `port` or a free one. */
  async start(host = '127.0.0.1', port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, host, () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://${host}:${this.port}/hooks`;
    return this;
  }

  /** The next requests' answers, in order. */
  answer(...answers: Answer[]): this {
    this.answers.push(...answers);
    return this;
  }

  /** The body of each request whose signature `secret` verifies (the Standard Webhooks library's verifier); throws on any other. */
  verified(secret: string): { type: string; timestamp: string; data: Record<string, unknown> }[] {
    const wh = new Webhook(secret);
    return this.received.map(
      (r) =>
        wh.verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          timestamp: string;
          data: Record<string, unknown>;
        },
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
