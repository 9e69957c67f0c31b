import type { Knex } from 'knex';
import { pathFromPending, STATUSES } from '../src/features/tickets/states.ts';
import { hashPassword } from '../src/lib/crypto.ts';

/**
 * Benchmark data, generated inside the database with INSERT ... SELECT over a series of ticket ids:
 * PostgreSQL's generate_series, SQLite's recursive CTE. Nothing crosses the wire row by row, so a
 * million tickets (with ~1.5 M items, ~4 M events, ~5 M notifications, ~1 M ledger rows) take minutes,
 * not hours. Every value is a deterministic function of the ticket id (a multiplicative hash), so two
 * runs at one scale hold the same data, and SQLite and PostgreSQL hold the same data too.
 *
 * Proportions, per ticket: 1-3 items (60/30/10 %); the audit events of its path through the states;
 * an email and an SMS for each notifying step (created, approved, rejected, fulfilled), all `sent`;
 * one ledger `consumption` row per item once fulfilled; a vendor delivery (4 `receipt` rows) per 100
 * tickets; an optics request per 100 tickets. Users: sqrt(tickets)/2 (50 at 10k, 500 at 1M), a tenth
 * of them approvers (assignees). Old tickets are mostly closed; the newest 2 % are mostly open.
 * ticket_counts, inventory_stock and search_text are filled as the app would have left them.
 */

export const BENCH_PASSWORD = 'bench-password-0123';
export const BENCH_USER = 'bench';

export interface Scale {
  tickets: number;
  users: number;
  approvers: number;
  receipts: number;
  optics: number;
}

export function scaleFor(tickets: number): Scale {
  const users = Math.max(20, Math.round(Math.sqrt(tickets) / 2));
  return {
    tickets,
    users,
    approvers: Math.max(3, Math.round(users / 10)),
    receipts: Math.max(10, Math.ceil(tickets / 100)),
    optics: Math.max(10, Math.ceil(tickets / 100)),
  };
}

// ---- the catalogue -------------------------------------------------------------------------------

const TYPES = [
  'Cat5e',
  'Cat6',
  'Cat6a',
  'Cat7',
  'Cat8',
  'Fiber OM3',
  'Fiber OM4',
  'Fiber OS2',
  'Coax RG6',
  'Coax RG59',
  'Patch Cat6',
  'Patch Cat6a',
];
const LENGTHS = ['1m', '2m', '3m', '5m', '10m', '25ft', '50ft', '100ft', '250ft', '500ft', '1000ft'];
const GAUGES = ['23 AWG', '24 AWG', '26 AWG', '28 AWG', 'LC-LC', 'SC-LC'];
const BUILDINGS = [
  'North Tower',
  'South Tower',
  'East Wing',
  'West Wing',
  'Warehouse A',
  'Warehouse B',
  'Data Center 1',
  'Data Center 2',
  'Main Office',
  'Annex',
  'Lab 3',
  'Plant Room',
  'Reception',
  'Loading Dock',
  'Server Hall',
  'Training Center',
];
const NOTES = [
  'New office fit-out for the sales team',
  'Replace the damaged run under the raised floor',
  'Rack 4 top-of-rack patching',
  'Outage in the east corridor, users down',
  'Spare stock for the help desk',
  'Conference room AV upgrade',
  'Access point install above the ceiling tiles',
  'CCTV camera run to the car park',
  'Printer relocation next to the kitchen',
  'Second uplink for the core switch',
  'Desk move, 12 seats',
  'Label both ends please',
];
/** Priorities and their weights in 20ths (20/55/20/5 %). */
const PRIORITY_WEIGHTS: [string, number][] = [
  ['low', 4],
  ['medium', 11],
  ['high', 4],
  ['urgent', 1],
];
const PRIORITIES = PRIORITY_WEIGHTS.flatMap(([priority, weight]) => Array<string>(weight).fill(priority));

/**
 * The body of the n-th request the bench files through `POST /api/tickets`: the catalogue and the
 * proportions of the generated tickets (a building, floor and room; notes half the time; 1-3 items,
 * 60/30/10 %), so the searches timed after the POST run meet new tickets as often as old ones.
 */
export function newTicketBody(n: number, assignedToId: number): string {
  // A small integer hash of (n, salt): spread, repeatable, no state.
  const h = (salt: number) => {
    let x = Math.imul(n ^ Math.imul(salt, 0x9e3779b1), 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const pick = <T>(list: readonly T[], salt: number) => list[h(salt) % list.length] as T;
  const items = Array.from({ length: 1 + (h(6) % 10 >= 6 ? 1 : 0) + (h(6) % 10 >= 9 ? 1 : 0) }, (_, p) => ({
    cable_type: pick(TYPES, 20 + p),
    cable_length: pick(LENGTHS, 30 + p),
    ...(h(40 + p) % 2 ? { cable_gauge: pick(GAUGES, 50 + p) } : {}),
    quantity: 1 + (h(60 + p) % 20),
  }));
  return JSON.stringify({
    assigned_to_id: assignedToId,
    priority: pick(PRIORITIES, 4),
    location: `${pick(BUILDINGS, 5)} floor ${1 + (h(13) % 12)} room ${100 + (h(14) % 400)}`,
    ...(h(15) % 2 ? { notes: pick(NOTES, 16) } : {}),
    items,
  });
}

const REASONS = [
  'Out of budget this quarter',
  'Use the spare stock in the cage',
  'Wrong cable type for this run',
  'Duplicate request',
];
const VENDORS = ['Anixter', 'Graybar', 'CDW', 'Fiberstore', 'Monoprice', 'Belden Direct'];
const OPTICS_PARTS = ['SFP-1G-SX', 'SFP-10G-SR', 'SFP-10G-LR', 'SFP-25G-SR', 'QSFP-40G-SR4', 'QSFP-100G-SR4'];

/** Seconds after creation at which each step of a ticket's path happened (0, 2 h, 1, 2 and 5 days). */
const OFFSETS = [0, 7_200, 86_400, 172_800, 432_000];
const FULFIL_OFFSET = OFFSETS[3] as number;

interface Step {
  status: string;
  k: number;
  event: string;
  from: string | null;
  to: string;
  actor: 'c' | 'a';
  offset: number;
  notify: string | null;
  notifyWho: 'c' | 'a' | null;
}

/** The audit trail (and the messages) each final status implies. */
function paths(): Step[] {
  const told: Record<string, string> = {
    approved: 'ticket_approved',
    rejected: 'ticket_rejected',
    fulfilled: 'ticket_fulfilled',
  };
  const steps: Step[] = [];
  const created = (status: string): Step => ({
    status,
    k: 0,
    event: 'created',
    from: null,
    to: 'pending_approval',
    actor: 'c',
    offset: 0,
    notify: 'ticket_created',
    notifyWho: 'a',
  });
  for (const status of STATUSES) {
    const list = pathFromPending(status);
    steps.push(created(status));
    let from = 'pending_approval';
    list.forEach((to, n) => {
      const notify = told[to] ?? null;
      steps.push({
        status,
        k: n + 1,
        event: 'status_changed',
        from,
        to,
        actor: 'a',
        offset: OFFSETS[n + 1] as number,
        notify,
        notifyWho: notify ? 'c' : null,
      });
      from = to;
    });
  }
  steps.push(created('deleted'));
  steps.push({
    status: 'deleted',
    k: 1,
    event: 'deleted',
    from: 'pending_approval',
    to: 'deleted',
    actor: 'c',
    offset: 3_600,
    notify: null,
    notifyWho: null,
  });
  return steps;
}

// ---- SQL that both databases run ---------------------------------------------------------------

const MULTIPLIERS = [
  2654435761, 2246822519, 3266489917, 668265263, 374761393, 1181783497, 2870177443, 1597334677, 3812015801, 1103515245, 134775813,
  22695477, 1664525, 69069, 1013904223, 2891336453, 1566083941, 1812433253,
];
const lit = (v: string | number | null) =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;

class Sql {
  constructor(readonly pg: boolean) {}

  /** `WITH g(i)` over lo..hi (the caller appends more CTEs with `,`). */
  series(lo: number, hi: number): string {
    return this.pg
      ? `WITH g(i) AS (SELECT generate_series(${lo}, ${hi}))`
      : `WITH RECURSIVE g(i) AS (SELECT ${lo} UNION ALL SELECT i + 1 FROM g WHERE i < ${hi})`;
  }

  /** A pseudo-random non-negative integer from an integer expression; `k` picks an independent stream. */
  h(expr: string, k: number): string {
    const m = MULTIPLIERS[k % MULTIPLIERS.length] as number;
    const cast = this.pg ? `(${expr})::bigint` : `(${expr})`;
    return `((${cast} * ${m} + ${k * 7919 + 13}) % 2147483629)`;
  }

  pick(list: readonly string[], expr: string): string {
    return `(CASE (${expr}) % ${list.length} ${list.map((v, n) => `WHEN ${n} THEN ${lit(v)}`).join(' ')} END)`;
  }

  /** A timestamp from epoch seconds, stored as the app stores one (timestamptz / ISO-8601 text). */
  ts(epochSeconds: string): string {
    return this.pg ? `to_timestamp(${epochSeconds})` : `strftime('%Y-%m-%dT%H:%M:%fZ', ${epochSeconds}, 'unixepoch')`;
  }

  /** A newline character. */
  get nl(): string {
    return this.pg ? 'chr(10)' : 'char(10)';
  }

  text(expr: string): string {
    return `CAST(${expr} AS TEXT)`;
  }

  pad64(expr: string): string {
    return this.pg ? `lpad(${this.text(expr)}, 64, '0')` : `substr('${'0'.repeat(64)}' || ${this.text(expr)}, -64, 64)`;
  }

  values(name: string, columns: string[], rows: (string | number | null)[][]): string {
    return `${name}(${columns.join(', ')}) AS (VALUES ${rows.map((r) => `(${r.map(lit).join(', ')})`).join(', ')})`;
  }
}

// ---- the generator -----------------------------------------------------------------------------

export interface GenerateReport {
  seconds: number;
  steps: { step: string; seconds: number }[];
  rows: Record<string, number>;
}

const BIG_TABLES = ['tickets', 'ticket_items', 'ticket_events', 'notifications', 'inventory_movements'];

/**
 * Fills a freshly migrated database. `db` must be a connection the caller owns (on PostgreSQL a pool of
 * one, so the session settings below hold for every statement).
 */
export async function generateData(db: Knex, pg: boolean, tickets: number, log: (line: string) => void): Promise<GenerateReport> {
  const sql = new Sql(pg);
  const scale = scaleFor(tickets);
  const steps: GenerateReport['steps'] = [];
  const started = performance.now();
  const step = async (name: string, work: () => Promise<unknown>) => {
    const t0 = performance.now();
    await work();
    const seconds = (performance.now() - t0) / 1000;
    steps.push({ step: name, seconds: Math.round(seconds * 100) / 100 });
    log(`  ${name}: ${seconds.toFixed(1)} s`);
  };

  // The span the tickets were filed over: three years, ending six days ago (so every step is past).
  const end = Math.floor(Date.now() / 1000) - 6 * 86_400;
  const span = 3 * 365 * 86_400;
  const stepSeconds = Math.max(1, Math.floor(span / tickets));
  const start = end - stepSeconds * tickets;
  const t0 = (i: string) => `(${start} + ${i} * ${stepSeconds})`;

  let dropped: { name: string; def: string }[] = [];
  if (pg) {
    // One session for the load: no fsync per statement, roomy sorts for the index builds, and no FK
    // or append-only triggers (the data is consistent by construction; this needs a superuser, and
    // is skipped otherwise).
    await db.raw('SET synchronous_commit = off');
    await db.raw("SET maintenance_work_mem = '512MB'");
    await db.raw("SET work_mem = '64MB'");
    try {
      await db.raw('SET session_replication_role = replica');
    } catch {
      log('  (not a superuser: foreign keys are checked during the load, which is slower)');
    }
    // Secondary indexes are built once after the load instead of maintained row by row.
    dropped = (
      await db.raw(
        `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE t.relname = ANY(?) AND n.nspname = current_schema()
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`,
        [BIG_TABLES],
      )
    ).rows;
    for (const index of dropped) await db.raw(`DROP INDEX "${index.name}"`);
  }

  // Users: 1 is the bench's admin (and an approver); 1..approvers are the assignees.
  await step(`users (${scale.users})`, async () => {
    const hash = await hashPassword(BENCH_PASSWORD);
    const now = new Date().toISOString();
    const rows = Array.from({ length: scale.users }, (_, n) => {
      const id = n + 1;
      const username = id === 1 ? BENCH_USER : `tech${id}`;
      return {
        id,
        username,
        username_key: username,
        email: `${username}@example.test`,
        email_key: `${username}@example.test`,
        phone: `+1202555${String(1000 + id).slice(-4)}`,
        password_hash: hash,
        role: id === 1 ? 'admin' : 'user',
        created_at: now,
        updated_at: now,
      };
    });
    for (let n = 0; n < rows.length; n += 200) await db('users').insert(rows.slice(n, n + 200));
  });

  // Per ticket id `i` (also used for items with i*3+p).
  const itemExpr = (i: string, p: number) => {
    const key = `${i} * 3 + ${p}`;
    return {
      type: sql.pick(TYPES, sql.h(key, 7)),
      length: sql.pick(LENGTHS, sql.h(key, 8)),
      gauge: `(CASE WHEN ${sql.h(key, 9)} % 2 = 0 THEN NULL ELSE ${sql.pick(GAUGES, sql.h(key, 10))} END)`,
      quantity: `(1 + ${sql.h(key, 11)} % 20)`,
    };
  };
  const nItems = (i: string) =>
    `(1 + (CASE WHEN ${sql.h(i, 6)} % 10 >= 6 THEN 1 ELSE 0 END) + (CASE WHEN ${sql.h(i, 6)} % 10 >= 9 THEN 1 ELSE 0 END))`;
  const itemText = (i: string, p: number) => {
    const it = itemExpr(i, p);
    return `${it.type} || ' ' || ${it.length} || ' ' || COALESCE(${it.gauge}, '')`;
  };
  const recentFrom = tickets - Math.max(50, Math.round(tickets * 0.02));
  const pct = (x: string, dist: [string, number][]) => {
    const bounds = dist.map(([s], n) => [s, dist.slice(0, n + 1).reduce((sum, [, p]) => sum + p, 0)] as const);
    return `(CASE ${bounds.map(([s, upTo]) => `WHEN ${x} < ${upTo} THEN '${s}'`).join(' ')} END)`;
  };
  const statusExpr = `(CASE WHEN i > ${recentFrom} THEN ${pct(`${sql.h('i', 3)} % 100`, [
    ['pending_approval', 35],
    ['approved', 15],
    ['in_progress', 15],
    ['rejected', 5],
    ['fulfilled', 15],
    ['closed', 10],
    ['deleted', 5],
  ])} ELSE ${pct(`${sql.h('i', 3)} % 100`, [
    ['pending_approval', 2],
    ['approved', 2],
    ['in_progress', 2],
    ['rejected', 7],
    ['fulfilled', 8],
    ['closed', 74],
    ['deleted', 5],
  ])} END)`;
  const lastOffset = `(CASE status WHEN 'approved' THEN ${OFFSETS[1]} WHEN 'rejected' THEN ${OFFSETS[1]} WHEN 'in_progress' THEN ${OFFSETS[2]} WHEN 'fulfilled' THEN ${OFFSETS[3]} WHEN 'closed' THEN ${OFFSETS[4]} WHEN 'deleted' THEN 3600 ELSE 0 END)`;

  const CHUNK = 200_000;
  const chunks: [number, number][] = [];
  for (let lo = 1; lo <= tickets; lo += CHUNK) chunks.push([lo, Math.min(tickets, lo + CHUNK - 1)]);

  await step(`tickets (${tickets})`, async () => {
    for (const [lo, hi] of chunks) {
      await db.raw(`${sql.series(lo, hi)}
        INSERT INTO tickets (id, created_by_id, assigned_to_id, status, priority, location, notes, rejection_reason, search_text,
          approval_token_hash, approval_token_expires_at, deleted_at, deleted_by_id, status_before_delete, created_at, updated_at)
        SELECT i, created_by_id, assigned_to_id, status, priority, location, notes,
          CASE WHEN status = 'rejected' THEN ${sql.pick(REASONS, sql.h('i', 12))} END,
          lower(location || ' ' || COALESCE(notes, '') || ' ' || ${itemText('i', 0)}
            || CASE WHEN n_items > 1 THEN ' ' || ${itemText('i', 1)} ELSE '' END
            || CASE WHEN n_items > 2 THEN ' ' || ${itemText('i', 2)} ELSE '' END),
          CASE WHEN status = 'pending_approval' THEN ${sql.pad64('i')} END,
          CASE WHEN status = 'pending_approval' THEN ${sql.ts(`${t0('i')} + 604800`)} END,
          CASE WHEN status = 'deleted' THEN ${sql.ts(`${t0('i')} + 3600`)} END,
          CASE WHEN status = 'deleted' THEN created_by_id END,
          CASE WHEN status = 'deleted' THEN 'pending_approval' END,
          ${sql.ts(t0('i'))},
          ${sql.ts(`${t0('i')} + ${lastOffset}`)}
        FROM (
          SELECT i,
            1 + ${sql.h('i', 1)} % ${scale.users} AS created_by_id,
            1 + ${sql.h('i', 2)} % ${scale.approvers} AS assigned_to_id,
            ${statusExpr} AS status,
            ${pct(`${sql.h('i', 4)} % 20`, PRIORITY_WEIGHTS)} AS priority,
            ${sql.pick(BUILDINGS, sql.h('i', 5))} || ' floor ' || ${sql.text(`1 + ${sql.h('i', 13)} % 12`)}
              || ' room ' || ${sql.text(`100 + ${sql.h('i', 14)} % 400`)} AS location,
            CASE WHEN ${sql.h('i', 15)} % 2 = 0 THEN NULL ELSE ${sql.pick(NOTES, sql.h('i', 16))} END AS notes,
            ${nItems('i')} AS n_items
          FROM g
        ) x`);
    }
  });

  await step('ticket items', async () => {
    for (const [lo, hi] of chunks) {
      const cases = (field: 'type' | 'length' | 'gauge' | 'quantity') =>
        `CASE p ${[0, 1, 2].map((p) => `WHEN ${p} THEN ${itemExpr('i', p)[field]}`).join(' ')} END`;
      await db.raw(`${sql.series(lo, hi)}, ${sql.values('pos', ['p'], [[0], [1], [2]])}
        INSERT INTO ticket_items (ticket_id, position, cable_type, cable_length, cable_gauge, quantity)
        SELECT i, p, ${cases('type')}, ${cases('length')}, ${cases('gauge')}, ${cases('quantity')}
        FROM g JOIN pos ON p < ${nItems('i')}
        ORDER BY i, p`);
    }
  });

  const pathRows = paths().map((s) => [s.status, s.k, s.event, s.from, s.to, s.actor, s.offset, s.notify, s.notifyWho]);
  const pathCte = sql.values(
    'path',
    ['status', 'k', 'event', 'from_status', 'to_status', 'actor', 'offs', 'notify', 'notify_who'],
    pathRows,
  );

  await step('ticket events', async () => {
    for (const [lo, hi] of chunks) {
      await db.raw(`WITH ${pathCte}
        INSERT INTO ticket_events (ticket_id, event_type, actor_user_id, via, from_status, to_status, note, created_at)
        SELECT t.id, path.event, CASE path.actor WHEN 'c' THEN t.created_by_id ELSE t.assigned_to_id END, NULL,
          path.from_status, path.to_status, CASE WHEN path.to_status = 'rejected' THEN t.rejection_reason END,
          ${sql.ts(`${t0('t.id')} + path.offs`)}
        FROM tickets t JOIN path ON path.status = t.status
        WHERE t.id BETWEEN ${lo} AND ${hi}
        ORDER BY t.id, path.k`);
    }
  });

  await step('notifications (sent)', async () => {
    for (const [lo, hi] of chunks) {
      const when = `${t0('t.id')} + path.offs`;
      const subject = `CASE path.notify WHEN 'ticket_created' THEN 'Cable request #' || ${sql.text('t.id')} || ' from ' || c.username || ' needs your review'
        ELSE 'Your cable request #' || ${sql.text('t.id')} || ' was ' || path.to_status END`;
      await db.raw(`WITH ${pathCte}, ${sql.values('ch', ['channel'], [['email'], ['sms']])}
        INSERT INTO notifications (ticket_id, optics_request_id, recipient_user_id, recipient_address, channel, notification_type,
          status, attempts, next_attempt_at, locked_at, subject, body_text, body_html, provider, provider_message_id, error_message,
          sent_at, created_at, updated_at)
        SELECT t.id, NULL, u.id, CASE ch.channel WHEN 'email' THEN u.email ELSE u.phone END, ch.channel, path.notify,
          'sent', 1, ${sql.ts(when)}, NULL,
          CASE ch.channel WHEN 'email' THEN ${subject} END,
          CASE ch.channel
            WHEN 'email' THEN 'Hello ' || u.username || ',' || ${sql.nl} || ${sql.nl} || ${subject} || ' at ' || t.location || '.'
              || ${sql.nl} || ${sql.nl} || 'Open it here: https://tickets.example.test/tickets/' || ${sql.text('t.id')}
              || ${sql.nl} || ${sql.nl} || 'The link works once and expires; opening it changes nothing until you press a button.'
            ELSE '#' || ${sql.text('t.id')} || ' cable request from ' || c.username || ' @ ' || t.location
              || '. Review: https://tickets.example.test/tickets/' || ${sql.text('t.id')} || '/review/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg'
          END,
          CASE ch.channel WHEN 'email' THEN '<!doctype html><html><body style="font-family:sans-serif"><p>Hello ' || u.username
            || ',</p><p>' || ${subject} || ' at ' || t.location || '.</p><p><a href="https://tickets.example.test/tickets/'
            || ${sql.text('t.id')} || '">Open the request</a></p><p style="color:#555">The link works once and expires.</p></body></html>' END,
          CASE ch.channel WHEN 'email' THEN 'resend' ELSE 'twilio' END,
          'bench-' || ${sql.text('t.id')} || '-' || ${sql.text('path.k')} || '-' || ch.channel,
          NULL, ${sql.ts(`${when} + 3`)}, ${sql.ts(when)}, ${sql.ts(`${when} + 3`)}
        FROM tickets t
          JOIN path ON path.status = t.status AND path.notify IS NOT NULL
          JOIN users u ON u.id = CASE path.notify_who WHEN 'a' THEN t.assigned_to_id ELSE t.created_by_id END
          JOIN users c ON c.id = t.created_by_id
          CROSS JOIN ch
        WHERE t.id BETWEEN ${lo} AND ${hi}
        ORDER BY t.id, path.k, ch.channel`);
    }
  });

  await step(`receipts (${scale.receipts}) and the ledger`, async () => {
    const receiptStep = Math.floor((end - start) / scale.receipts);
    const skus = TYPES.length * LENGTHS.length;
    await db.raw(`${sql.series(1, scale.receipts)}
      INSERT INTO cable_receipts (id, vendor, po_number, notes, received_by_id, created_at, updated_at)
      SELECT i, ${sql.pick(VENDORS, sql.h('i', 17))}, 'PO-' || ${sql.text('100000 + i')}, NULL, 1 + ${sql.h('i', 2)} % ${scale.approvers},
        ${sql.ts(`${start} + i * ${receiptStep}`)}, ${sql.ts(`${start} + i * ${receiptStep}`)}
      FROM g`);
    // Four lines per receipt, round the catalogue; sized so deliveries roughly cover what tickets take.
    const sku = `((r.id * 4 + pos.p) % ${skus})`;
    const type = `CASE ${sku} / ${LENGTHS.length} ${TYPES.map((t, n) => `WHEN ${n} THEN ${lit(t)}`).join(' ')} END`;
    const length = `CASE ${sku} % ${LENGTHS.length} ${LENGTHS.map((l, n) => `WHEN ${n} THEN ${lit(l)}`).join(' ')} END`;
    const perLine = Math.round((tickets * 0.8 * 1.5 * 10.5) / (scale.receipts * 4));
    await db.raw(`WITH ${sql.values('pos', ['p'], [[0], [1], [2], [3]])}
      INSERT INTO cable_receipt_items (receipt_id, position, cable_type, cable_length, quantity)
      SELECT r.id, pos.p, ${type}, ${length}, ${Math.round(perLine * 1.1)} + ${sql.h('r.id * 4 + pos.p', 11)} % ${Math.max(1, Math.round(perLine * 0.3))}
      FROM cable_receipts r CROSS JOIN pos ORDER BY r.id, pos.p`);
    // The ledger in time order: deliveries, consumption at fulfilment, a few manual adjustments.
    // All of it at the default location (Main warehouse, made by the migrations), as the app writes it.
    await db.raw(`INSERT INTO inventory_movements (movement_type, source_type, source_id, source_line, actor_user_id, sku_key,
        cable_type, cable_length, quantity_delta, notes, created_at, location_id)
      SELECT m.*, (SELECT id FROM locations WHERE is_default) FROM (
        SELECT 'receipt' AS movement_type, 'cable_receiving' AS source_type, ri.receipt_id AS source_id, ri.position AS source_line,
          r.received_by_id AS actor_user_id, lower(ri.cable_type) || '|' || lower(ri.cable_length) AS sku_key, ri.cable_type,
          ri.cable_length, ri.quantity AS quantity_delta, NULL AS notes, r.created_at
        FROM cable_receipt_items ri JOIN cable_receipts r ON r.id = ri.receipt_id
        UNION ALL
        SELECT 'consumption', 'ticket_fulfillment', t.id, it.position, t.assigned_to_id,
          lower(it.cable_type) || '|' || lower(it.cable_length), it.cable_type, it.cable_length, -it.quantity, NULL,
          ${sql.ts(`${t0('t.id')} + ${FULFIL_OFFSET}`)}
        FROM tickets t JOIN ticket_items it ON it.ticket_id = t.id
        WHERE t.status IN ('fulfilled', 'closed')
        UNION ALL
        SELECT 'adjustment', 'manual_adjustment', NULL, 0, 1, lower(r.cable_type) || '|' || lower(r.cable_length), r.cable_type,
          r.cable_length, -1 - r.id % 5, 'Cycle count correction', r.created_at
        FROM (SELECT ri.receipt_id AS id, ri.cable_type, ri.cable_length, rr.created_at
              FROM cable_receipt_items ri JOIN cable_receipts rr ON rr.id = ri.receipt_id
              WHERE ri.position = 0 AND ri.receipt_id % 20 = 0) r
      ) m
      ORDER BY created_at`);
    await db.raw(`INSERT INTO inventory_stock (sku_key, cable_type, cable_length, on_hand, reorder_threshold, last_alert_at, created_at, updated_at)
      SELECT sku_key, min(cable_type), min(cable_length), sum(quantity_delta),
        CASE WHEN min(cable_length) IN ('100ft', '1000ft') THEN 200 END, NULL, min(created_at), max(created_at)
      FROM inventory_movements GROUP BY sku_key`);
    await db.raw(`INSERT INTO location_stock (location_id, sku_key, cable_type, cable_length, on_hand, reserved, created_at, updated_at)
      SELECT location_id, sku_key, min(cable_type), min(cable_length), sum(quantity_delta), 0, min(created_at), max(created_at)
      FROM inventory_movements GROUP BY location_id, sku_key`);
  });

  await step(`optics requests (${scale.optics})`, async () => {
    const opticsStep = Math.floor((end - start) / scale.optics);
    await db.raw(`${sql.series(1, scale.optics)}
      INSERT INTO optics_requests (id, part_number, selected_part, other_part, quantity, requester_name, status, admin_note,
        requested_by_id, decided_by_id, decided_at, created_at, updated_at)
      SELECT i, part, part, NULL, 1 + ${sql.h('i', 11)} % 8, 'Tech ' || ${sql.text('requested_by_id')}, status, NULL, requested_by_id,
        CASE WHEN status = 'pending' THEN NULL ELSE 1 END, CASE WHEN status = 'pending' THEN NULL ELSE ${sql.ts(`${start} + i * ${opticsStep} + 3600`)} END,
        ${sql.ts(`${start} + i * ${opticsStep}`)}, ${sql.ts(`${start} + i * ${opticsStep} + 3600`)}
      FROM (SELECT i, ${sql.pick(OPTICS_PARTS, sql.h('i', 16))} AS part, 1 + ${sql.h('i', 1)} % ${scale.users} AS requested_by_id,
              CASE WHEN i > ${scale.optics - 5} THEN 'pending' ELSE ${sql.pick(['approved', 'approved', 'denied', 'archived'], sql.h('i', 3))} END AS status
            FROM g) x`);
    await db.raw(`INSERT INTO optics_request_events (optics_request_id, action, actor_user_id, from_status, to_status, note, created_at)
      SELECT id, 'submitted', requested_by_id, NULL, 'pending', NULL, created_at FROM optics_requests
      UNION ALL
      SELECT id, CASE status WHEN 'approved' THEN 'approve' WHEN 'denied' THEN 'deny' ELSE 'archive' END, 1, 'pending', status, NULL, decided_at
      FROM optics_requests WHERE status <> 'pending'`);
  });

  await step('ticket_counts', () =>
    db.raw('UPDATE ticket_counts SET n = (SELECT count(*) FROM tickets WHERE tickets.status = ticket_counts.status)'),
  );

  if (pg) {
    // The triggers that keep the reports' summaries (migrations 20261208200000, ...200) do not fire
    // under session_replication_role = replica: the summaries are filled here from what was loaded.
    await step('report summaries', () => fillReportSummaries(db, chunks));
    await step(`indexes (${dropped.length} rebuilt)`, async () => {
      for (const index of dropped) await db.raw(index.def);
    });
    await step('sequences', async () => {
      for (const table of ['users', 'tickets', 'cable_receipts', 'optics_requests']) {
        await db.raw(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT COALESCE(max(id), 1) FROM ${table}))`);
      }
    });
    await db.raw('SET session_replication_role = DEFAULT').catch(() => {});
    await step('vacuum analyze', () => db.raw('VACUUM (ANALYZE)'));
  } else {
    await step('analyze', () => db.raw('ANALYZE'));
  }

  const rows: Record<string, number> = {};
  for (const table of [
    'users',
    'tickets',
    'ticket_items',
    'ticket_events',
    'notifications',
    'inventory_movements',
    'inventory_stock',
    'cable_receipts',
    'optics_requests',
  ]) {
    const [row] = await db(table).count({ n: '*' });
    rows[table] = Number((row as { n: number | string }).n);
  }
  return { seconds: Math.round((performance.now() - started) / 100) / 10, steps, rows };
}

/**
 * Rows for the drain measurement: `count` due messages (half email, half SMS) to approvers, on
 * existing tickets, as the outbox would hold them after a busy spell.
 */
export async function queueNotifications(db: Knex, pg: boolean, count: number, tickets: number): Promise<void> {
  const sql = new Sql(pg);
  const scale = scaleFor(tickets);
  const now = Math.floor(Date.now() / 1000) - 1;
  await db.raw(`${sql.series(1, count)}
    INSERT INTO notifications (ticket_id, optics_request_id, recipient_user_id, recipient_address, channel, notification_type, status,
      attempts, next_attempt_at, locked_at, subject, body_text, body_html, provider, provider_message_id, error_message, sent_at,
      created_at, updated_at)
    SELECT t, NULL, u.id, CASE WHEN i % 2 = 0 THEN u.email ELSE u.phone END, CASE WHEN i % 2 = 0 THEN 'email' ELSE 'sms' END,
      'ticket_created', 'queued', 0, ${sql.ts(String(now))}, NULL,
      CASE WHEN i % 2 = 0 THEN 'Cable request #' || ${sql.text('t')} || ' needs your review' END,
      'Cable request #' || ${sql.text('t')} || ' needs your review. Review: https://tickets.example.test/tickets/' || ${sql.text('t')} || '/review/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg',
      CASE WHEN i % 2 = 0 THEN '<p>Cable request #' || ${sql.text('t')} || ' needs your review.</p>' END,
      NULL, NULL, NULL, NULL, ${sql.ts(String(now))}, ${sql.ts(String(now))}
    FROM (SELECT i, 1 + ${sql.h('i', 2)} % ${scale.approvers} AS uid, 1 + ${sql.h('i', 1)} % ${tickets} AS t FROM g) x
      JOIN users u ON u.id = x.uid`);
}

const DECISION = "event_type = 'status_changed' AND from_status = 'pending_approval' AND to_status IN ('approved', 'rejected')";

/**
 * PostgreSQL: report_ticket_timings and report_daily_consumption as their triggers would have left them,
 * from the loaded events and ledger, set-based (one pass over each ticket range's events).
 */
export async function fillReportSummaries(db: Knex, chunks: [number, number][]): Promise<void> {
  for (const [lo, hi] of chunks) {
    // type_keys as the trigger on report_ticket_timings would set it (decision_hours and lead_hours are generated).
    await db.raw(`INSERT INTO report_ticket_timings (ticket_id, requester_id, requested_at, status, decided_at, decided_by_id,
        decision, approved_at, fulfilled_at, reminders, escalations, type_keys)
      SELECT t.id, t.created_by_id, t.created_at, t.status, e.decided_at, e.decided_by_id, e.decision, e.approved_at, e.fulfilled_at,
        coalesce(e.reminders, 0), coalesce(e.escalations, 0), k.keys
      FROM tickets t LEFT JOIN (
        SELECT ticket_id,
          chr(31) || string_agg(DISTINCT lower(trim(cable_type)), chr(31) ORDER BY lower(trim(cable_type))) || chr(31) AS keys
        FROM ticket_items WHERE ticket_id BETWEEN ${lo} AND ${hi} GROUP BY ticket_id
      ) k ON k.ticket_id = t.id
      LEFT JOIN (
        SELECT ticket_id,
          min(created_at) FILTER (WHERE ${DECISION}) AS decided_at,
          (array_agg(actor_user_id ORDER BY id) FILTER (WHERE ${DECISION}))[1] AS decided_by_id,
          (array_agg(to_status ORDER BY id) FILTER (WHERE ${DECISION}))[1] AS decision,
          min(created_at) FILTER (WHERE event_type = 'status_changed' AND to_status = 'approved') AS approved_at,
          min(created_at) FILTER (WHERE event_type = 'status_changed' AND to_status = 'fulfilled') AS fulfilled_at,
          count(*) FILTER (WHERE event_type = 'reminded') AS reminders,
          count(*) FILTER (WHERE event_type = 'escalated') AS escalations
        FROM ticket_events WHERE ticket_id BETWEEN ${lo} AND ${hi} GROUP BY ticket_id
      ) e ON e.ticket_id = t.id
      WHERE t.id BETWEEN ${lo} AND ${hi}
      ON CONFLICT (ticket_id) DO NOTHING`);
  }
  await fillDailyConsumption(db);
}

/** PostgreSQL: report_daily_consumption from the whole ledger (replacing what it held). */
export async function fillDailyConsumption(db: Knex): Promise<void> {
  await db.raw('DELETE FROM report_daily_consumption');
  // Keyed by location as the trigger keys it: a movement without one counts under location 0.
  await db.raw(`INSERT INTO report_daily_consumption (day, location_id, sku_key, type_key, cable_type, cable_length, quantity)
    SELECT (created_at AT TIME ZONE 'UTC')::date, coalesce(location_id, 0), sku_key, min(lower(btrim(cable_type))), min(cable_type),
      min(cable_length), -sum(quantity_delta)
    FROM inventory_movements WHERE movement_type = 'consumption'
    GROUP BY 1, 2, sku_key`);
}
