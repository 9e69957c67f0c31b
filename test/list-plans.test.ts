import test from 'ava';
import { isPostgres } from '../src/db/index.ts';
import { listTicketsQuery } from '../src/features/tickets/search.ts';
import { startApp, type TestApp } from './support/app.ts';
import { createUser } from './support/factories.ts';
import { insertTicketRows, ticketRow } from './support/tickets.ts';

/**
 * On PostgreSQL the app's lists are prepared statements, run on a generic plan after a few uses. A
 * person's or a status's list must be read from that person's or status's index newest first, not
 * from the primary key backwards with a filter: that plan reads every newer ticket of other people or
 * statuses first (at a million tickets, the whole table for a status whose requests are all old).
 * Here the newest half of the tickets are someone else's and another status, as after a busy day.
 */

let app: TestApp;
let amyId: number;

test.before(async () => {
  app = await startApp();
  amyId = (await createUser(app.db, { username: 'amy' })).id;
  const benId = (await createUser(app.db, { username: 'ben' })).id;
  const row = (who: number, status: string) => ticketRow({ createdBy: who, assignedTo: who, location: 'Dock', status });
  await insertTicketRows(app.db, [
    ...Array.from({ length: 3000 }, () => row(amyId, 'in_progress')),
    ...Array.from({ length: 3000 }, () => row(benId, 'pending_approval')),
  ]);
  if (isPostgres(app.db)) await app.db.raw('analyze tickets');
});

test.after.always(() => app?.close());

/** The generic plan's scans of tickets: index name, and whether rows were filtered after reading. */
async function genericScans(extra: object): Promise<string[]> {
  const f = { viewerId: amyId, filter: 'all' as const, includeDeleted: false, limit: 20, ...extra };
  const { sql, bindings } = listTicketsQuery(app.db, f).toSQL().toNative();
  return app.db.transaction(async (trx) => {
    await trx.raw('set local plan_cache_mode = force_generic_plan');
    await trx.raw(`prepare list_plan as ${sql}`);
    const values = bindings.map((v) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`));
    const { rows } = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
      `explain execute list_plan${values.length ? `(${values.join(', ')})` : ''}`,
    );
    await trx.raw('deallocate list_plan');
    const lines = rows.map((r) => r['QUERY PLAN']);
    return lines.filter((l) => / on tickets /.test(l)).map((l) => l.replace(/^[\s>-]+/, '').replace(/\s+\(cost.*$/, ''));
  });
}

for (const [name, extra, index] of [
  ['a status', { status: 'in_progress' }, 'tickets_status_id_index'],
  ['created by me', { filter: 'mine' }, 'tickets_live_created_by_id_id'],
  ['assigned to me', { filter: 'assigned' }, 'tickets_live_assigned_to_id_id'],
] as const) {
  test(`on PostgreSQL the generic plan of ${name} reads its own index newest first`, async (t) => {
    if (!isPostgres(app.db)) {
      t.pass('SQLite plans each statement as it comes');
      return;
    }
    const scans = await genericScans(extra);
    t.deepEqual(scans, [`Index Scan Backward using ${index} on tickets t`], scans.join('\n'));
  });
}
