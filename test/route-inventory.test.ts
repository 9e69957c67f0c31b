import test from 'ava';
import twilio from 'twilio';
import { createPersonalToken, issueApiToken } from '../src/features/auth/service.ts';
import { parseBulkReceipt } from '../src/features/inventory/reel-schema.ts';
import { receiveBulk } from '../src/features/inventory/reels.ts';
import { receiveCable, setReorderRule } from '../src/features/inventory/service.ts';
import { createLocation, defaultLocation } from '../src/features/locations/service.ts';
import { addPart, submitOpticsRequest } from '../src/features/optics/service.ts';
import { changeStatus, createTicket, deleteTicket, RESEND_LINK_AFTER_MS } from '../src/features/tickets/service.ts';
import { toPrincipal } from '../src/features/users/presenter.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { createSubscription } from '../src/features/webhooks/service.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { buildReel, createUser, PASSWORD, signedInClient } from './support/factories.ts';
import { TWILIO_TOKEN } from './support/fake-providers.ts';
import { INBOUND_DOMAIN, INBOUND_SECRET, inboundForm, replyTo } from './support/inbound-email.ts';
import { SsoBrowser, startIdp, type TestIdp } from './support/oidc.ts';
import { registeredRoutes } from './support/routes.ts';
import { changedTables, snapshot } from './support/snapshot.ts';

/**
 * The authorization matrix (issue #9 §1). Every route the app's routers register must have an entry
 * in TABLE saying who may call it; a route without one, or an entry for a route that no longer
 * exists, fails the first test. The second test calls every entry as every kind of caller, each time
 * on fresh fixtures: the allowed callers succeed (2xx, or a 3xx that is not a refusal), everyone else
 * is turned away as DESIGN.md says (401 / 403 / 404, or for a signed-out browser the 303 to sign-in,
 * or for a no-JavaScript form the 303 back with an error flash) and no row changes.
 */

/**
 * Who may call a route. "creator" and "assignee" include admins (DESIGN.md §4: "… or an admin");
 * "owner" does not (a personal token is its owner's alone).
 */
type Who =
  | 'anonymous'
  | 'any user'
  | 'creator'
  | 'owner'
  | 'assignee'
  | 'admin'
  | 'token link'
  | 'twilio signature'
  | 'metrics token'
  | 'sign-in state'
  | 'inbound secret';
type Caller = 'anonymous' | 'user' | 'creator' | 'assignee' | 'admin';

interface Req {
  method: string;
  path: string;
  json?: unknown;
  form?: Record<string, string | number>;
  /** A body sent as it is (a multipart webhook post). */
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
  /** Sent by this client (the browser a single sign-on started in) instead of the caller's. */
  client?: Client;
}

interface Case {
  who: Who;
  /** The request, on fresh fixtures. `secret`: whether the caller holds the link token, signature or metrics token. */
  request: (f: Fixtures, secret: boolean) => Promise<Req> | Req;
  /** Sign-in, registration and sign-out change the caller's session: a fresh client each time. */
  fresh?: boolean;
  label?: string;
}

const APP_URL = 'https://tickets.example.test';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const ASSIGNEE_PHONE = '+12025550142';
const WRONG_TOKEN = 'A'.repeat(43);

let app: TestApp;
let idp: TestIdp;
const users = {} as Record<Exclude<Caller, 'anonymous'>, PublicUserRow>;
let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Fresh rows for one call: created straight through the services (no HTTP, no rate limits). */
class Fixtures {
  private readonly settings = () => ({ appUrl: APP_URL, approvalTokenTtlHours: 24 });
  private readonly as = (who: keyof typeof users) => toPrincipal(users[who]);

  /** A request by the creator for the assignee, for `items` (one 100 ft Cat6 by default). */
  private newTicket(items = [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1 }]) {
    return createTicket(
      app.db,
      this.as('creator'),
      { assigned_to_id: users.assignee.id, priority: 'medium', location: 'Building A, room 101', notes: null, items },
      this.settings(),
    );
  }

  /** A ticket by the creator for the assignee, moved to `status`; with its review-link token. */
  async ticket(status: 'pending_approval' | 'approved' | 'deleted' = 'pending_approval') {
    const { id, reviewUrl } = await this.newTicket();
    if (status === 'approved') await changeStatus(app.db, this.as('admin'), id, { status: 'approved' }, this.settings());
    if (status === 'deleted') await deleteTicket(app.db, this.as('creator'), id);
    return { id, token: reviewUrl.split('/').at(-1) as string };
  }

  /**
   * A request for one 100 ft piece of bulk cable (a fresh type, on a 105 ft reel at the default
   * warehouse), moved by an admin to in progress or fulfilled (which leaves a 5 ft offcut).
   */
  async cutTicket(status: 'in_progress' | 'fulfilled') {
    const type = `Matrix bulk ${unique()}`;
    const reel = await buildReel(app, { cable_type: type, length: '105 ft', admin: users.admin });
    const { id } = await this.newTicket([{ cable_type: type, cable_length: '100ft', quantity: 1 }]);
    const steps = status === 'fulfilled' ? ['approved', 'in_progress', 'fulfilled'] : ['approved', 'in_progress'];
    for (const step of steps) await changeStatus(app.db, this.as('admin'), id, { status: step as 'approved' }, this.settings());
    return { id, reel: reel.code };
  }

  /** A pending ticket whose review link went out longer ago than a new one must wait for. */
  async ticketWithOldLink() {
    const { id } = await this.ticket();
    const sentAt = Date.now() - RESEND_LINK_AFTER_MS - 60_000;
    const expires = new Date(sentAt + app.config.approvalTokenTtlHours * 3_600_000).toISOString();
    await app.db('tickets').where({ id }).update({ approval_token_expires_at: expires });
    return id;
  }

  async opticsRequest() {
    const part = 'SFP-10G-SR';
    const row = await submitOpticsRequest(
      app.db,
      this.as('creator'),
      { selected_part: part, other_part: null, part_number: part, quantity: 2, requester_name: 'Tess T' },
      { appUrl: APP_URL, alertEmails: [] },
    );
    return row.id;
  }

  async receipt() {
    const { receipt } = await receiveCable(app.db, this.as('admin'), {
      vendor: 'Acme Cable',
      items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 10 }],
    });
    return receipt.id;
  }

  /** A receipt of two reels of bulk cable: its id and the reels' codes. */
  async bulkReceipt() {
    const input = parseBulkReceipt({
      vendor: 'Acme Cable',
      lines: [{ cable_type: 'Cat6 bulk', reels: [{ length: '1000 ft' }, { length: '500 ft' }] }],
    });
    return receiveBulk(app.db, this.as('admin'), input);
  }

  /** One reel of bulk cable, fresh each call. */
  async reel() {
    return (await this.bulkReceipt()).codes[0] as string;
  }

  /** A failed notification (the only kind an admin can retry). */
  async failedNotification() {
    const { id } = await this.ticket();
    const row = await app.db('notifications').where({ ticket_id: id }).first();
    await app.db('notifications').where({ id: row.id }).update({ status: 'failed', error_message: 'provider said no' });
    return row.id as number;
  }

  /** A webhook subscription (to an address that needs no WEBHOOK_ALLOW_PRIVATE). */
  async webhook() {
    const { subscription } = await createSubscription(
      app.db,
      this.as('admin'),
      { url: `https://hooks.example.test/${unique()}`, events: ['optics_request.created'] },
      { secretKey: app.config.secretKey, allowPrivate: false },
      new Date(),
    );
    return subscription.id;
  }

  /** A failed webhook delivery (an admin may send it again). */
  async failedDelivery() {
    const id = await this.webhook();
    await this.opticsRequest();
    const row = await app.db('webhook_deliveries').where({ subscription_id: id }).first();
    await app.db('webhook_deliveries').where({ id: row.id }).update({ status: 'failed', last_error: 'receiver said no' });
    return row.id as number;
  }

  /** A ticket's email notification (it has an HTML part). */
  async emailNotification() {
    const { id } = await this.ticket();
    const row = await app.db('notifications').where({ ticket_id: id, channel: 'email' }).first();
    return row.id as number;
  }

  async part() {
    const part = `SFP-T-${unique()}`.toUpperCase();
    await addPart(app.db, this.as('admin'), part);
    return part;
  }

  /**
   * A single sign-on walked through the test provider up to its callback. With the secret, the browser
   * that started it sends the callback; without, another caller presents the same callback URL.
   */
  async ssoCallback(secret: boolean): Promise<Req> {
    const browser = new SsoBrowser(app.url, idp.issuer, APP_URL);
    const path = await browser.callbackFor('matrix-sso');
    return { method: 'GET', path, ...(secret ? { client: browser.app } : {}) };
  }

  /** A personal token of the creator's (only its owner may revoke it; admins neither). */
  async personalToken() {
    const { row } = await createPersonalToken(
      app.db,
      this.as('creator'),
      { name: 'matrix', scope: 'read', expires_in_days: 7 },
      new Date(),
    );
    return row.id;
  }

  /** A site (no holder), fresh each call. */
  async location() {
    const site = await createLocation(app.db, { name: `Site ${unique()}`, kind: 'site' });
    return site.id;
  }

  /** A van and the default warehouse, the warehouse holding 10 of Cat6 100ft for it. */
  async stockedVan() {
    const van = await createLocation(app.db, { name: `Van ${unique()}`, kind: 'van' });
    const main = await defaultLocation(app.db);
    await this.receipt();
    return { van: van.id, main: main.id };
  }

  /** An open transfer suggestion: a van whose rule wants more than it has. */
  async suggestion() {
    const { van } = await this.stockedVan();
    await setReorderRule(
      app.db,
      { location_id: van, cable_type: 'Cat6', cable_length: '100ft', min_quantity: 1, max_quantity: 2 },
      { appUrl: APP_URL },
    );
    const row = await app.db('reorder_suggestions').where({ location_id: van, status: 'open' }).first();
    return row.id as number;
  }

  user = () => createUser(app.db);
  unique = unique;
}

/** SendGrid's Inbound Parse post of a YES from the assignee, as a multipart body. */
async function inboundPost(ticketId: number) {
  const reply = new Response(inboundForm({ from: `${users.assignee.email}`, to: replyTo(app, ticketId), text: 'YES' }));
  return { body: await reply.text(), contentType: reply.headers.get('content-type') as string };
}
const basic = (secret: string) => `Basic ${Buffer.from(`inbound:${secret}`).toString('base64')}`;

const smsFields = (ticketId: number) => ({ From: ASSIGNEE_PHONE, To: '+15005550006', Body: `YES ${ticketId}` });
const ticketForm = () => ({
  assigned_to_id: users.assignee.id,
  priority: 'high',
  location: 'Building B',
  'items[0][cable_type]': 'Cat6',
  'items[0][cable_length]': '50ft',
  'items[0][quantity]': 2,
});
const ticketJson = () => ({
  assigned_to_id: users.assignee.id,
  location: 'Building B',
  items: [{ cable_type: 'Cat6', cable_length: '50ft', quantity: 2 }],
});

/** One entry per registered route (`METHOD path` as the router spells it). */
const TABLE: Record<string, Case | Case[]> = {
  // ---- probes and metrics: before sessions; /metrics has its own token ---------------------------
  'GET /api/health': { who: 'anonymous', request: () => ({ method: 'GET', path: '/api/health' }) },
  'GET /api/ready': { who: 'anonymous', request: () => ({ method: 'GET', path: '/api/ready' }) },
  'GET /metrics': {
    who: 'metrics token',
    request: (_f, secret) => ({
      method: 'GET',
      path: '/metrics',
      headers: (secret ? { authorization: `Bearer ${METRICS_TOKEN}` } : {}) as Record<string, string>,
    }),
  },

  // ---- accounts ---------------------------------------------------------------------------------
  'GET /login': { who: 'anonymous', request: () => ({ method: 'GET', path: '/login' }) },
  'POST /login': {
    who: 'anonymous',
    fresh: true,
    request: () => ({ method: 'POST', path: '/login', form: { username: users.user.username, password: PASSWORD } }),
  },
  'POST /api/login': {
    who: 'anonymous',
    fresh: true,
    request: () => ({ method: 'POST', path: '/api/login', json: { username: users.user.username, password: PASSWORD } }),
  },
  'GET /register': { who: 'anonymous', request: () => ({ method: 'GET', path: '/register' }) },
  'POST /register': {
    who: 'anonymous',
    fresh: true,
    request: (f) => {
      const name = `reg_${f.unique()}`;
      return { method: 'POST', path: '/register', form: { username: name, email: `${name}@example.test`, password: PASSWORD } };
    },
  },
  'POST /api/register': {
    who: 'anonymous',
    fresh: true,
    request: (f) => {
      const name = `reg_${f.unique()}`;
      return {
        method: 'POST',
        path: '/api/register',
        json: { username: name, email: `${name}@example.test`, password: PASSWORD },
      };
    },
  },
  'GET /auth/oidc': { who: 'anonymous', request: () => ({ method: 'GET', path: '/auth/oidc?next=/optics' }) },
  'GET /auth/oidc/callback': { who: 'sign-in state', request: (f, secret) => f.ssoCallback(secret) },
  'POST /logout': { who: 'anonymous', fresh: true, request: () => ({ method: 'POST', path: '/logout', form: {} }) },
  'POST /api/logout': { who: 'anonymous', fresh: true, request: () => ({ method: 'POST', path: '/api/logout' }) },

  // ---- personal tokens: each person their own -----------------------------------------------------
  'GET /settings/tokens': { who: 'any user', request: () => ({ method: 'GET', path: '/settings/tokens' }) },
  'GET /api/tokens': { who: 'any user', request: () => ({ method: 'GET', path: '/api/tokens' }) },
  'POST /settings/tokens': {
    who: 'any user',
    request: () => ({ method: 'POST', path: '/settings/tokens', form: { name: 'matrix', scope: 'read', expires_in_days: 7 } }),
  },
  'POST /api/tokens': {
    who: 'any user',
    request: () => ({ method: 'POST', path: '/api/tokens', json: { name: 'matrix', scope: 'read', expires_in_days: 7 } }),
  },
  'POST /settings/tokens/:id/revoke': {
    who: 'owner',
    request: async (f) => ({ method: 'POST', path: `/settings/tokens/${await f.personalToken()}/revoke`, form: {} }),
  },
  'DELETE /api/tokens/:id': {
    who: 'owner',
    request: async (f) => ({ method: 'DELETE', path: `/api/tokens/${await f.personalToken()}` }),
  },

  // ---- the API's description: anyone --------------------------------------------------------------
  'GET /api/openapi.json': { who: 'anonymous', request: () => ({ method: 'GET', path: '/api/openapi.json' }) },
  'GET /api/docs': { who: 'anonymous', request: () => ({ method: 'GET', path: '/api/docs' }) },

  // ---- users ------------------------------------------------------------------------------------
  'GET /api/users': { who: 'any user', request: () => ({ method: 'GET', path: '/api/users' }) },
  'GET /api/users/:id': { who: 'any user', request: () => ({ method: 'GET', path: `/api/users/${users.creator.id}` }) },
  'GET /admin/users': { who: 'admin', request: () => ({ method: 'GET', path: '/admin/users' }) },
  'POST /admin/users/:id/role': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/admin/users/${(await f.user()).id}/role`, form: { role: 'admin' } }),
  },
  'PATCH /api/users/:id/role': {
    who: 'admin',
    request: async (f) => ({ method: 'PATCH', path: `/api/users/${(await f.user()).id}/role`, json: { role: 'admin' } }),
  },

  // ---- delegation while away: each person their own ---------------------------------------------
  'GET /settings': { who: 'any user', request: () => ({ method: 'GET', path: '/settings' }) },
  'POST /settings/delegation': {
    who: 'any user',
    request: () => ({
      method: 'POST',
      path: '/settings/delegation',
      form: { delegate: users.assignee.username, away_from: '2099-01-01', away_until: '2099-01-02' },
    }),
  },
  'POST /settings/delegation/clear': {
    who: 'any user',
    request: () => ({ method: 'POST', path: '/settings/delegation/clear', form: {} }),
  },
  'GET /api/me/delegation': { who: 'any user', request: () => ({ method: 'GET', path: '/api/me/delegation' }) },
  'PUT /api/me/delegation': {
    who: 'any user',
    request: () => ({
      method: 'PUT',
      path: '/api/me/delegation',
      json: { delegate_id: users.creator.id, away_from: '2099-02-01', away_until: '2099-02-02' },
    }),
  },
  'DELETE /api/me/delegation': { who: 'any user', request: () => ({ method: 'DELETE', path: '/api/me/delegation' }) },

  // ---- dashboard and lists ----------------------------------------------------------------------
  'GET /': { who: 'any user', request: () => ({ method: 'GET', path: '/' }) },
  'GET /api/tickets': { who: 'any user', request: () => ({ method: 'GET', path: '/api/tickets' }) },
  'GET /api/dashboard/stats': { who: 'any user', request: () => ({ method: 'GET', path: '/api/dashboard/stats' }) },

  // ---- tickets ----------------------------------------------------------------------------------
  'GET /tickets/new': { who: 'any user', request: () => ({ method: 'GET', path: '/tickets/new' }) },
  'GET /tickets/new/item-row': { who: 'any user', request: () => ({ method: 'GET', path: '/tickets/new/item-row?index=1' }) },
  'GET /tickets/new/assignees': {
    who: 'any user',
    request: () => ({ method: 'GET', path: '/tickets/new/assignees?assignee_name=a' }),
  },
  'POST /tickets': { who: 'any user', request: () => ({ method: 'POST', path: '/tickets', form: ticketForm() }) },
  'POST /api/tickets': { who: 'any user', request: () => ({ method: 'POST', path: '/api/tickets', json: ticketJson() }) },
  'GET /tickets/:id': {
    who: 'any user',
    request: async (f) => ({ method: 'GET', path: `/tickets/${(await f.ticket()).id}` }),
  },
  'GET /api/tickets/:id': {
    who: 'any user',
    request: async (f) => ({ method: 'GET', path: `/api/tickets/${(await f.ticket()).id}` }),
  },
  'GET /tickets/:id/edit': {
    who: 'creator',
    request: async (f) => ({ method: 'GET', path: `/tickets/${(await f.ticket()).id}/edit` }),
  },
  'POST /tickets/:id/edit': {
    who: 'creator',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.ticket()).id}/edit`, form: ticketForm() }),
  },
  'PATCH /api/tickets/:id': [
    {
      who: 'assignee',
      label: 'a status change',
      request: async (f) => ({ method: 'PATCH', path: `/api/tickets/${(await f.ticket()).id}`, json: { status: 'approved' } }),
    },
    {
      who: 'creator',
      label: 'an edit',
      request: async (f) => ({ method: 'PATCH', path: `/api/tickets/${(await f.ticket()).id}`, json: { location: 'Moved' } }),
    },
  ],
  'POST /tickets/:id/status': {
    who: 'assignee',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.ticket()).id}/status`, form: { status: 'approved' } }),
  },
  'GET /tickets/:id/fulfil': {
    who: 'assignee',
    request: async (f) => ({ method: 'GET', path: `/tickets/${(await f.cutTicket('in_progress')).id}/fulfil` }),
  },
  'POST /tickets/:id/fulfil': {
    who: 'assignee',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.cutTicket('in_progress')).id}/fulfil`, form: {} }),
  },
  'POST /tickets/:id/offcuts/keep': {
    who: 'assignee',
    request: async (f) => {
      const { id, reel } = await f.cutTicket('fulfilled');
      return { method: 'POST', path: `/tickets/${id}/offcuts/keep`, form: { reel_code: reel } };
    },
  },
  'POST /api/tickets/:id/offcuts/keep': {
    who: 'assignee',
    request: async (f) => {
      const { id, reel } = await f.cutTicket('fulfilled');
      return { method: 'POST', path: `/api/tickets/${id}/offcuts/keep`, json: { reel_code: reel } };
    },
  },
  'POST /tickets/:id/decision': {
    who: 'assignee',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.ticket()).id}/decision`, form: { decision: 'approve' } }),
  },
  'POST /api/tickets/:id/decision': {
    who: 'assignee',
    request: async (f) => ({
      method: 'POST',
      path: `/api/tickets/${(await f.ticket()).id}/decision`,
      json: { decision: 'reject', reason: 'no' },
    }),
  },
  'GET /tickets/:id/delete': {
    who: 'creator',
    request: async (f) => ({ method: 'GET', path: `/tickets/${(await f.ticket()).id}/delete` }),
  },
  'POST /tickets/:id/delete': {
    who: 'creator',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.ticket()).id}/delete`, form: {} }),
  },
  'DELETE /api/tickets/:id': {
    who: 'creator',
    request: async (f) => ({ method: 'DELETE', path: `/api/tickets/${(await f.ticket()).id}` }),
  },
  'POST /tickets/:id/review-link': {
    who: 'creator',
    request: async (f) => ({ method: 'POST', path: `/tickets/${await f.ticketWithOldLink()}/review-link`, form: {} }),
  },
  'POST /api/tickets/:id/review-link': {
    who: 'creator',
    request: async (f) => ({ method: 'POST', path: `/api/tickets/${await f.ticketWithOldLink()}/review-link`, json: {} }),
  },
  'POST /tickets/:id/restore': {
    who: 'creator',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.ticket('deleted')).id}/restore`, form: {} }),
  },
  'POST /api/tickets/:id/restore': {
    who: 'creator',
    request: async (f) => ({ method: 'POST', path: `/api/tickets/${(await f.ticket('deleted')).id}/restore`, json: {} }),
  },
  'POST /tickets/:id/purge': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/tickets/${(await f.ticket('deleted')).id}/purge`, form: {} }),
  },
  'DELETE /api/tickets/:id/purge': {
    who: 'admin',
    request: async (f) => ({ method: 'DELETE', path: `/api/tickets/${(await f.ticket('deleted')).id}/purge` }),
  },

  // ---- review links: the token is the proof, whoever holds it ----------------------------------
  'GET /tickets/:id/review/:token': {
    who: 'token link',
    request: async (f, secret) => {
      const t = await f.ticket();
      return { method: 'GET', path: `/tickets/${t.id}/review/${secret ? t.token : WRONG_TOKEN}` };
    },
  },
  'POST /tickets/:id/review/:token': {
    who: 'token link',
    request: async (f, secret) => {
      const t = await f.ticket();
      return { method: 'POST', path: `/tickets/${t.id}/review/${secret ? t.token : WRONG_TOKEN}`, form: { decision: 'approve' } };
    },
  },
  'GET /api/tickets/:id/approve/:token': {
    who: 'token link',
    request: async (f, secret) => {
      const t = await f.ticket();
      return { method: 'GET', path: `/api/tickets/${t.id}/approve/${secret ? t.token : WRONG_TOKEN}` };
    },
  },
  'POST /api/tickets/:id/approve/:token': {
    who: 'token link',
    request: async (f, secret) => {
      const t = await f.ticket();
      return { method: 'POST', path: `/api/tickets/${t.id}/approve/${secret ? t.token : WRONG_TOKEN}`, json: {} };
    },
  },
  'GET /api/tickets/:id/reject/:token': {
    who: 'token link',
    request: async (f, secret) => {
      const t = await f.ticket();
      return { method: 'GET', path: `/api/tickets/${t.id}/reject/${secret ? t.token : WRONG_TOKEN}?reason=no` };
    },
  },
  'POST /api/tickets/:id/reject/:token': {
    who: 'token link',
    request: async (f, secret) => {
      const t = await f.ticket();
      return { method: 'POST', path: `/api/tickets/${t.id}/reject/${secret ? t.token : WRONG_TOKEN}`, json: { reason: 'no' } };
    },
  },

  'GET /tickets.csv': { who: 'any user', request: () => ({ method: 'GET', path: '/tickets.csv' }) },
  // ---- reports: turnaround, lead time and requests for everyone signed in (their own), inventory for admins
  'GET /reports': { who: 'any user', request: () => ({ method: 'GET', path: '/reports' }) },
  'GET /api/reports/turnaround': { who: 'any user', request: () => ({ method: 'GET', path: '/api/reports/turnaround' }) },
  'GET /api/reports/lead-time': { who: 'any user', request: () => ({ method: 'GET', path: '/api/reports/lead-time' }) },
  'GET /api/reports/requests': { who: 'any user', request: () => ({ method: 'GET', path: '/api/reports/requests' }) },
  'GET /api/reports/consumption': { who: 'admin', request: () => ({ method: 'GET', path: '/api/reports/consumption' }) },
  'GET /api/reports/cover': { who: 'admin', request: () => ({ method: 'GET', path: '/api/reports/cover' }) },
  'GET /reports/turnaround.csv': { who: 'any user', request: () => ({ method: 'GET', path: '/reports/turnaround.csv' }) },
  'GET /reports/lead-time.csv': { who: 'any user', request: () => ({ method: 'GET', path: '/reports/lead-time.csv' }) },
  'GET /reports/requests.csv': { who: 'any user', request: () => ({ method: 'GET', path: '/reports/requests.csv' }) },
  'GET /reports/consumption.csv': { who: 'admin', request: () => ({ method: 'GET', path: '/reports/consumption.csv' }) },
  'GET /reports/cover.csv': { who: 'admin', request: () => ({ method: 'GET', path: '/reports/cover.csv' }) },
  // ---- inventory: on-hand for everyone signed in, the rest for admins ---------------------------
  'GET /api/inventory/on-hand': { who: 'any user', request: () => ({ method: 'GET', path: '/api/inventory/on-hand' }) },
  'GET /inventory': { who: 'any user', request: () => ({ method: 'GET', path: '/inventory' }) },
  'GET /inventory/on-hand.csv': { who: 'any user', request: () => ({ method: 'GET', path: '/inventory/on-hand.csv' }) },
  'PATCH /api/inventory/stock/threshold': {
    who: 'admin',
    request: () => ({
      method: 'PATCH',
      path: '/api/inventory/stock/threshold',
      json: { cable_type: 'Cat6', cable_length: '100ft', reorder_threshold: ++counter },
    }),
  },
  'POST /inventory/threshold': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/inventory/threshold',
      form: { cable_type: 'Cat6', cable_length: '100ft', reorder_threshold: ++counter },
    }),
  },
  'POST /api/cable-receiving': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/api/cable-receiving',
      json: { vendor: 'Acme', items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 5 }] },
    }),
  },
  'GET /api/cable-receiving': { who: 'admin', request: () => ({ method: 'GET', path: '/api/cable-receiving' }) },
  'GET /api/cable-receiving/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/api/cable-receiving/${await f.receipt()}` }),
  },
  'GET /inventory/receiving': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/receiving' }) },
  'GET /inventory/receiving/item-row': {
    who: 'admin',
    request: () => ({ method: 'GET', path: '/inventory/receiving/item-row?index=1' }),
  },
  'POST /inventory/receiving': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/inventory/receiving',
      form: { vendor: 'Acme', 'items[0][cable_type]': 'Cat6', 'items[0][cable_length]': '100ft', 'items[0][quantity]': 5 },
    }),
  },
  'GET /api/inventory/movements': { who: 'admin', request: () => ({ method: 'GET', path: '/api/inventory/movements' }) },
  'GET /inventory/ledger': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/ledger' }) },
  'GET /inventory/ledger.csv': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/ledger.csv' }) },
  'POST /api/inventory/adjustments': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/api/inventory/adjustments',
      json: { cable_type: 'Cat6', cable_length: '100ft', quantity: 1, reason: 'cycle count' },
    }),
  },
  'GET /inventory/adjustments': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/adjustments' }) },
  'POST /inventory/adjustments': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/inventory/adjustments',
      form: { cable_type: 'Cat6', cable_length: '100ft', quantity: 1, direction: 'in', reason: 'cycle count' },
    }),
  },

  // ---- reels: looking for everyone signed in (a technician scans a label), the rest for admins ------
  'POST /api/cable-receiving/bulk': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/api/cable-receiving/bulk',
      json: { vendor: 'Acme', lines: [{ cable_type: 'Cat6 bulk', reels: [{ length: '1000 ft' }] }] },
    }),
  },
  'GET /inventory/receiving/bulk': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/receiving/bulk' }) },
  'POST /inventory/receiving/bulk': {
    who: 'admin',
    request: () => ({
      method: 'POST',
      path: '/inventory/receiving/bulk',
      form: { vendor: 'Acme', cable_type: 'Cat6 bulk', unit: 'ft', 'reels[0][length]': '1000' },
    }),
  },
  'GET /inventory/receiving/:id/labels': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/inventory/receiving/${(await f.bulkReceipt()).receiptId}/labels` }),
  },
  'GET /api/reels': { who: 'any user', request: () => ({ method: 'GET', path: '/api/reels' }) },
  'GET /inventory/reels': { who: 'any user', request: () => ({ method: 'GET', path: '/inventory/reels' }) },
  'GET /api/reels/:code': { who: 'any user', request: async (f) => ({ method: 'GET', path: `/api/reels/${await f.reel()}` }) },
  'GET /r/:code': { who: 'any user', request: async (f) => ({ method: 'GET', path: `/r/${await f.reel()}` }) },
  'GET /inventory/reels/:code/label': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/inventory/reels/${await f.reel()}/label` }),
  },
  'POST /api/reels/:code/move': {
    who: 'admin',
    request: async (f) => ({
      method: 'POST',
      path: `/api/reels/${await f.reel()}/move`,
      json: { to_location_id: await f.location() },
    }),
  },
  'POST /api/reels/:code/count': {
    who: 'admin',
    request: async (f) => ({
      method: 'POST',
      path: `/api/reels/${await f.reel()}/count`,
      json: { remaining: '900 ft', reason: 'count' },
    }),
  },
  'POST /api/reels/:code/scrap': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/api/reels/${await f.reel()}/scrap`, json: { reason: 'crushed' } }),
  },
  'POST /r/:code/move': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/r/${await f.reel()}/move`, form: { to_location_id: await f.location() } }),
  },
  'POST /r/:code/count': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/r/${await f.reel()}/count`, form: { remaining: '900', reason: 'count' } }),
  },
  'POST /r/:code/scrap': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/r/${await f.reel()}/scrap`, form: { reason: 'crushed' } }),
  },

  // ---- locations: listing for everyone signed in, the rest for admins --------------------------------
  'GET /api/locations': { who: 'any user', request: () => ({ method: 'GET', path: '/api/locations' }) },
  'POST /api/locations': {
    who: 'admin',
    request: (f) => ({ method: 'POST', path: '/api/locations', json: { name: `Site ${f.unique()}`, kind: 'site' } }),
  },
  'PATCH /api/locations/:id': {
    who: 'admin',
    request: async (f) => ({
      method: 'PATCH',
      path: `/api/locations/${await f.location()}`,
      json: { name: `Site ${f.unique()}` },
    }),
  },
  'GET /locations': { who: 'admin', request: () => ({ method: 'GET', path: '/locations' }) },
  'POST /locations': {
    who: 'admin',
    request: (f) => ({ method: 'POST', path: '/locations', form: { name: `Site ${f.unique()}`, kind: 'site' } }),
  },
  'GET /locations/:id': { who: 'admin', request: async (f) => ({ method: 'GET', path: `/locations/${await f.location()}` }) },
  'POST /locations/:id': {
    who: 'admin',
    request: async (f) => ({
      method: 'POST',
      path: `/locations/${await f.location()}`,
      form: { name: `Site ${f.unique()}`, kind: 'site', active: 'on' },
    }),
  },
  'POST /api/inventory/transfers': {
    who: 'admin',
    request: async (f) => {
      const { van, main } = await f.stockedVan();
      return {
        method: 'POST',
        path: '/api/inventory/transfers',
        json: {
          from_location_id: main,
          to_location_id: van,
          items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1 }],
        },
      };
    },
  },
  'GET /inventory/transfers': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/transfers' }) },
  'POST /inventory/transfers': {
    who: 'admin',
    request: async (f) => {
      const { van, main } = await f.stockedVan();
      return {
        method: 'POST',
        path: '/inventory/transfers',
        form: {
          from_location_id: main,
          to_location_id: van,
          'items[0][cable_type]': 'Cat6',
          'items[0][cable_length]': '100ft',
          'items[0][quantity]': 1,
        },
      };
    },
  },
  'GET /api/inventory/reorder-rules': { who: 'admin', request: () => ({ method: 'GET', path: '/api/inventory/reorder-rules' }) },
  'POST /api/inventory/reorder-rules': {
    who: 'admin',
    request: async (f) => ({
      method: 'POST',
      path: '/api/inventory/reorder-rules',
      json: { location_id: await f.location(), cable_type: 'Cat6', cable_length: '100ft', min_quantity: 0, max_quantity: 5 },
    }),
  },
  'GET /api/inventory/reorder-suggestions': {
    who: 'admin',
    request: () => ({ method: 'GET', path: '/api/inventory/reorder-suggestions' }),
  },
  'POST /api/inventory/reorder-suggestions/:id/transfer': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/api/inventory/reorder-suggestions/${await f.suggestion()}/transfer` }),
  },
  'GET /inventory/reorder': { who: 'admin', request: () => ({ method: 'GET', path: '/inventory/reorder' }) },
  'POST /inventory/reorder': {
    who: 'admin',
    request: async (f) => ({
      method: 'POST',
      path: '/inventory/reorder',
      form: { location_id: await f.location(), cable_type: 'Cat6', cable_length: '100ft', min_quantity: 0, max_quantity: 5 },
    }),
  },
  'POST /inventory/reorder/:id/transfer': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/inventory/reorder/${await f.suggestion()}/transfer`, form: {} }),
  },

  // ---- optics -----------------------------------------------------------------------------------
  'GET /api/optics-parts': { who: 'any user', request: () => ({ method: 'GET', path: '/api/optics-parts' }) },
  'POST /api/optics-parts': {
    who: 'admin',
    request: (f) => ({ method: 'POST', path: '/api/optics-parts', json: { part_number: `SFP-N-${f.unique()}` } }),
  },
  'DELETE /api/optics-parts/:part': {
    who: 'admin',
    request: async (f) => ({ method: 'DELETE', path: `/api/optics-parts/${encodeURIComponent(await f.part())}` }),
  },
  'GET /optics/parts': { who: 'admin', request: () => ({ method: 'GET', path: '/optics/parts' }) },
  'POST /optics/parts': {
    who: 'admin',
    request: (f) => ({ method: 'POST', path: '/optics/parts', form: { part_number: `SFP-N-${f.unique()}` } }),
  },
  'POST /optics/parts/remove': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: '/optics/parts/remove', form: { part_number: await f.part() } }),
  },
  'GET /optics': { who: 'any user', request: () => ({ method: 'GET', path: '/optics' }) },
  'GET /optics/other-part-field': {
    who: 'any user',
    request: () => ({ method: 'GET', path: '/optics/other-part-field?selected_part=Other' }),
  },
  'POST /optics': {
    who: 'any user',
    request: () => ({
      method: 'POST',
      path: '/optics',
      form: { selected_part: 'SFP-10G-SR', quantity: 2, requester_name: 'Tess T' },
    }),
  },
  'POST /api/optics-requests': {
    who: 'any user',
    request: () => ({
      method: 'POST',
      path: '/api/optics-requests',
      json: { selected_part: 'Other', other_part: 'XFP-10G-ZR', quantity: 1, requester_name: 'Tess T' },
    }),
  },
  'GET /api/optics-requests': { who: 'any user', request: () => ({ method: 'GET', path: '/api/optics-requests' }) },
  'GET /api/optics-requests/:id': {
    who: 'creator',
    request: async (f) => ({ method: 'GET', path: `/api/optics-requests/${await f.opticsRequest()}` }),
  },
  'PATCH /api/optics-requests/:id/status': {
    who: 'admin',
    request: async (f) => ({
      method: 'PATCH',
      path: `/api/optics-requests/${await f.opticsRequest()}/status`,
      json: { action: 'approve' },
    }),
  },
  'GET /optics/:id': { who: 'creator', request: async (f) => ({ method: 'GET', path: `/optics/${await f.opticsRequest()}` }) },
  'POST /optics/:id/status': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/optics/${await f.opticsRequest()}/status`, form: { action: 'approve' } }),
  },

  // ---- notifications ----------------------------------------------------------------------------
  'GET /admin/notifications': { who: 'admin', request: () => ({ method: 'GET', path: '/admin/notifications' }) },
  'GET /api/notifications': { who: 'admin', request: () => ({ method: 'GET', path: '/api/notifications' }) },
  'GET /admin/notifications/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/admin/notifications/${await f.failedNotification()}` }),
  },
  'GET /admin/notifications/:id/email.html': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/admin/notifications/${await f.emailNotification()}/email.html` }),
  },
  'GET /api/notifications/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/api/notifications/${await f.failedNotification()}` }),
  },
  'POST /admin/notifications/:id/retry': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/admin/notifications/${await f.failedNotification()}/retry`, form: {} }),
  },
  'POST /api/notifications/:id/retry': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/api/notifications/${await f.failedNotification()}/retry`, json: {} }),
  },
  // ---- webhooks: admins -----------------------------------------------------------------------------
  'GET /admin/webhooks': { who: 'admin', request: () => ({ method: 'GET', path: '/admin/webhooks' }) },
  'GET /api/webhooks': { who: 'admin', request: () => ({ method: 'GET', path: '/api/webhooks' }) },
  'POST /admin/webhooks': {
    who: 'admin',
    request: (f) => ({
      method: 'POST',
      path: '/admin/webhooks',
      form: { url: `https://hooks.example.test/${f.unique()}`, events: 'stock.low' },
    }),
  },
  'POST /api/webhooks': {
    who: 'admin',
    request: (f) => ({
      method: 'POST',
      path: '/api/webhooks',
      json: { url: `https://hooks.example.test/${f.unique()}`, events: ['stock.low'] },
    }),
  },
  'GET /admin/webhooks/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/admin/webhooks/${await f.webhook()}` }),
  },
  'GET /api/webhooks/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/api/webhooks/${await f.webhook()}` }),
  },
  'PATCH /api/webhooks/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'PATCH', path: `/api/webhooks/${await f.webhook()}`, json: { enabled: false } }),
  },
  'POST /admin/webhooks/:id': {
    who: 'admin',
    request: async (f) => ({
      method: 'POST',
      path: `/admin/webhooks/${await f.webhook()}`,
      form: { url: 'https://hooks.example.test/changed', events: 'ticket.created', enabled: 'true' },
    }),
  },
  'POST /admin/webhooks/:id/secret': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/admin/webhooks/${await f.webhook()}/secret`, form: {} }),
  },
  'POST /api/webhooks/:id/secret': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/api/webhooks/${await f.webhook()}/secret`, json: {} }),
  },
  'DELETE /api/webhooks/:id': {
    who: 'admin',
    request: async (f) => ({ method: 'DELETE', path: `/api/webhooks/${await f.webhook()}` }),
  },
  'POST /admin/webhooks/:id/delete': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/admin/webhooks/${await f.webhook()}/delete`, form: {} }),
  },
  'GET /api/webhooks/:id/deliveries': {
    who: 'admin',
    request: async (f) => ({ method: 'GET', path: `/api/webhooks/${await f.webhook()}/deliveries` }),
  },
  'POST /api/webhook-deliveries/:id/redeliver': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/api/webhook-deliveries/${await f.failedDelivery()}/redeliver`, json: {} }),
  },
  'POST /admin/webhook-deliveries/:id/redeliver': {
    who: 'admin',
    request: async (f) => ({ method: 'POST', path: `/admin/webhook-deliveries/${await f.failedDelivery()}/redeliver`, form: {} }),
  },

  'POST /api/twilio/sms': {
    who: 'twilio signature',
    request: async (f, secret) => {
      const fields = smsFields((await f.ticket()).id);
      const signature = twilio.getExpectedTwilioSignature(
        secret ? TWILIO_TOKEN : 'not-the-token',
        `${APP_URL}/api/twilio/sms`,
        fields,
      );
      return { method: 'POST', path: '/api/twilio/sms', form: fields, headers: { 'X-Twilio-Signature': signature } };
    },
  },
  'POST /api/inbound/email': {
    who: 'inbound secret',
    request: async (f, secret) => ({
      method: 'POST',
      path: '/api/inbound/email',
      raw: await inboundPost((await f.ticket()).id),
      headers: (secret ? { authorization: basic(INBOUND_SECRET) } : {}) as Record<string, string>,
    }),
  },
  'POST /api/inbound/email/:secret': {
    who: 'inbound secret',
    request: async (f, secret) => ({
      method: 'POST',
      path: `/api/inbound/email/${secret ? INBOUND_SECRET : 'not-the-inbound-secret'}`,
      raw: await inboundPost((await f.ticket()).id),
    }),
  },

  // ---- field mode: the installable app's files and pages, the queue's session facts --------------
  'GET /manifest.webmanifest': { who: 'anonymous', request: () => ({ method: 'GET', path: '/manifest.webmanifest' }) },
  'GET /sw.js': { who: 'anonymous', request: () => ({ method: 'GET', path: '/sw.js' }) },
  'GET /drafts': { who: 'anonymous', request: () => ({ method: 'GET', path: '/drafts' }) },
  'GET /api/session': { who: 'any user', request: () => ({ method: 'GET', path: '/api/session' }) },
};

/** Who is tried for each kind of entry, and whether they hold the secret (link token, signature, metrics token). */
type Try = { caller: Caller; secret: boolean };
const CALLERS: Record<Who, { allowed: Try[]; denied: Try[] }> = {
  anonymous: { allowed: ['anonymous', 'user', 'admin'].map((c) => ({ caller: c as Caller, secret: false })), denied: [] },
  'any user': {
    allowed: [
      { caller: 'user', secret: false },
      { caller: 'admin', secret: false },
    ],
    denied: [{ caller: 'anonymous', secret: false }],
  },
  creator: {
    allowed: [
      { caller: 'creator', secret: false },
      { caller: 'admin', secret: false },
    ],
    denied: ['anonymous', 'user', 'assignee'].map((c) => ({ caller: c as Caller, secret: false })),
  },
  owner: {
    allowed: [{ caller: 'creator', secret: false }],
    denied: ['anonymous', 'user', 'assignee', 'admin'].map((c) => ({ caller: c as Caller, secret: false })),
  },
  assignee: {
    allowed: [
      { caller: 'assignee', secret: false },
      { caller: 'admin', secret: false },
    ],
    denied: ['anonymous', 'user', 'creator'].map((c) => ({ caller: c as Caller, secret: false })),
  },
  admin: {
    allowed: [{ caller: 'admin', secret: false }],
    denied: ['anonymous', 'user', 'creator'].map((c) => ({ caller: c as Caller, secret: false })),
  },
  'token link': {
    allowed: [
      { caller: 'anonymous', secret: true },
      { caller: 'user', secret: true },
    ],
    denied: [
      { caller: 'anonymous', secret: false },
      { caller: 'admin', secret: false },
    ],
  },
  'twilio signature': {
    allowed: [{ caller: 'anonymous', secret: true }],
    denied: [
      { caller: 'anonymous', secret: false },
      { caller: 'admin', secret: false },
    ],
  },
  'inbound secret': {
    allowed: [{ caller: 'anonymous', secret: true }],
    denied: [
      { caller: 'anonymous', secret: false },
      { caller: 'admin', secret: false },
    ],
  },
  'metrics token': {
    allowed: [{ caller: 'anonymous', secret: true }],
    denied: [
      { caller: 'anonymous', secret: false },
      { caller: 'admin', secret: false },
    ],
  },
  'sign-in state': {
    allowed: [{ caller: 'anonymous', secret: true }],
    denied: [
      { caller: 'anonymous', secret: false },
      { caller: 'admin', secret: false },
    ],
  },
};

const SECRETS: Who[] = ['token link', 'twilio signature', 'metrics token', 'sign-in state', 'inbound secret'];
const isApi = (path: string) => path.startsWith('/api/') || path === '/metrics';

/** A client per caller: bearer tokens for the API, cookie sessions (with a CSRF token) for pages. */
interface Session {
  client: Client;
  csrf?: string;
}
const sessions = new Map<string, Session>();

async function sessionFor(caller: Caller, api: boolean, fresh: boolean): Promise<Session> {
  const key = `${caller}:${api}`;
  const known = sessions.get(key);
  if (known && !fresh) return known;
  let session: Session;
  if (api) {
    const client = new Client(app.url);
    if (caller !== 'anonymous') client.withToken((await issueApiToken(app.db, users[caller].id, 3600)).access_token);
    session = { client };
  } else {
    const client = caller === 'anonymous' ? new Client(app.url) : await signedInClient(app.url, users[caller].username);
    session = { client, csrf: await client.csrfFrom('/register') };
  }
  if (!fresh) sessions.set(key, session);
  return session;
}

function send(session: Session, req: Req): Promise<Reply> {
  const client = req.client ?? session.client;
  if (req.raw) {
    return client.request(req.method, req.path, {
      body: req.raw.body,
      headers: { 'content-type': req.raw.contentType, ...req.headers },
    });
  }
  if (req.json !== undefined) return client.send(req.method, req.path, req.json, req.headers);
  if (req.form) return client.postForm(req.path, { ...(session.csrf ? { _csrf: session.csrf } : {}), ...req.form }, req.headers);
  if (req.method !== 'GET' && isApi(req.path)) return client.send(req.method, req.path, undefined, req.headers);
  return client.request(req.method, req.path, { headers: req.headers });
}

type Outcome = { kind: 'ok' | 'denied' | 'refused' | 'unexpected'; status: number; detail: string };

/** What the caller got: success, a refusal (status, sign-in redirect, error flash), or something else. */
async function outcomeOf(session: Session, reply: Reply): Promise<Outcome> {
  const { status } = reply;
  const detail = `${status} ${reply.text.replace(/\s+/g, ' ').slice(0, 160)}`;
  if (status >= 200 && status < 300) return { kind: 'ok', status, detail };
  if ([401, 403, 404].includes(status)) return { kind: 'denied', status, detail };
  if (status >= 300 && status < 400) {
    const location = reply.headers.get('location') ?? '';
    if (location.startsWith('/login?next=')) return { kind: 'denied', status, detail: `${status} to ${location}` };
    // Sent on to another site (the identity provider): not a refusal.
    if (/^https?:\/\//.test(location)) return { kind: 'ok', status, detail: `${status} to ${location}` };
    // Post/redirect/get: the page redirected to says how it went.
    const next = await session.client.get(location);
    const flash = next.$('.flash.error').text().trim();
    return flash
      ? { kind: 'refused', status, detail: `${status} to ${location}: ${flash}` }
      : { kind: 'ok', status, detail: `${status} to ${location}` };
  }
  return { kind: 'unexpected', status, detail };
}

test.before(async () => {
  idp = await startIdp();
  idp.accounts.set('matrix-sso', { email: 'matrix.sso@example.test', email_verified: true, preferred_username: 'matrix_sso' });
  app = await startApp({
    APP_URL,
    METRICS_TOKEN,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    ...idp.env(),
    INBOUND_EMAIL_DOMAIN: INBOUND_DOMAIN,
    INBOUND_EMAIL_SECRET: INBOUND_SECRET,
  });
  idp.register(APP_URL);
  users.admin = await createUser(app.db, { username: 'matrix_admin', role: 'admin' });
  users.creator = await createUser(app.db, { username: 'matrix_creator' });
  users.assignee = await createUser(app.db, { username: 'matrix_assignee', phone: ASSIGNEE_PHONE });
  users.user = await createUser(app.db, { username: 'matrix_bystander' });
  // Stock for the threshold routes (they name an existing SKU).
  await new Fixtures().receipt();
});
test.after.always(async () => {
  await app?.close();
  await idp?.close();
});

test('every registered route has an entry in the authorization table, and every entry a route', (t) => {
  const registered = registeredRoutes(app.app).map((r) => `${r.method} ${r.path}`);
  const missing = registered.filter((key) => !(key in TABLE));
  const stale = Object.keys(TABLE).filter((key) => !registered.includes(key));
  t.deepEqual(missing, [], 'routes with no entry saying who may call them');
  t.deepEqual(stale, [], 'entries for routes that are no longer registered');
  t.true(registered.length >= 78, `${registered.length} routes found`);
  t.log(`${registered.length} routes in the matrix`);
});

test('every entry: the allowed callers succeed, everyone else is turned away and nothing changes', async (t) => {
  // Over 500 calls, each with its before-and-after snapshot: about a minute on PostgreSQL on 2 cores.
  t.timeout(5 * 60_000);
  const fixtures = new Fixtures();
  const failures: string[] = [];
  let calls = 0;
  for (const [route, entry] of Object.entries(TABLE)) {
    for (const c of Array.isArray(entry) ? entry : [entry]) {
      const name = c.label ? `${route} (${c.label})` : route;
      const plan = CALLERS[c.who];
      for (const tried of plan.allowed) {
        const req = await c.request(fixtures, tried.secret);
        const session = await sessionFor(tried.caller, isApi(req.path), c.fresh ?? false);
        const outcome = await outcomeOf(session, await send(session, req));
        calls += 1;
        if (outcome.kind !== 'ok') failures.push(`${name} as ${tried.caller} (${c.who}, allowed): ${outcome.detail}`);
      }
      for (const tried of plan.denied) {
        const req = await c.request(fixtures, tried.secret);
        const session = await sessionFor(tried.caller, isApi(req.path), c.fresh ?? false);
        const before = await snapshot(app.db);
        const reply = await send(session, req);
        const after = await snapshot(app.db);
        const outcome = await outcomeOf(session, reply);
        calls += 1;
        const who = `${name} as ${tried.caller}${SECRETS.includes(c.who) ? ' without the secret' : ''}`;
        if (outcome.kind !== 'denied' && outcome.kind !== 'refused')
          failures.push(`${who} (${c.who}, denied): ${outcome.detail}`);
        if (isApi(req.path) && (outcome.kind !== 'denied' || typeof reply.json?.error !== 'string'))
          failures.push(`${who}: an API refusal must be 401/403/404 with {error}: ${outcome.detail}`);
        const changed = changedTables(before, after);
        if (changed.length) failures.push(`${who}: a refused call changed ${changed.join(', ')}`);
      }
    }
  }
  t.deepEqual(failures, []);
  t.log(`${calls} calls`);
});

test('a signed-out API caller gets 401 with {error}; a signed-out browser is sent to sign in and back', async (t) => {
  const anonymous = new Client(app.url);
  const api = await anonymous.send('GET', '/api/tickets');
  t.is(api.status, 401);
  t.is(typeof api.json.error, 'string');
  const page = await anonymous.get('/inventory/ledger?movement_type=receipt');
  t.is(page.status, 303);
  t.is(page.headers.get('location'), `/login?next=${encodeURIComponent('/inventory/ledger?movement_type=receipt')}`);
});
