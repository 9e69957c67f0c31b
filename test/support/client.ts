import * as cheerio from 'cheerio';
import { checkReply } from './contract.ts';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
  $: cheerio.CheerioAPI;
}

/**
 * A small HTTP client with a cookie jar, like a browser without JavaScript: it follows nothing by
 * itself (tests see the 303s), remembers cookies, and can submit a page's form with its CSRF token.
 */
export class Client {
  readonly cookies = new Map<string, string>();
  token?: string;

  constructor(readonly base: string) {}

  /** The Cookie header this client sends (for a raw request made beside it). */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Sends bearer-token requests from now on. */
  withToken(token: string): this {
    this.token = token;
    return this;
  }

  async request(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    if (this.token && !headers.authorization) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.base + path, { method, headers, body: init.body, redirect: 'manual' }).catch((err: Error) => {
      // undici says only "fetch failed": name the request and the socket's reason (ECONNRESET, ...).
      const cause = err.cause as { code?: string; message?: string } | undefined;
      throw new Error(`${method} ${path}: ${err.message} (${cause?.code ?? cause?.message ?? 'no cause'})`, { cause: err });
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1] ?? '').getTime() < Date.now());
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    // Every /api answer is checked against the app's OpenAPI document (test/support/contract.ts), at the
    // path the server saw (fetch resolves dot segments such as /%2e%2e/ before sending).
    const sent = new URL(res.url || this.base + path).pathname;
    await checkReply(this.base, method, sent, {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      json,
      text,
    });
    return { status: res.status, headers: res.headers, text, json, $: cheerio.load(text) };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.request('GET', path, { headers });
  }

  /** A JSON request (the API). */
  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    });
  }

  /** A urlencoded form post, as a browser without JavaScript sends it. */
  postForm(path: string, fields: Record<string, string | number>, headers: Record<string, string> = {}): Promise<Reply> {
    const body = new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  /** Loads `pagePath`, then posts `fields` to `action` with the page's CSRF token, as a person would. */
  async submit(pagePath: string, action: string, fields: Record<string, string | number>): Promise<Reply> {
    const page = await this.get(pagePath);
    const csrf = page.$('input[name=_csrf]').first().val();
    if (typeof csrf !== 'string') throw new Error(`No CSRF token on ${pagePath} (status ${page.status})`);
    return this.postForm(action, { _csrf: csrf, ...fields });
  }

  /** The CSRF token a signed-in page hands to htmx (body hx-headers). */
  async csrfFrom(pagePath: string): Promise<string> {
    const page = await this.get(pagePath);
    const token = page.$('input[name=_csrf]').first().val();
    if (typeof token !== 'string') throw new Error(`No CSRF token on ${pagePath}`);
    return token;
  }
}
