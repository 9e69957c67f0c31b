import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/index.ts';
import { addReel } from '../../src/features/inventory/reels.ts';
import { receiveCable, transferStock } from '../../src/features/inventory/service.ts';
import { allLocations, createLocation } from '../../src/features/locations/service.ts';
import { changeStatus, createTicket, deleteTicket, type Settings } from '../../src/features/tickets/service.ts';
import { toPrincipal } from '../../src/features/users/presenter.ts';
import { insertUser, type PublicUserRow, type Role } from '../../src/features/users/queries.ts';
import type { Principal } from '../../src/http/context.ts';
import { hashPassword, newLinkSecret } from '../../src/lib/crypto.ts';
import { parseLength } from '../../src/lib/length.ts';
import type { TestApp } from './app.ts';
import { Client } from './client.ts';
import { PATHS } from './tickets.ts';

/**
 * Test data, built the way the app builds it, with whatever a thing needs made first when the test
 * does not say (a request brings its requester and approver; a receipt its admin).
 */

export const PASSWORD = 'correct horse battery';
// Hashed once per test process: scrypt is deliberately slow.
const passwordHash = await hashPassword(PASSWORD);

let counter = 0;
const unique = () => `${process.pid.toString(36)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`;

export interface UserSpec {
  username?: string;
  email?: string;
  phone?: string | null;
  role?: Role;
}

/** A user row straight into the database (password: PASSWORD). */
export async function createUser(db: Db, spec: UserSpec = {}): Promise<PublicUserRow> {
  const username = spec.username ?? `user_${unique()}`;
  return insertUser(db, {
    username,
    email: spec.email ?? `${username}@example.test`,
    phone: spec.phone === undefined ? '+12025550100' : spec.phone,
    passwordHash,
    role: spec.role ?? 'user',
  });
}

/** A client signed in through the real sign-in form (cookie session). */
export async function signedInClient(baseUrl: string, username: string, password = PASSWORD): Promise<Client> {
  const client = new Client(baseUrl);
  const res = await client.submit('/login', '/login', { username, password });
  if (res.status !== 303) throw new Error(`sign-in failed for ${username}: ${res.status} ${res.text.slice(0, 200)}`);
  return client;
}

/** A client holding an API token from POST /api/login. */
export async function tokenClient(baseUrl: string, username: string, password = PASSWORD): Promise<Client> {
  const client = new Client(baseUrl);
  const res = await client.send('POST', '/api/login', { username, password });
  if (res.status !== 200) throw new Error(`API sign-in failed for ${username}: ${res.status} ${res.text}`);
  return client.withToken(res.json.access_token);
}

/**
 * A client holding a personal token (`scope` read or write) made through POST /api/tokens by `owner`
 * (a client signed in with a sign-in token or a session); also the token's id.
 */
export async function personalTokenClient(
  owner: Client,
  scope: 'read' | 'write',
  spec: { name?: string; expires_in_days?: number } = {},
): Promise<{ client: Client; id: number; token: string }> {
  const res = await owner.send('POST', '/api/tokens', { name: spec.name ?? `${scope} token`, scope, ...spec });
  if (res.status !== 201) throw new Error(`personal token: ${res.status} ${res.text}`);
  return { client: new Client(owner.base).withToken(res.json.access_token), id: res.json.token.id, token: res.json.access_token };
}

/** An account made through POST /api/register, as a client makes one: its id and API token. */
export async function registerThroughApi(
  baseUrl: string,
  username: string,
  phone?: string,
): Promise<{ id: number; token: string }> {
  const res = await new Client(baseUrl).send('POST', '/api/register', {
    username,
    email: `${username}@example.test`,
    password: PASSWORD,
    phone,
  });
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${res.text}`);
  return { id: res.json.user.id as number, token: res.json.access_token as string };
}

// ---- people -------------------------------------------------------------------------------------

/** Someone in a test: their row, the principal services take, and an API client signed in as them. */
export interface Person {
  user: PublicUserRow;
  as: Principal;
  api: Client;
}

export interface PersonSpec extends UserSpec {
  /** Also a browser client (cookie session through the sign-in form). */
  browser?: boolean;
}

/** One person: the account, a bearer-token client, and with `browser` a signed-in cookie client. */
export async function buildPerson(app: TestApp, spec: PersonSpec = {}): Promise<Person & { browser?: Client }> {
  const user = await createUser(app.db, spec);
  const [api, browser] = await Promise.all([
    tokenClient(app.url, user.username),
    spec.browser ? signedInClient(app.url, user.username) : undefined,
  ]);
  return { user, as: toPrincipal(user), api, ...(browser ? { browser } : {}) };
}

type Cast<S extends Record<string, PersonSpec>> = {
  [P in keyof S]: Person & (S[P] extends { browser: true } ? { browser: Client } : { browser?: Client });
};

/**
 * A test's people by name, e.g. `buildCast(app, { boss: { role: 'admin' }, tech: {}, stock: { phone } })`;
 * each username is its key unless the spec names another.
 */
export async function buildCast<S extends Record<string, PersonSpec>>(app: TestApp, specs: S): Promise<Cast<S>> {
  const entries = await Promise.all(
    Object.entries(specs).map(async ([name, spec]) => [name, await buildPerson(app, { username: name, ...spec })]),
  );
  return Object.fromEntries(entries) as Cast<S>;
}

// ---- requests -----------------------------------------------------------------------------------

/** The services' settings as the test app runs them. */
export const settingsOf = (app: TestApp): Settings => app.config;

export interface RequestSpec {
  creator?: PublicUserRow;
  assignee?: PublicUserRow;
  location?: string;
  notes?: string | null;
  priority?: 'low' | 'medium' | 'high' | 'urgent';
  items?: { cable_type: string; cable_length: string; cable_gauge?: string; quantity: number }[];
  /** The stock location it takes from (default: the default location). */
  source_location_id?: number;
  /** Moved along the usual path by the assignee (deleted: by the creator, from pending). */
  status?: keyof typeof PATHS | 'deleted';
}

/**
 * A request filed through the tickets service (requester and approver made when not given), with its
 * review link, moved to `status`.
 */
export async function buildRequest(app: TestApp, spec: RequestSpec = {}) {
  const creator = spec.creator ?? (await createUser(app.db));
  const assignee = spec.assignee ?? (await createUser(app.db));
  const { id, reviewUrl } = await createTicket(
    app.db,
    toPrincipal(creator),
    {
      assigned_to_id: assignee.id,
      priority: spec.priority ?? 'medium',
      location: spec.location ?? 'Building A, room 101',
      notes: spec.notes ?? null,
      ...(spec.source_location_id === undefined ? {} : { source_location_id: spec.source_location_id }),
      items: (spec.items ?? [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }]).map((i) => ({
        ...i,
        cable_gauge: i.cable_gauge,
      })),
    },
    settingsOf(app),
  );
  if (spec.status === 'deleted') await deleteTicket(app.db, toPrincipal(creator), id);
  for (const step of spec.status && spec.status !== 'deleted' ? (PATHS[spec.status] ?? []) : []) {
    await changeStatus(app.db, toPrincipal(assignee), id, { status: step as 'approved' }, settingsOf(app));
  }
  const url = new URL(reviewUrl);
  return { id, creator, assignee, reviewUrl, reviewPath: url.pathname, token: url.pathname.split('/').at(-1) as string };
}

/**
 * A fresh review link for a request (the old one stops working), written as the app writes one: for
 * a request filed through the API, whose answer never carries the link.
 */
export async function reviewLinkFor(app: TestApp, ticketId: number) {
  const { token, hash, expiresAt } = newLinkSecret(app.config.approvalTokenTtlHours * 3_600_000);
  const changed = await app
    .db('tickets')
    .where({ id: ticketId })
    .update({ approval_token_hash: hash, approval_token_expires_at: expiresAt });
  if (changed !== 1) throw new Error(`no ticket ${ticketId}`);
  const reviewPath = `/tickets/${ticketId}/review/${token}`;
  return { token, reviewPath, reviewUrl: `${app.config.appUrl}${reviewPath}` };
}

// ---- inventory ----------------------------------------------------------------------------------

export interface ReceiptSpec {
  admin?: PublicUserRow;
  vendor?: string;
  items?: { cable_type: string; cable_length: string; quantity: number }[];
}

/** A delivery received through the inventory service (an admin made when not given). */
export async function buildReceipt(app: TestApp, spec: ReceiptSpec = {}) {
  const admin = spec.admin ?? (await createUser(app.db, { role: 'admin' }));
  return receiveCable(app.db, toPrincipal(admin), {
    vendor: spec.vendor ?? 'Acme Cable',
    items: spec.items ?? [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 10 }],
  });
}

/**
 * The inventory tests' people: an admin (boss), a technician who asks (tech) and the approver who
 * fulfils (stockkeeper), each with a bearer-token client.
 */
export async function inventoryCast(app: TestApp) {
  const { boss, tech, stockkeeper } = await buildCast(app, { boss: { role: 'admin' }, tech: {}, stockkeeper: {} });
  return {
    boss: boss.user,
    tech: tech.user,
    stockkeeper: stockkeeper.user,
    bossApi: boss.api,
    techApi: tech.api,
    stockApi: stockkeeper.api,
  };
}

export interface ReelSpec {
  cable_type?: string;
  /** "1000 ft" (default), "305 m": its unit is the bulk SKU's when the type is new. */
  length?: string;
  location_id?: number;
  lot?: string;
  admin?: PublicUserRow;
}

/** One reel of bulk cable received at a location (default: the default warehouse), through the engine. */
export async function buildReel(app: TestApp, spec: ReelSpec = {}) {
  const parsed = parseLength(spec.length ?? '1000 ft');
  if (!parsed.ok) throw new Error(parsed.error);
  const admin = spec.admin ?? (await createUser(app.db, { role: 'admin' }));
  const location_id = spec.location_id ?? (await defaultLocationId(app));
  const reel = await app.db.transaction((trx) =>
    addReel(
      trx,
      admin.id,
      {
        cable_type: spec.cable_type ?? 'Cat6',
        unit: parsed.unit,
        location_id,
        starting_mm: parsed.mm,
        lot: spec.lot ?? null,
        receipt_id: null,
      },
      'Test reel',
    ),
  );
  return { id: reel.id, code: reel.code, unit: reel.unit, location_id, starting_mm: parsed.mm };
}

// ---- reports ------------------------------------------------------------------------------------

export interface TimedRequestSpec {
  creator: PublicUserRow;
  assignee: PublicUserRow;
  /** When it was filed (ISO, UTC). */
  filed: string;
  items?: { cable_type: string; cable_length?: string; quantity?: number }[];
  /** First decision: when, by whom (default the assignee), and which. */
  decided?: { at: string; by?: PublicUserRow; to?: 'approved' | 'rejected' };
  /** Fulfilled at (after an approval, with in_progress an hour... at the same time). */
  fulfilled?: string;
  reminders?: number;
  escalations?: number;
}

/**
 * A request with its audit trail written at the times a report test chooses (the services write
 * "now"): the ticket row, its items, then its events in order, as the services insert them, so the
 * database's report triggers see exactly what they see from the app.
 */
export async function buildTimedRequest(app: TestApp, spec: TimedRequestSpec): Promise<number> {
  const { db } = app;
  const status = spec.fulfilled ? 'fulfilled' : (spec.decided?.to ?? (spec.decided ? 'approved' : 'pending_approval'));
  const [row] = (await db('tickets').insert(
    {
      created_by_id: spec.creator.id,
      assigned_to_id: spec.assignee.id,
      status,
      priority: 'medium',
      location: 'Report fixture',
      search_text: 'report fixture',
      created_at: spec.filed,
      updated_at: spec.filed,
    },
    ['id'],
  )) as { id: number }[];
  const id = Number(row?.id);
  const items = spec.items ?? [{ cable_type: 'Cat6' }];
  await db('ticket_items').insert(
    items.map((item, n) => ({
      ticket_id: id,
      position: n,
      cable_type: item.cable_type,
      cable_length: item.cable_length ?? '100ft',
      quantity: item.quantity ?? 1,
    })),
  );
  const event = (at: string, fields: Record<string, unknown>) =>
    db('ticket_events').insert({ ticket_id: id, created_at: at, ...fields });
  await event(spec.filed, { event_type: 'created', actor_user_id: spec.creator.id, to_status: 'pending_approval' });
  const reminderAt = spec.decided?.at ?? spec.filed;
  for (let n = 0; n < (spec.reminders ?? 0); n++) await event(reminderAt, { event_type: 'reminded' });
  for (let n = 0; n < (spec.escalations ?? 0); n++) await event(reminderAt, { event_type: 'escalated' });
  if (spec.decided) {
    const to = spec.decided.to ?? 'approved';
    const by = spec.decided.by ?? spec.assignee;
    await event(spec.decided.at, {
      event_type: 'status_changed',
      actor_user_id: by.id,
      from_status: 'pending_approval',
      to_status: to,
    });
    if (spec.fulfilled) {
      await event(spec.fulfilled, {
        event_type: 'status_changed',
        actor_user_id: by.id,
        from_status: 'approved',
        to_status: 'in_progress',
      });
      await event(spec.fulfilled, {
        event_type: 'status_changed',
        actor_user_id: by.id,
        from_status: 'in_progress',
        to_status: 'fulfilled',
      });
    }
  }
  return id;
}

/** The default stock location's id ("Main warehouse", made by the migrations). */
export async function defaultLocationId(app: TestApp): Promise<number> {
  return (await allLocations(app.db)).find((l) => l.is_default)?.id as number;
}

/** A stock location made through the locations service (a warehouse unless told). */
export async function buildLocation(app: TestApp, name: string, kind: 'warehouse' | 'van' | 'site' = 'warehouse') {
  return createLocation(app.db, { name, kind });
}

/** Stock moved between two locations through the inventory service (transfer_out and transfer_in). */
export async function buildTransfer(
  app: TestApp,
  spec: { from: number; to: number; items: { cable_type: string; cable_length: string; quantity: number }[] },
) {
  const admin = await createUser(app.db, { role: 'admin' });
  return transferStock(
    app.db,
    toPrincipal(admin),
    { from_location_id: spec.from, to_location_id: spec.to, items: spec.items },
    settingsOf(app),
  );
}

/**
 * Consumption rows in the ledger at chosen times (the ledger is append-only: rows are only inserted),
 * as the fulfilment writes them, at `location_id` (default: the default location); the stock's on
 * hand is not touched (set it with buildReceipt).
 */
export async function buildConsumption(
  app: TestApp,
  rows: { at: string; cable_type: string; cable_length?: string; quantity: number; location_id?: number }[],
) {
  const main = await defaultLocationId(app);
  for (const r of rows) {
    const length = r.cable_length ?? '100ft';
    await app.db('inventory_movements').insert({
      movement_type: 'consumption',
      source_type: 'ticket_fulfillment',
      source_id: null,
      source_line: counter++,
      sku_key: `${r.cable_type.trim().toLowerCase()}|${length.trim().toLowerCase()}`,
      cable_type: r.cable_type,
      cable_length: length,
      quantity_delta: -r.quantity,
      location_id: r.location_id ?? main,
      created_at: r.at,
    });
  }
}

/**
 * Reel movements in the ledger at chosen times (append-only: rows are only inserted), as fulfilment
 * writes a cut ('cut', source 'ticket_cut') and a reel's scrap ('scrap', source 'reel_scrap'): the
 * bulk SKU of the reel's type, its location, the length in millimetres. Neither the reel's remaining
 * length nor the stock's on hand is touched (buildReel set them).
 */
export async function buildReelMovements(
  app: TestApp,
  rows: { at: string; reel: { id: number; location_id: number }; cable_type: string; length: string; type?: 'cut' | 'scrap' }[],
) {
  for (const r of rows) {
    const parsed = parseLength(r.length);
    if (!parsed.ok) throw new Error(parsed.error);
    const scrap = r.type === 'scrap';
    await app.db('inventory_movements').insert({
      movement_type: scrap ? 'scrap' : 'cut',
      source_type: scrap ? 'reel_scrap' : 'ticket_cut',
      source_id: scrap ? r.reel.id : null,
      source_line: scrap ? 0 : counter++,
      sku_key: `${r.cable_type.trim().toLowerCase()}|`,
      cable_type: r.cable_type,
      cable_length: '',
      quantity_delta: -parsed.mm,
      location_id: r.reel.location_id,
      reel_id: r.reel.id,
      created_at: r.at,
    });
  }
}
