import { type Db, isUniqueViolation, nowIso, type Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { conflict, notFound } from '../../http/errors.ts';
import { keysetPage } from '../../lib/keyset.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import { adminContacts } from '../users/service.ts';
import { emitEvent } from '../webhooks/service.ts';
import {
  addToStock,
  claimLowStockAlert,
  findMovement,
  findReceipt,
  insertMovements,
  insertReceipt,
  listMovements,
  listReceipts,
  listStock,
  type MovementFilter,
  type MovementRow,
  type NewMovement,
  type ReceiptItemRow,
  type ReceiptRow,
  receiptItemsFor,
  type StockRow,
  stockByKeys,
  upsertThreshold,
} from './queries.ts';
import type { AdjustmentInput, ReceiptInput, ThresholdInput } from './schema.ts';
import { skuKey, skuLabel } from './sku.ts';

/** What inventory needs from the app's configuration. */
export interface InventorySettings {
  /** Public address, for the link in low-stock emails. */
  appUrl: string;
  /** INVENTORY_ENFORCE_STOCK: refuse a fulfilment that would take a SKU below zero. */
  enforceStock?: boolean;
}

/** At most one low-stock alert per SKU in this window. */
export const LOW_STOCK_ALERT_WINDOW_MS = 24 * 3_600_000;

export const isShortfall = (s: Pick<StockRow, 'on_hand'>) => s.on_hand < 0;
export const isLowStock = (s: Pick<StockRow, 'on_hand' | 'reorder_threshold'>) =>
  s.reorder_threshold !== null && s.on_hand <= s.reorder_threshold;

// ---- the one way stock moves ----------------------------------------------------------------------

/** One line of a movement, before its SKU key is worked out. */
interface MoveLine {
  source_line: number;
  cable_type: string;
  cable_length: string;
  quantity_delta: number;
}

interface MoveSource {
  movement_type: NewMovement['movement_type'];
  source_type: NewMovement['source_type'];
  source_id: number | null;
  actor_user_id: number | null;
  notes: string | null;
}

/** What one SKU looked like after a set of movements. */
export interface StockChange {
  stock: StockRow;
  delta: number;
}

/**
 * Writes ledger rows and moves the stock table by the same amounts, inside the caller's transaction:
 * the ledger and stock can never disagree. SKUs are locked in key order so two transactions touching
 * the same SKUs cannot deadlock on PostgreSQL. A source line that already moved stock (the unique
 * key on source_type, source_id, source_line) is a 409 and the whole transaction rolls back.
 */
async function applyMovements(
  trx: Trx,
  source: MoveSource,
  lines: MoveLine[],
): Promise<{ movementIds: number[]; changes: StockChange[] }> {
  const now = nowIso();
  const rows: NewMovement[] = lines.map((line) => ({
    ...source,
    source_line: line.source_line,
    sku_key: skuKey(line.cable_type, line.cable_length),
    cable_type: line.cable_type,
    cable_length: line.cable_length,
    quantity_delta: line.quantity_delta,
    created_at: now,
  }));
  let movementIds: number[];
  try {
    movementIds = await insertMovements(trx, rows);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('This stock movement was already recorded; nothing was changed.');
    throw err;
  }
  const bySku = new Map<string, { sku_key: string; cable_type: string; cable_length: string; delta: number }>();
  for (const row of rows) {
    const seen = bySku.get(row.sku_key);
    if (seen) seen.delta += row.quantity_delta;
    else
      bySku.set(row.sku_key, {
        sku_key: row.sku_key,
        cable_type: row.cable_type,
        cable_length: row.cable_length,
        delta: row.quantity_delta,
      });
  }
  const changes: StockChange[] = [];
  for (const key of [...bySku.keys()].sort()) {
    const { delta, ...sku } = bySku.get(key) as { delta: number; sku_key: string; cable_type: string; cable_length: string };
    changes.push({ stock: await addToStock(trx, sku, delta, now), delta });
  }
  return { movementIds, changes };
}

/**
 * One email to every admin (and a stock.low webhook per SKU) when stock falls to or below a SKU's
 * reorder threshold, at most once per SKU per 24 hours (claimed by a conditional update in this
 * transaction, so racing movements send one).
 */
async function alertLowStock(trx: Trx, changes: StockChange[], appUrl: string): Promise<void> {
  const now = new Date();
  const cutoff = new Date(now.getTime() - LOW_STOCK_ALERT_WINDOW_MS).toISOString();
  const low: StockRow[] = [];
  for (const { stock, delta } of changes) {
    if (delta >= 0 || !isLowStock(stock)) continue;
    if (await claimLowStockAlert(trx, stock.sku_key, now.toISOString(), cutoff)) low.push(stock);
  }
  if (low.length === 0) return;
  for (const s of low) {
    const data = {
      cable_type: s.cable_type,
      cable_length: s.cable_length,
      on_hand: s.on_hand,
      reorder_threshold: s.reorder_threshold as number,
    };
    await emitEvent(trx, 'stock.low', data, now);
  }
  const admins = await adminContacts(trx);
  const skus = low.map((s) => ({ label: skuLabel(s), on_hand: s.on_hand, threshold: s.reorder_threshold }));
  const data = { skus, link: `${appUrl}/inventory` };
  await enqueue(
    trx,
    admins.map((admin) => ({
      notification_type: 'low_stock',
      recipient: { id: admin.id, email: admin.email, phone: admin.phone },
      ...email('low_stock', { ...data, admin: admin.username }),
    })),
  );
}

// ---- receiving, adjustments, thresholds ---------------------------------------------------------------

export interface ReceiptDetail {
  receipt: ReceiptRow;
  items: ReceiptItemRow[];
}

/** A delivery: the receipt, its items and one `receipt` movement per item, in one transaction. */
export async function receiveCable(db: Db, actor: Principal, input: ReceiptInput): Promise<ReceiptDetail> {
  const id = await db.transaction(async (trx) => {
    const receiptId = await insertReceipt(
      trx,
      {
        vendor: input.vendor,
        po_number: input.po_number ?? null,
        notes: input.notes ?? null,
        received_by_id: actor.id,
        now: nowIso(),
      },
      input.items,
    );
    await applyMovements(
      trx,
      {
        movement_type: 'receipt',
        source_type: 'cable_receiving',
        source_id: receiptId,
        actor_user_id: actor.id,
        notes: input.po_number ? `${input.vendor}, PO ${input.po_number}` : input.vendor,
      },
      input.items.map((item, position) => ({ source_line: position, ...item, quantity_delta: item.quantity })),
    );
    return receiptId;
  });
  return getReceipt(db, id);
}

export async function getReceipt(db: Db, id: number): Promise<ReceiptDetail> {
  const receipt = await findReceipt(db, id);
  if (!receipt) throw notFound('No receipt with that id.');
  return { receipt, items: await receiptItemsFor(db, [id]) };
}

/** A correction (cycle count, damage): one signed `adjustment` movement carrying the reason. */
export async function adjustStock(db: Db, actor: Principal, input: AdjustmentInput, settings: InventorySettings) {
  return db.transaction(async (trx) => {
    const { movementIds, changes } = await applyMovements(
      trx,
      {
        movement_type: 'adjustment',
        source_type: 'manual_adjustment',
        source_id: null,
        actor_user_id: actor.id,
        notes: input.reason,
      },
      [{ source_line: 0, cable_type: input.cable_type, cable_length: input.cable_length, quantity_delta: input.quantity }],
    );
    await alertLowStock(trx, changes, settings.appUrl);
    const movement = await findMovement(trx, movementIds[0] as number);
    return { movement: movement as MovementRow, stock: (changes[0] as StockChange).stock };
  });
}

export const setReorderThreshold = (db: Db, input: ThresholdInput): Promise<StockRow> =>
  upsertThreshold(
    db,
    { sku_key: skuKey(input.cable_type, input.cable_length), cable_type: input.cable_type, cable_length: input.cable_length },
    input.reorder_threshold,
    nowIso(),
  );

// ---- consumption on fulfilment --------------------------------------------------------------------

export interface ConsumedItem {
  position: number;
  cable_type: string;
  cable_length: string;
  quantity: number;
}

/**
 * The first move of a ticket to `fulfilled` takes its cable out of stock: one `consumption` movement
 * per item, in the caller's transaction (the status change). The unique key on the ledger makes a
 * second set for the same ticket impossible. With `enforceStock`, a SKU that would go below zero is
 * a 409 naming every short SKU; the throw rolls the status change back with it.
 */
export async function consumeForFulfilment(
  trx: Trx,
  ticket: { id: number; actorId: number },
  items: ConsumedItem[],
  settings: InventorySettings,
): Promise<void> {
  if (items.length === 0) return;
  const { changes } = await applyMovements(
    trx,
    {
      movement_type: 'consumption',
      source_type: 'ticket_fulfillment',
      source_id: ticket.id,
      actor_user_id: ticket.actorId,
      notes: `Request #${ticket.id} fulfilled`,
    },
    items.map((item) => ({
      source_line: item.position,
      cable_type: item.cable_type,
      cable_length: item.cable_length,
      quantity_delta: -item.quantity,
    })),
  );
  if (settings.enforceStock) {
    const short = changes.filter((c) => isShortfall(c.stock));
    if (short.length) {
      const list = short.map((c) => `${skuLabel(c.stock)} (needs ${-c.delta}, ${c.stock.on_hand - c.delta} on hand)`);
      throw conflict(`Not enough stock to fulfil this request: ${list.join('; ')}.`);
    }
  }
  await alertLowStock(trx, changes, settings.appUrl);
}

// ---- reading --------------------------------------------------------------------------------------

export const onHandList = (db: Db, includeZero: boolean) => listStock(db, { includeZero });

/** The stock page: every non-zero SKU, plus empty ones someone set a threshold for (unless all are asked). */
export const stockOverview = (db: Db, includeZero: boolean) => listStock(db, { includeZero, keepWatched: true });

export interface ItemStock {
  on_hand: number;
  /** The SKU's on-hand is below what this request asks for it (all its lines together). */
  short: boolean;
}

/** The current on-hand for each of a ticket's items, in one query (the ticket page shows it). */
export async function stockForItems(
  db: Db,
  items: { cable_type: string; cable_length: string; quantity: number }[],
): Promise<ItemStock[]> {
  const keys = items.map((i) => skuKey(i.cable_type, i.cable_length));
  const stock = new Map((await stockByKeys(db, keys)).map((s) => [s.sku_key, s.on_hand]));
  const wanted = new Map<string, number>();
  keys.forEach((k, i) => {
    wanted.set(k, (wanted.get(k) ?? 0) + (items[i]?.quantity ?? 0));
  });
  return keys.map((k) => {
    const onHand = stock.get(k) ?? 0;
    return { on_hand: onHand, short: onHand < (wanted.get(k) ?? 0) };
  });
}

/** One page of the ledger, newest first, and the cursor of the next page if there is one. */
export async function movementPage(db: Db, filter: MovementFilter): Promise<{ rows: MovementRow[]; nextCursor?: number }> {
  return keysetPage(await listMovements(db, { ...filter, limit: filter.limit + 1 }), filter.limit, (m) => m.id);
}

/** Every movement matching the filter, newest first, in batches: the CSV export streams these. */
export async function* allMovements(db: Db, filter: Omit<MovementFilter, 'limit' | 'cursor'>, batch = 1000) {
  let cursor: number | undefined;
  for (;;) {
    const rows = await listMovements(db, { ...filter, cursor, limit: batch });
    yield* rows;
    if (rows.length < batch) return;
    cursor = rows.at(-1)?.id;
  }
}

export async function receiptPage(db: Db, f: { cursor?: number; limit: number }) {
  const { rows: receipts, nextCursor } = keysetPage(
    await listReceipts(db, { cursor: f.cursor, limit: f.limit + 1 }),
    f.limit,
    (r) => r.id,
  );
  const items = await receiptItemsFor(
    db,
    receipts.map((r) => r.id),
  );
  const byReceipt = new Map<number, ReceiptItemRow[]>();
  for (const item of items) byReceipt.set(item.receipt_id, [...(byReceipt.get(item.receipt_id) ?? []), item]);
  return {
    receipts: receipts.map((receipt) => ({ receipt, items: byReceipt.get(receipt.id) ?? [] })),
    nextCursor,
  };
}
