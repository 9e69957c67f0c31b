import { randomUUID } from 'node:crypto';
import * as cheerio from 'cheerio';
import twilio from 'twilio';
import type { PublicUserRow } from '../../src/features/users/service.ts';
import type { FakeProviders } from '../support/fake-providers.ts';

/**
 * The scale-out test's simulated users, each a loop of seeded random actions through the load
 * balancer until the time is up: technicians file requests (API, Idempotency-Key, retried the way a
 * phone on a bad link retries) and read lists; approvers decide the requests waiting for them by API,
 * by the review link in their email and by SMS reply, then work and fulfil the approved ones; two
 * people do the same in a browser (cookie session and CSRF tokens, on whichever process answers).
 * Everything acknowledged is remembered, every failure kept with its time.
 */

interface Person {
  user: PublicUserRow;
  token: string;
}

export interface TrafficOptions {
  url: string;
  seed: number;
  twilioToken: string;
  providers: FakeProviders;
  techs: Person[];
  approvers: Person[];
  browserPassword: string;
}

interface Failure {
  at: number;
  op: string;
  status: number | string;
}

/** A small seeded generator (mulberry32): the same seed, the same choices. */
function generator(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A cookie jar for one browser. */
class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}
  async request(
    method: string,
    path: string,
    body?: URLSearchParams,
  ): Promise<{ status: number; location: string | null; text: string }> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(this.base + path, { method, headers, body: body?.toString(), redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }
}

const RETRYABLE = new Set([409, 502, 503, 504]);

export class Traffic {
  /** Acknowledged creates: marker (the request's notes) -> ticket id. */
  readonly created = new Map<string, number>();
  /** Acknowledged decisions: ticket id -> the decision. */
  readonly decided = new Map<number, string>();
  /** Acknowledged fulfilments. */
  readonly fulfilled = new Set<number>();
  private readonly failures: Failure[] = [];
  private readonly sessionRefusals: string[] = [];
  private readonly counts: Record<string, number> = {};
  private readonly random: () => number;
  private started = 0;
  private deadline = 0;
  private holding = false;
  private sequence = 0;
  private readonly browsers: { tech?: Browser; approver?: Browser } = {};

  constructor(private readonly o: TrafficOptions) {
    this.random = generator(o.seed);
  }

  elapsed(): number {
    return Date.now() - this.started;
  }

  /**
   * The traffic goes on past its duration until `done` settles, then `tailMs` more: on a slow host a
   * fault scheduled late (after a slow restart) still meets traffic, and its window is watched.
   */
  holdUntil(done: Promise<unknown>, tailMs: number): void {
    this.holding = true;
    void done.finally(() => {
      this.deadline = Math.max(this.deadline, Date.now() + tailMs);
      this.holding = false;
    });
  }

  private get going(): boolean {
    return this.holding || Date.now() < this.deadline;
  }

  private count(op: string) {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  private fail(op: string, status: number | string) {
    this.failures.push({ at: this.elapsed(), op, status });
  }

  /** One API call; a network error is status 0 (kept as a failure by the caller's rules). */
  private async api(person: Person, method: string, path: string, body?: unknown, key?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${person.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    try {
      const res = await fetch(this.o.url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read by field names
      return { status: res.status, json: json as Record<string, any> | undefined };
    } catch {
      return { status: 0, json: undefined };
    }
  }

  /**
   * An unsafe call retried as a phone retries on a bad link: the same Idempotency-Key each time, on a
   * lost connection, a 5xx or a 409 for a request still running.
   */
  private async keyed(person: Person, op: string, method: string, path: string, body: unknown) {
    const key = randomUUID();
    for (let attempt = 1; attempt <= 8; attempt++) {
      const res = await this.api(person, method, path, body, key);
      this.count(op);
      if (res.status !== 0 && !RETRYABLE.has(res.status)) return res;
      if (res.status === 0 || res.status >= 500) this.fail(op, res.status);
      await new Promise((r) => setTimeout(r, 150 * attempt));
    }
    return { status: 0, json: undefined };
  }

  /** The two browser users sign in through the balancer's sign-in form, with its CSRF token. */
  async signInBrowsers(): Promise<void> {
    const signIn = async (username: string) => {
      const browser = new Browser(this.o.url);
      const page = await browser.request('GET', '/login');
      const csrf = cheerio.load(page.text)('input[name=_csrf]').val();
      const res = await browser.request(
        'POST',
        '/login',
        new URLSearchParams({ _csrf: String(csrf), username, password: this.o.browserPassword }),
      );
      if (res.status !== 303) throw new Error(`browser sign-in for ${username}: ${res.status}`);
      return browser;
    };
    this.browsers.tech = await signIn((this.o.techs[0] as Person).user.username);
    this.browsers.approver = await signIn((this.o.approvers[0] as Person).user.username);
  }

  async run(ms: number): Promise<void> {
    this.started = Date.now();
    this.deadline = this.started + ms;
    const loops = [
      ...this.o.techs.map((t) => this.techLoop(t)),
      ...this.o.approvers.map((a) => this.approverLoop(a)),
      this.browserTechLoop(),
      this.browserApproverLoop(),
    ];
    await Promise.all(loops);
  }

  private async pause() {
    await new Promise((r) => setTimeout(r, 40 + Math.floor(this.random() * 120)));
  }

  private itemsFor(n: number) {
    return Array.from({ length: 1 + (n % 3) }, (_, i) => ({
      cable_type: `Cat${6 + (i % 2)}`,
      cable_length: `${10 * (i + 1)}ft`,
      quantity: 1 + i,
    }));
  }

  private async techLoop(tech: Person) {
    const mine: number[] = [];
    while (this.going) {
      const r = this.random();
      if (r < 0.45) {
        const marker = `so:${tech.user.username}:${this.sequence++}`;
        const assignee = this.pick(this.o.approvers);
        const res = await this.keyed(tech, 'create', 'POST', '/api/tickets', {
          assigned_to_id: assignee.user.id,
          location: `Riser ${Math.floor(this.random() * 40)}`,
          notes: marker,
          items: this.itemsFor(this.sequence),
        });
        if (res.status === 201 && res.json?.ticket?.id) {
          this.created.set(marker, res.json.ticket.id);
          mine.push(res.json.ticket.id);
        } else if (res.status >= 400) this.fail('create refused', res.status);
      } else if (r < 0.8 || mine.length === 0) {
        const res = await this.api(tech, 'GET', '/api/tickets?filter=mine&limit=20');
        this.count('list');
        if (res.status !== 200) this.fail('list', res.status);
      } else {
        const res = await this.api(tech, 'GET', `/api/tickets/${this.pick(mine)}`);
        this.count('read');
        if (res.status !== 200) this.fail('read', res.status);
      }
      await this.pause();
    }
  }

  /** The review link for `ticketId` in the emails `approver` received, if one has been delivered. */
  private reviewPath(approver: Person, ticketId: number): string | undefined {
    for (const sent of this.o.providers.of('resend')) {
      if (sent.body?.to !== approver.user.email && !(Array.isArray(sent.body?.to) && sent.body.to.includes(approver.user.email)))
        continue;
      const m = new RegExp(`/tickets/${ticketId}/review/([A-Za-z0-9_-]+)`).exec(String(sent.body?.text ?? ''));
      if (m) return `/tickets/${ticketId}/review/${m[1]}`;
    }
    return undefined;
  }

  private async decide(approver: Person, id: number) {
    const approve = this.random() < 0.85;
    const channel = this.random();
    const path = channel < 0.3 ? this.reviewPath(approver, id) : undefined;
    if (path) {
      // The review link's form: no session, the link is the proof.
      const body = new URLSearchParams({ decision: approve ? 'approve' : 'reject', reason: approve ? '' : 'not this week' });
      try {
        const res = await fetch(this.o.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': randomUUID() },
          body: body.toString(),
        });
        const page = await res.text();
        this.count('decide by link');
        if (res.status === 200 && /class="flash success"/.test(page)) this.decided.set(id, approve ? 'approved' : 'rejected');
        else if (res.status >= 500) this.fail('decide by link', res.status);
      } catch {
        this.fail('decide by link', 0);
      }
      return;
    }
    if (channel < 0.5 && approve) {
      // A text back: YES <id>, from the approver's phone, signed as Twilio signs it.
      const fields = { From: approver.user.phone as string, To: '+15005550006', Body: `YES ${id}` };
      const signature = twilio.getExpectedTwilioSignature(this.o.twilioToken, `${this.o.url}/api/twilio/sms`, fields);
      try {
        const res = await fetch(`${this.o.url}/api/twilio/sms`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
          body: new URLSearchParams(fields).toString(),
        });
        const text = await res.text();
        this.count('decide by sms');
        if (res.status === 200 && new RegExp(`Request #${id} approved`).test(text)) this.decided.set(id, 'approved');
        else if (res.status >= 500) this.fail('decide by sms', res.status);
      } catch {
        this.fail('decide by sms', 0);
      }
      return;
    }
    const res = await this.keyed(approver, 'decide by api', 'POST', `/api/tickets/${id}/decision`, {
      decision: approve ? 'approve' : 'reject',
      ...(approve ? {} : { reason: 'not this week' }),
    });
    if (res.status === 200) this.decided.set(id, approve ? 'approved' : 'rejected');
  }

  private async approverLoop(approver: Person) {
    while (this.going) {
      const r = this.random();
      const status = r < 0.55 ? 'pending_approval' : r < 0.8 ? 'approved' : 'in_progress';
      const list = await this.api(approver, 'GET', `/api/tickets?filter=assigned&status=${status}&limit=10`);
      this.count('list');
      if (list.status !== 200) {
        this.fail('list', list.status);
        await this.pause();
        continue;
      }
      const rows = (list.json as unknown as { id: number }[]) ?? [];
      const ticket = rows.length ? this.pick(rows) : undefined;
      if (ticket && status === 'pending_approval') await this.decide(approver, ticket.id);
      else if (ticket) {
        const next = status === 'approved' ? 'in_progress' : 'fulfilled';
        const res = await this.keyed(approver, `move to ${next}`, 'PATCH', `/api/tickets/${ticket.id}`, { status: next });
        if (res.status === 200 && next === 'fulfilled') this.fulfilled.add(ticket.id);
      }
      await this.pause();
    }
  }

  /** A browser request that must find its session and accept its CSRF token on any process. */
  private async browserStep(browser: Browser, op: string, method: string, path: string, body?: URLSearchParams) {
    try {
      const res = await browser.request(method, path, body);
      this.count(op);
      if (res.status === 401 || res.status === 403 || (res.status === 303 && res.location?.startsWith('/login')))
        this.sessionRefusals.push(`${op} ${path}: ${res.status}`);
      else if (res.status >= 500) this.fail(op, res.status);
      return res;
    } catch {
      this.fail(op, 0);
      return undefined;
    }
  }

  private async browserTechLoop() {
    const browser = this.browsers.tech as Browser;
    while (this.going) {
      const form = await this.browserStep(browser, 'browser form', 'GET', '/tickets/new');
      if (form?.status === 200) {
        const $ = cheerio.load(form.text);
        const marker = `so:browser:${this.sequence++}`;
        const assignee = this.pick(this.o.approvers);
        const fields = new URLSearchParams({
          _csrf: String($('form.ticket-form input[name=_csrf]').val() ?? $('input[name=_csrf]').first().val()),
          idempotency_key: String($('form.ticket-form input[name=idempotency_key]').val() ?? randomUUID()),
          assigned_to_id: String(assignee.user.id),
          priority: 'medium',
          location: 'Browser riser',
          notes: marker,
          'items[0][cable_type]': 'Cat6',
          'items[0][cable_length]': '25ft',
          'items[0][quantity]': '1',
        });
        const posted = await this.browserStep(browser, 'browser file', 'POST', '/tickets', fields);
        const id = Number(/^\/tickets\/(\d+)$/.exec(posted?.location ?? '')?.[1]);
        if (posted?.status === 303 && id) this.created.set(marker, id);
      }
      await this.pause();
    }
  }

  private async browserApproverLoop() {
    const browser = this.browsers.approver as Browser;
    while (this.going) {
      await this.browserStep(browser, 'browser dashboard', 'GET', this.random() < 0.5 ? '/' : '/?filter=assigned');
      await this.pause();
    }
  }

  async report() {
    return {
      counts: {
        ...this.counts,
        acknowledgedCreates: this.created.size,
        decisions: this.decided.size,
        fulfilments: this.fulfilled.size,
      },
      acked: { creates: this.created.size, decisions: this.decided.size, fulfilments: this.fulfilled.size },
      failures: [...this.failures],
      sessionRefusals: [...this.sessionRefusals],
    };
  }
}
