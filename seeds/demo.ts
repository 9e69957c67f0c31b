import type { Logger } from 'pino';
import type { Config } from '../src/config.ts';
import { type Db, isPostgres, type Trx } from '../src/db/index.ts';
import { decideByLink } from '../src/features/approvals/service.ts';
import { parseBulkReceipt } from '../src/features/inventory/reel-schema.ts';
import { countReel, moveReel, receiveBulk, scrapReel } from '../src/features/inventory/reels.ts';
import { parseReceipt } from '../src/features/inventory/schema.ts';
import {
  adjustStock,
  receiveCable,
  setReorderRule,
  setReorderThreshold,
  transferStock,
} from '../src/features/inventory/service.ts';
import { createLocation, defaultLocation } from '../src/features/locations/service.ts';
import { parseSubmission } from '../src/features/optics/schema.ts';
import { actOnOpticsRequest, partNumbers, submitOpticsRequest } from '../src/features/optics/service.ts';
import { parseNewTicket } from '../src/features/tickets/schema.ts';
import { changeStatus, createTicket, deleteTicket, type Settings } from '../src/features/tickets/service.ts';
import { pathFromPending, type Status } from '../src/features/tickets/states.ts';
import { countUsers, findUserByUsername, type PublicUserRow } from '../src/features/users/queries.ts';
import { registerSchema } from '../src/features/users/schema.ts';
import { changeRole, registerUser } from '../src/features/users/service.ts';
import type { Principal } from '../src/http/context.ts';

/**
 * Demo data (`npm run seed`, or RUN_SEED_ON_START=true): three accounts, cable received into stock,
 * a request in every status, and optics requests. Everything goes through the feature services, so
 * audit events, status counters, the stock ledger and the outbox rows are exactly what real use
 * writes; nothing is inserted around them. One transaction: a seed that fails leaves nothing behind,
 * and the demo admin existing means the demo data is complete (that is how a second run knows).
 */

export interface DemoUser {
  username: string;
  email: string;
  phone: string;
  role: 'admin' | 'user';
  /** DEMO-ONLY fixed password, used when DEMO_PASSWORD is unset (refused in production). */
  demoPassword: string;
  who: string;
}

// example.com addresses and 555-01xx numbers are reserved for fiction: nothing real is ever contacted.
export const DEMO_USERS: readonly DemoUser[] = [
  {
    username: 'demo.admin',
    email: 'demo.admin@example.com',
    phone: '+12025550101',
    role: 'admin',
    demoPassword: 'demo-admin-pass',
    who: 'admin: users and roles, notification log, everything',
  },
  {
    username: 'demo.tech',
    email: 'demo.tech@example.com',
    phone: '+12025550102',
    role: 'user',
    demoPassword: 'demo-tech-pass',
    who: 'technician: files cable and optics requests',
  },
  {
    username: 'demo.stock',
    email: 'demo.stock@example.com',
    phone: '+12025550103',
    role: 'admin',
    demoPassword: 'demo-stock-pass',
    who: 'inventory person: approves requests, receives cable (inventory pages are for admins)',
  },
];
export const DEMO_ADMIN = 'demo.admin';

const RECEIPTS = [
  {
    vendor: 'Anixter',
    po_number: 'DEMO-1001',
    notes: 'Demo data: the quarterly order.',
    items: [
      { cable_type: 'Cat6', cable_length: '1000 ft', quantity: 8 },
      { cable_type: 'Cat6A', cable_length: '500 ft', quantity: 4 },
      { cable_type: 'OM4 LC-LC', cable_length: '3 m', quantity: 40 },
    ],
  },
  {
    vendor: 'Graybar',
    po_number: 'DEMO-1002',
    notes: 'Demo data: patch cables.',
    items: [
      { cable_type: 'Cat6', cable_length: '100 ft', quantity: 20 },
      { cable_type: 'Cat5e', cable_length: '50 ft', quantity: 12 },
      { cable_type: 'OS2 LC-LC', cable_length: '10 m', quantity: 10 },
    ],
  },
];

/**
 * Bulk cable on reels (DESIGN.md §13), next to the counted patch cords above: Cat6 on 1000 ft reels
 * (one is nearly used up), OM4 in metres. Labels print from /inventory/receiving/{id}/labels.
 */
const BULK = {
  vendor: 'Anixter',
  po_number: 'DEMO-1010',
  notes: 'Demo data: bulk reels, cut to length on the job.',
  lines: [
    {
      cable_type: 'Cat6',
      unit: 'ft',
      reels: [
        { length: '1000 ft', lot: 'CM-24-0711' },
        { length: '1000 ft', lot: 'CM-24-0711' },
        { length: '1000 ft', lot: 'CM-24-0802' },
      ],
    },
    {
      cable_type: 'OM4',
      unit: 'm',
      reels: [
        { length: '305 m', lot: 'FX-5520' },
        { length: '150 m', lot: 'FX-5521' },
      ],
    },
  ],
};

/** What the demo moves out of the warehouse: to each van and the site (ids known once they exist). */
const LOADS = (
  van1: number,
  van2: number,
  site: number,
): [number, { cable_type: string; cable_length: string; quantity: number }[]][] => [
  [
    van1,
    [
      { cable_type: 'OM4 LC-LC', cable_length: '3 m', quantity: 6 },
      { cable_type: 'Cat5e', cable_length: '50 ft', quantity: 3 },
    ],
  ],
  [van2, [{ cable_type: 'OM4 LC-LC', cable_length: '3 m', quantity: 4 }]],
  [site, [{ cable_type: 'Cat6A', cable_length: '500 ft', quantity: 1 }]],
];

interface DemoTicket {
  /** The status it ends in; `deleted` is a soft-deleted request (the archive). */
  status: Status | 'deleted';
  priority: 'low' | 'medium' | 'high' | 'urgent';
  location: string;
  notes: string;
  items: { cable_type: string; cable_length: string; quantity: number; cable_gauge?: string }[];
  reason?: string;
}

// Cat6 100 ft: 20 received, reorder point 18; the fulfilled request takes 3, so it shows as low stock.
const TICKETS: DemoTicket[] = [
  {
    status: 'pending_approval',
    priority: 'urgent',
    location: 'Building A, 2nd floor, room 214',
    notes: 'New office for the finance team: four desks.',
    items: [{ cable_type: 'Cat6', cable_length: '100 ft', quantity: 4 }],
  },
  {
    status: 'pending_approval',
    priority: 'low',
    location: 'Warehouse, dock 3',
    notes: 'Spare runs for the label printers.',
    items: [{ cable_type: 'Cat5e', cable_length: '50 ft', quantity: 2, cable_gauge: '24 AWG' }],
  },
  {
    status: 'approved',
    priority: 'high',
    location: 'Building B, IDF 1',
    notes: 'Uplinks for the new access switch.',
    items: [{ cable_type: 'OM4 LC-LC', cable_length: '3 m', quantity: 6 }],
  },
  {
    status: 'rejected',
    priority: 'medium',
    location: 'Building B, IDF 2',
    notes: 'Re-cabling the patch panel.',
    items: [{ cable_type: 'Cat6A', cable_length: '500 ft', quantity: 2 }],
    reason: 'Use the spare Cat6A already in IDF 2 first.',
  },
  {
    status: 'in_progress',
    priority: 'high',
    location: 'Building C, lobby kiosks',
    notes: 'Six kiosks, ceiling runs.',
    items: [{ cable_type: 'Cat6', cable_length: '100 ft', quantity: 6 }],
  },
  {
    status: 'fulfilled',
    priority: 'urgent',
    location: 'Server room, rack 12',
    notes: 'Replacing failed patching.',
    items: [
      { cable_type: 'Cat6', cable_length: '100 ft', quantity: 3 },
      { cable_type: 'OS2 LC-LC', cable_length: '10 m', quantity: 2 },
    ],
  },
  {
    status: 'closed',
    priority: 'medium',
    location: 'Conference room 3B',
    notes: 'Video bar and wall plate.',
    items: [{ cable_type: 'Cat6', cable_length: '1000 ft', quantity: 1 }],
  },
  {
    status: 'deleted',
    priority: 'low',
    location: 'Building A, 2nd floor, room 214',
    notes: 'Filed twice by mistake.',
    items: [{ cable_type: 'Cat6', cable_length: '100 ft', quantity: 4 }],
  },
];

const OPTICS: { part: string; other?: string; quantity: number; actions: ('approve' | 'deny' | 'archive')[]; note?: string }[] = [
  { part: 'SFP-10G-SR', quantity: 4, actions: [] },
  { part: 'QSFP-100G-SR4', quantity: 2, actions: ['approve'], note: 'Ordered from the usual distributor.' },
  { part: 'Other', other: 'CFP2-DCO-400G', quantity: 1, actions: ['deny'], note: 'Not supported on our switches.' },
  { part: 'SFP-1G-LX', quantity: 8, actions: ['approve', 'archive'], note: 'Delivered to IDF 1.' },
];

export interface DemoCredentials {
  username: string;
  password: string;
  role: string;
  who: string;
}

export type SeedResult =
  | {
      status: 'created';
      credentials: DemoCredentials[];
      /** A review link for the first pending request, as its email would carry it (shown once: only a hash is kept). */
      reviewUrl: string;
      counts: { tickets: number; receipts: number; opticsRequests: number };
    }
  | { status: 'present'; credentials: DemoCredentials[] };

/** Why the seed would not run: said in one sentence, nothing written. */
export class SeedRefused extends Error {
  override name = 'SeedRefused';
}

export interface SeedOptions {
  /** Add the demo data even though the database already has (non-demo) accounts. */
  force?: boolean;
}

type SeedConfig = Pick<
  Config,
  'appUrl' | 'approvalTokenTtlHours' | 'inventoryEnforceStock' | 'opticsAlertEmails' | 'demoPassword' | 'isProduction'
>;

function credentialsFor(config: SeedConfig): DemoCredentials[] {
  return DEMO_USERS.map((u) => ({
    username: u.username,
    password: config.demoPassword ?? u.demoPassword,
    role: u.role,
    who: u.who,
  }));
}

const principal = (u: PublicUserRow): Principal => ({ id: u.id, username: u.username, email: u.email, role: u.role });

/** Any fixed number will do: it only has to be the same in every process that seeds. */
const SEED_LOCK = 7_470_001;

export async function seedDemoData(db: Db, config: SeedConfig, logger: Logger, options: SeedOptions = {}): Promise<SeedResult> {
  if (config.isProduction && !config.demoPassword) {
    throw new SeedRefused(
      'NODE_ENV=production: set DEMO_PASSWORD (8+ characters) for the demo accounts; the fixed demo passwords are for local use only.',
    );
  }
  const credentials = credentialsFor(config);
  return db.transaction(async (trx) => {
    // Several replicas starting with RUN_SEED_ON_START at once: one seeds, the others then find it done.
    if (isPostgres(db)) await trx.raw('SELECT pg_advisory_xact_lock(?)', [SEED_LOCK]);
    if (await findUserByUsername(trx, DEMO_ADMIN)) return { status: 'present' as const, credentials };
    const existing = await countUsers(trx);
    if (existing > 0 && !options.force) {
      throw new SeedRefused(
        `The database already has ${existing} account(s) and no demo data: demo data belongs in a fresh database (npm run seed -- --force adds it anyway).`,
      );
    }
    const created = await seedInto(trx, config, logger, credentials);
    return { status: 'created' as const, credentials, ...created };
  });
}

async function seedInto(trx: Trx, config: SeedConfig, logger: Logger, credentials: DemoCredentials[]) {
  // Services take a Db; a transaction is one, and their own transactions become savepoints inside it.
  const db: Db = trx;
  const users: PublicUserRow[] = [];
  for (const [i, spec] of DEMO_USERS.entries()) {
    const input = registerSchema.parse({
      username: spec.username,
      email: spec.email,
      phone: spec.phone,
      password: credentials[i]?.password,
      role: spec.role,
    });
    // The first account on an empty database is made admin by registerUser itself; later ones get the
    // role they ask for because the demo admin is the caller.
    const caller = users[0] ? principal(users[0]) : undefined;
    let user = await registerUser(db, input, caller, logger);
    if (user.role !== spec.role) user = await changeRole(db, user.id, spec.role);
    users.push(user);
  }
  const [admin, tech, stock] = users.map(principal) as [Principal, Principal, Principal];

  for (const receipt of RECEIPTS) await receiveCable(db, stock, parseReceipt(receipt));
  await setReorderThreshold(db, { cable_type: 'Cat6', cable_length: '100 ft', reorder_threshold: 18 });
  await adjustStock(
    db,
    stock,
    { cable_type: 'Cat5e', cable_length: '50 ft', quantity: -2, reason: 'Cycle count: two boxes crushed in the warehouse.' },
    { appUrl: config.appUrl, enforceStock: config.inventoryEnforceStock },
  );

  // Where the stock is: the warehouse, two vans (demo.tech drives the first) and a site.
  const stockSettings = { appUrl: config.appUrl, enforceStock: config.inventoryEnforceStock };
  const main = await defaultLocation(db);
  const van1 = await createLocation(db, { name: 'Van 1 (demo.tech)', kind: 'van', holder_user_id: tech.id });
  const van2 = await createLocation(db, { name: 'Van 2', kind: 'van' });
  const site = await createLocation(db, { name: 'Site: Building C riser', kind: 'site' });
  for (const [to, items] of LOADS(van1.id, van2.id, site.id)) {
    await transferStock(
      db,
      stock,
      { from_location_id: main.id, to_location_id: to, notes: 'Demo data: loading up.', items },
      stockSettings,
    );
  }
  await setReorderRule(
    db,
    { location_id: van1.id, cable_type: 'OM4 LC-LC', cable_length: '3 m', min_quantity: 4, max_quantity: 10, pack_multiple: 2 },
    stockSettings,
  );

  // Bulk reels: one Cat6 reel rides in Van 1, one was counted nearly empty, a short OM4 offcut scrapped.
  const { codes } = await receiveBulk(db, stock, parseBulkReceipt(BULK), stockSettings);
  const [cat6a, , cat6c, , om4b] = codes as [string, string, string, string, string];
  await moveReel(db, stock, cat6a, { to_location_id: van1.id, notes: 'Demo data: for the Building A pulls.' }, stockSettings);
  await countReel(db, stock, cat6c, { remaining: '42 ft', reason: 'Demo data: measured after the lobby job.' }, stockSettings);
  await countReel(db, stock, om4b, { remaining: '2 m', reason: 'Demo data: what was left after the riser run.' }, stockSettings);
  await scrapReel(db, stock, om4b, { reason: 'Demo data: offcut too short for a run.' }, stockSettings);

  const settings: Settings = {
    appUrl: config.appUrl,
    approvalTokenTtlHours: config.approvalTokenTtlHours,
    inventoryEnforceStock: config.inventoryEnforceStock,
  };
  let reviewUrl = '';
  for (const spec of TICKETS) {
    const input = parseNewTicket({
      assigned_to_id: stock.id,
      priority: spec.priority,
      location: spec.location,
      notes: spec.notes,
      items: spec.items,
    });
    const ticket = await createTicket(db, tech, input, settings);
    if (spec.status === 'pending_approval' && !reviewUrl) reviewUrl = ticket.reviewUrl;
    if (spec.status === 'deleted') {
      await deleteTicket(db, tech, ticket.id);
      continue;
    }
    const path = pathFromPending(spec.status);
    if (spec.status === 'approved') {
      // Decided from the emailed link, as an approver who never signs in would: the audit says "via review link".
      const token = ticket.reviewUrl.slice(ticket.reviewUrl.lastIndexOf('/') + 1);
      await decideByLink(db, ticket.id, token, { decision: 'approved' }, settings);
      continue;
    }
    for (const status of path) {
      const reason = status === 'rejected' ? spec.reason : undefined;
      await changeStatus(db, status === 'closed' ? admin : stock, ticket.id, { status, reason }, settings);
    }
  }

  const parts = await partNumbers(db);
  const opticsSettings = { appUrl: config.appUrl, alertEmails: config.opticsAlertEmails };
  for (const spec of OPTICS) {
    const part = spec.part === 'Other' || parts.includes(spec.part) ? spec.part : 'Other';
    const submission = parseSubmission(
      {
        selected_part: part,
        other_part: part === 'Other' ? (spec.other ?? spec.part) : undefined,
        quantity: spec.quantity,
        requester_name: 'Sam Rivera (demo)',
      },
      parts,
    );
    const request = await submitOpticsRequest(db, tech, submission, opticsSettings);
    for (const action of spec.actions) await actOnOpticsRequest(db, stock, request.id, action, spec.note, opticsSettings);
  }

  logger.info(
    { users: users.length, tickets: TICKETS.length, receipts: RECEIPTS.length, optics: OPTICS.length },
    'demo data loaded',
  );
  return { reviewUrl, counts: { tickets: TICKETS.length, receipts: RECEIPTS.length, opticsRequests: OPTICS.length } };
}

/**
 * RUN_SEED_ON_START=true, from `main.ts` after the migrations: demo data is never worth failing a
 * start over, so a refusal or an error is logged and the app serves on.
 */
export async function seedOnStart(db: Db, config: SeedConfig, logger: Logger): Promise<void> {
  try {
    const result = await seedDemoData(db, config, logger);
    if (result.status === 'created') {
      logger.warn(
        { users: result.credentials.map((c) => c.username) },
        'RUN_SEED_ON_START: demo data loaded (demo accounts exist: do not leave this on in a real deployment)',
      );
    } else logger.info('RUN_SEED_ON_START: demo data already present');
  } catch (err) {
    if (err instanceof SeedRefused) logger.warn(`RUN_SEED_ON_START: not seeding. ${err.message}`);
    else logger.error({ err }, 'RUN_SEED_ON_START: loading demo data failed; nothing was written');
  }
}
