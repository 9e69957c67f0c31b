import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * POSTing a webhook to an address an admin typed, without letting it reach what only the server can:
 * the address is resolved once, every address the name resolves to must be public unicast (no
 * loopback, private, link-local, unique-local, CGNAT, multicast, reserved…, IPv4-mapped IPv6 judged
 * as IPv4), and the connection is made to exactly the address that was checked (the check is the
 * connection's own DNS lookup, so a second answer cannot swap in another address: no DNS rebinding).
 * Redirects are never followed. One attempt has `timeoutMs` from connecting to the last byte read; at
 * most 1 KB of the answer is read. WEBHOOK_ALLOW_PRIVATE=true skips the address check.
 */

export const EXCERPT_BYTES = 1024;

/** The addresses a name resolves to (tests pass their own resolver). */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface TargetOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  resolve?: Resolve;
  /** Why an address is refused, or undefined: public unicast only unless told otherwise (tests). */
  refusal?: (address: string) => string | undefined;
  userAgent?: string;
}

export type PostResult =
  | { kind: 'answered'; status: number; location?: string; excerpt: string; ms: number }
  | { kind: 'refused'; reason: string; ms: number }
  | { kind: 'error'; message: string; ms: number };

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private',
  linkLocal: 'a link-local',
  uniqueLocal: 'a unique-local',
  unspecified: 'an unspecified',
  carrierGradeNat: 'a carrier-grade NAT',
  multicast: 'a multicast',
  broadcast: 'a broadcast',
  reserved: 'a reserved',
};

/** Why `address` may not be called (not public unicast), or undefined when it may. */
export function notPublic(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (range === 'unicast') return undefined;
  return `${address} is ${RANGE_WORDS[range] ?? `a special-purpose (${range})`} address`;
}

class Refused extends Error {
  override name = 'Refused';
}

const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export class WebhookTarget {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };
  private readonly lookup: LookupFunction;
  private readonly refusal: (address: string) => string | undefined;

  constructor(private readonly options: TargetOptions) {
    // Kept-alive connections stay on the address checked when they were opened.
    this.agents = {
      'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
      'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
    };
    this.refusal = options.allowPrivate ? () => undefined : (options.refusal ?? notPublic);
    const resolve = options.resolve ?? systemResolve;
    // The connection's own lookup: resolve, refuse if any answer is not allowed, connect to the first.
    this.lookup = ((hostname: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      resolve(hostname)
        .then((answers) => {
          if (answers.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
          for (const a of answers) {
            const why = this.refusal(a.address);
            if (why) throw new Refused(`${hostname} resolves to ${a.address}: ${why}`);
          }
          const [pinned] = answers as [{ address: string; family: number }];
          if (opts?.all) callback(null, [pinned]);
          else callback(null, pinned.address, pinned.family);
        })
        .catch((err: unknown) => callback(err));
    }) as LookupFunction;
  }

  /** POSTs `body` to `url` once. Never throws: the outcome says what happened. */
  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ kind: 'refused', reason: 'The URL cannot be read.', ms: 0 });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.resolve({ kind: 'refused', reason: 'Only http:// and https:// addresses are called.', ms: 0 });
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // A literal address is connected to without a lookup: it is checked here instead.
    const literal = net.isIP(host) ? this.refusal(host) : undefined;
    if (literal) return Promise.resolve({ kind: 'refused', reason: literal, ms: 0 });
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: PostResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = transport.request(
        target,
        {
          method: 'POST',
          agent: this.agents[target.protocol as 'http:' | 'https:'],
          lookup: this.lookup,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': this.options.userAgent ?? 'Cable-Ticketing-Webhooks',
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () =>
            finish({
              kind: 'answered',
              status: res.statusCode ?? 0,
              location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
              excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8'),
              ms: ms(),
            });
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            // Enough of the answer: stop reading (the connection is not reused after that).
            if (size >= EXCERPT_BYTES) {
              done();
              res.destroy();
            }
          });
          res.on('end', done);
          res.on('error', (err) => finish({ kind: 'error', message: err.message, ms: ms() }));
        },
      );
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error(`No answer within ${this.options.timeoutMs} ms.`), { code: 'ETIMEDOUT' })),
        this.options.timeoutMs,
      );
      req.on('error', (err: Error & { code?: string }) => {
        if (err instanceof Refused) finish({ kind: 'refused', reason: err.message, ms: ms() });
        else finish({ kind: 'error', message: describeNetworkError(err, target.host), ms: ms() });
      });
      req.end(body);
    });
  }

  /** Closes kept-alive connections (a stopping worker). */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

function describeNetworkError(err: Error & { code?: string }, host: string): string {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${host} could not be resolved (${err.code}).`;
    case 'ECONNREFUSED':
      return `${host} refused the connection.`;
    case 'ECONNRESET':
      return `${host} closed the connection.`;
    case 'ETIMEDOUT':
      return err.message;
    default:
      return `${err.code ? `${err.code}: ` : ''}${err.message}`;
  }
}
