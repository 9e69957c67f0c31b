import { type Db, nowIso, type Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { badRequest, conflict, notFound } from '../../http/errors.ts';
import { keysetPage } from '../../lib/keyset.ts';
import { formatLength } from '../../lib/length.ts';
import type { ReorderRuleInput, TransferInput } from '../locations/schema.ts';
import { type LocationRow, locationsWithIds, usableLocation } from '../locations/service.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import { adminContacts } from '../users/service.ts';
import { emitEvent } from '../webhooks/service.ts';
import { cutsOfItems } from './cut-queries.ts';
import { applyMovements, changeStock, type StockChange, type StockDelta, skuOf } from './engine.ts';
import {
  type CutChoice,
  cutLinesOf,
  type LineCut,
  type LineToFill,
  type PlannedReservation,
  planCutLines,
  reservationPlan,
} from './fulfilment.ts';
import {
  claimLowStockAlert,
  findMovement,
  findReceipt,
  insertReceipt,
  listMovements,
  listReceipts,
  listStock,
  type MovementFilter,
  type MovementRow,
  type ReceiptItemRow,
  type ReceiptRow,
  receiptItemsFor,
  type StockRow,
  stockByKeys,
  upsertThreshold,
} from './queries.ts';
import { reviewReorder } from './reorder.ts';
import type { AdjustmentInput, ReceiptInput, ThresholdInput } from './schema.ts';
import { skuKey, skuLabel } from './sku.ts';
import {
  closeReservations,
  findSuggestion,
  findTransfer,
  finishSuggestion,
  insertReservations,
  insertTransfer,
  type LocationStockRow,
  listLocationStock,
  listRules,
  listSuggestions,
  locationStockByKeys,
  type RuleRow,
  recentTransfers,
  type SuggestionRow,
  type TransferRow,
  transferLines,
  upsertRule,
} from './stock-queries.ts';

export type { CutProposal, LineCutFromReels, MadeCut, Offcut } from './cutting.ts';
export { cutsAndOffcuts, cutsForItems, cutsPending, fulfilmentPlan, keepOffcutOf } from './cutting.ts';
export type { StockChange } from './engine.ts';
export type { CutChoice, LineCut } from './fulfilment.ts';
export { suggestedQuantity } from './reorder.ts';
export type { LocationStockRow, RuleRow, SuggestionRow, TransferRow } from './stock-queries.ts';

/** What inventory needs from the app's configuration. */
export interface InventorySettings {
  /** Public address, for the link in low-stock emails. */
  appUrl: string;
  /**
   * INVENTORY_ENFORCE_STOCK: refuse an approval, transfer, fulfilment or adjustment that would take
   * what is available at a location (on hand less reserved) below zero.
   */
  enforceStock?: boolean;
}

/** After a change: the low-stock alert on totals, reorder rules per location. */
async function afterChange(
  trx: Trx,
  outcome: { changes: StockChange[]; located: LocationStockRow[] },
  settings?: InventorySettings,
) {
  await alertLowStock(trx, outcome.changes, settings?.appUrl ?? '');
  await reviewReorder(trx, outcome.located, settings?.appUrl ?? '');
}

/** At most one low-stock alert per SKU in this window. */
export const LOW_STOCK_ALERT_WINDOW_MS = 24 * 3_600_000;

export const isShortfall = (s: Pick<StockRow, 'on_hand'>) => s.on_hand < 0;
export const isLowStock = (s: Pick<StockRow, 'on_hand' | 'reorder_threshold'>) =>
  s.reorder_threshold !== null && s.on_hand <= s.reorder_threshold;

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
export async function receiveCable(
  db: Db,
  actor: Principal,
  input: ReceiptInput,
  settings?: InventorySettings,
): Promise<ReceiptDetail> {
  const id = await db.transaction(async (trx) => {
    const location = await usableLocation(trx, input.location_id, 'location_id');
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
    const outcome = await applyMovements(
      trx,
      {
        movement_type: 'receipt',
        source_type: 'cable_receiving',
        source_id: receiptId,
        actor_user_id: actor.id,
        notes: input.po_number ? `${input.vendor}, PO ${input.po_number}` : input.vendor,
      },
      input.items.map((item, position) => ({
        source_line: position,
        location_id: location.id,
        cable_type: item.cable_type,
        cable_length: item.cable_length,
        quantity_delta: item.quantity,
      })),
      { enforce: false, purpose: 'receive' },
    );
    await reviewReorder(trx, outcome.located, settings?.appUrl ?? '');
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
    const location = await usableLocation(trx, input.location_id, 'location_id');
    const outcome = await applyMovements(
      trx,
      {
        movement_type: 'adjustment',
        source_type: 'manual_adjustment',
        source_id: null,
        actor_user_id: actor.id,
        notes: input.reason,
      },
      [
        {
          source_line: 0,
          location_id: location.id,
          cable_type: input.cable_type,
          cable_length: input.cable_length,
          quantity_delta: input.quantity,
        },
      ],
      { enforce: settings.enforceStock ?? false, purpose: 'take this out' },
    );
    await afterChange(trx, outcome, settings);
    const movement = await findMovement(trx, outcome.movementIds[0] as number);
    return {
      movement: movement as MovementRow,
      stock: (outcome.changes[0] as StockChange).stock,
      at: outcome.located[0] as LocationStockRow,
      location,
    };
  });
}

export const setReorderThreshold = (db: Db, input: ThresholdInput): Promise<StockRow> =>
  upsertThreshold(
    db,
    { sku_key: skuKey(input.cable_type, input.cable_length), cable_type: input.cable_type, cable_length: input.cable_length },
    input.reorder_threshold,
    nowIso(),
  );

// ---- requests: reservations and consumption --------------------------------------------------------

/** A request line as approval and fulfilment take it (fulfilment.ts). */
export type ConsumedItem = LineToFill;

const locationName = async (trx: Db | Trx, id: number) => (await locationsWithIds(trx, [id]))[0]?.name ?? `location ${id}`;

/**
 * An approval reserves each line at the request's source, in the decision's transaction: counted
 * pieces, or length of the bulk SKU for what will be cut from reels (fulfilment.ts reservationPlan).
 * With `enforceStock`, a line past what is available there is a 409 naming the SKU and the location (a
 * conditional update, so of two approvals racing for the last pieces one wins); bulk cable is named
 * in its unit first.
 */
export async function reserveForTicket(
  trx: Trx,
  ticket: { id: number; locationId: number },
  items: ConsumedItem[],
  settings: InventorySettings,
): Promise<void> {
  const lines = items.filter((i) => i.quantity > 0);
  if (lines.length === 0) return;
  const now = nowIso();
  const plan = await reservationPlan(trx, ticket.locationId, lines);
  if (settings.enforceStock) await refuseShortLength(trx, ticket.locationId, plan);
  const outcome = await changeStock(
    trx,
    plan.map((r) => ({ location_id: ticket.locationId, sku: r.sku, onHand: 0, reserved: r.quantity })),
    settings.enforceStock ?? false,
    'approve this request',
  );
  await insertReservations(
    trx,
    plan.map((r) => ({
      ticket_id: ticket.id,
      source_line: r.source_line,
      location_id: ticket.locationId,
      ...r.sku,
      quantity: r.quantity,
      kind: r.kind,
      pieces: r.pieces,
      piece_mm: r.piece_mm,
    })),
    now,
  );
  await reviewReorder(trx, outcome.located, settings.appUrl);
}

/**
 * 409 in the bulk SKU's unit when the length a request would reserve is past what is available there
 * (the plan read it with the stock of the request's types).
 */
async function refuseShortLength(trx: Trx, locationId: number, plan: PlannedReservation[]) {
  const wanted = new Map<string, { r: PlannedReservation; mm: number }>();
  for (const r of plan.filter((p) => p.kind === 'length')) {
    const seen = wanted.get(r.sku.sku_key) ?? { r, mm: 0 };
    seen.mm += r.quantity;
    wanted.set(r.sku.sku_key, seen);
  }
  const short = [...wanted.values()].filter(({ r, mm }) => (r.bulk?.available_mm ?? 0) < mm);
  if (short.length === 0) return;
  const where = await locationName(trx, locationId);
  const lines = short.map(({ r, mm }) => {
    const unit = r.bulk?.unit ?? 'ft';
    const available = r.bulk?.available_mm ?? 0;
    return `${r.sku.cable_type} on reels at ${where} (needs ${formatLength(mm, unit)}, ${available > 0 ? formatLength(available, unit) : 'nothing'} available)`;
  });
  throw conflict(`Not enough stock to approve this request: ${lines.join('; ')}.`);
}

/** Rejection, deletion, closing and purge give back what a request held (nothing when it held nothing). */
export async function releaseForTicket(trx: Trx, ticketId: number, settings: InventorySettings): Promise<void> {
  const closed = await closeReservations(trx, ticketId, 'released', nowIso());
  if (closed.length === 0) return;
  const outcome = await changeStock(
    trx,
    closed.map((r) => ({
      location_id: r.location_id,
      sku: { sku_key: r.sku_key, cable_type: r.cable_type, cable_length: r.cable_length },
      onHand: 0,
      reserved: -r.quantity,
    })),
    false,
    'release',
  );
  await reviewReorder(trx, outcome.located, settings.appUrl);
}

/**
 * The first move of a ticket to `fulfilled` takes its cable out of stock at its source, following what
 * the approval reserved, in the caller's transaction (the status change): one `consumption` movement
 * per counted line (as reserved, or as asked when nothing was), one `cut` movement per piece reserved
 * as length, each on one reel (the person's `cuts` choices, best fit for the rest: fulfilment.ts), and
 * the release of the reservations. The reels are locked before any stock row, so the plan holds. The
 * ledger's unique keys make a second set for the same ticket, or a second cut of a piece, impossible.
 * With `enforceStock`, taking more than was reserved past what is available is a 409 naming each
 * short SKU; every throw rolls the status change back with it. Returns the cuts made.
 */
export async function consumeForFulfilment(
  trx: Trx,
  ticket: { id: number; actorId: number; locationId: number },
  items: ConsumedItem[],
  settings: InventorySettings,
  choices: CutChoice[] = [],
): Promise<LineCut[]> {
  const held = await closeReservations(trx, ticket.id, 'consumed', nowIso());
  const release: StockDelta[] = held.map((r) => ({
    location_id: r.location_id,
    sku: { sku_key: r.sku_key, cable_type: r.cable_type, cable_length: r.cable_length },
    onHand: 0,
    reserved: -r.quantity,
  }));
  const cutLines = await cutLinesOf(trx, held, items);
  // Nothing held but cuts on record: this request was fulfilled before (a restored one); cut nothing twice.
  if (
    held.length === 0 &&
    (
      await cutsOfItems(
        trx,
        items.flatMap((i) => (i.id ? [i.id] : [])),
      )
    ).length
  )
    throw conflict('This stock movement was already recorded; nothing was changed.');
  if (choices.length && cutLines.length === 0)
    throw badRequest('cuts: this request has nothing to cut from reels.', { cuts: 'this request has nothing to cut from reels' });
  const source = cutLines.length ? { id: ticket.locationId, name: await locationName(trx, ticket.locationId) } : undefined;
  const cuts = source ? await planCutLines(trx, source, cutLines, choices, true) : [];
  const counted = items.flatMap((item) => {
    const rows = held.filter((r) => r.source_line === item.position);
    if (rows.length === 0)
      return [
        {
          location_id: ticket.locationId,
          cable_type: item.cable_type,
          cable_length: item.cable_length,
          quantity: item.quantity,
          item,
        },
      ];
    return rows
      .filter((r) => r.kind === 'pieces')
      .map((r) => ({
        location_id: r.location_id,
        cable_type: r.cable_type,
        cable_length: r.cable_length,
        quantity: r.quantity,
        item,
      }));
  });
  if (counted.length === 0) {
    if (release.length) await afterChange(trx, await changeStock(trx, release, false, 'release'), settings);
  } else {
    const outcome = await applyMovements(
      trx,
      {
        movement_type: 'consumption',
        source_type: 'ticket_fulfillment',
        source_id: ticket.id,
        actor_user_id: ticket.actorId,
        notes: `Request #${ticket.id} fulfilled`,
      },
      counted.map((c) => ({
        source_line: c.item.position,
        location_id: c.location_id,
        cable_type: c.cable_type,
        cable_length: c.cable_length,
        quantity_delta: -c.quantity,
      })),
      { enforce: settings.enforceStock ?? false, purpose: 'fulfil this request', reservedChanges: release },
    );
    await afterChange(trx, outcome, settings);
  }
  for (const line of cutLines) {
    const mine = cuts.filter((c) => c.item_id === line.item_id);
    const outcome = await applyMovements(
      trx,
      {
        movement_type: 'cut',
        source_type: 'ticket_cut',
        source_id: line.item_id,
        actor_user_id: ticket.actorId,
        notes: `Request #${ticket.id}: ${line.cable_type} ${line.cable_length}`,
      },
      mine.map((c) => ({
        source_line: c.piece,
        location_id: ticket.locationId,
        cable_type: line.sku.cable_type,
        cable_length: line.sku.cable_length,
        quantity_delta: -c.mm,
        reel_id: c.reel.id,
      })),
      { enforce: settings.enforceStock ?? false, purpose: 'fulfil this request' },
    );
    await afterChange(trx, outcome, settings);
  }
  return cuts;
}

// ---- transfers ------------------------------------------------------------------------------------

export interface TransferDetail {
  transfer: TransferRow;
  from: LocationRow;
  to: LocationRow;
  items: { cable_type: string; cable_length: string; quantity: number }[];
}

/**
 * Moves stock between two locations: the transfer and a `transfer_out` / `transfer_in` movement per
 * item, in one transaction. To the same location is a 400; an unknown location a 400 naming the
 * field, an inactive one a 409; with `enforceStock`, past what is available at the source a 409.
 */
export async function transferStock(
  db: Db,
  actor: Principal,
  input: TransferInput,
  settings: InventorySettings,
  fromSuggestion?: number,
): Promise<TransferDetail> {
  if (input.from_location_id === input.to_location_id) {
    throw badRequest('to_location_id: must differ from the location the stock leaves', {
      to_location_id: 'must differ from the location the stock leaves',
    });
  }
  const id = await db.transaction(async (trx) => {
    const from = await usableLocation(trx, input.from_location_id, 'from_location_id');
    const to = await usableLocation(trx, input.to_location_id, 'to_location_id');
    const transferId = await insertTransfer(trx, {
      from_location_id: from.id,
      to_location_id: to.id,
      notes: input.notes ?? null,
      created_by_id: actor.id,
      created_at: nowIso(),
    });
    const outcome = await applyMovements(
      trx,
      {
        movement_type: 'transfer_out',
        source_type: 'stock_transfer',
        source_id: transferId,
        actor_user_id: actor.id,
        notes: input.notes ? `${from.name} → ${to.name}: ${input.notes}` : `${from.name} → ${to.name}`,
      },
      input.items
        .flatMap((item, n) => [
          {
            source_line: 2 * n,
            location_id: from.id,
            ...item,
            quantity_delta: -item.quantity,
            movement_type: 'transfer_out' as const,
          },
          {
            source_line: 2 * n + 1,
            location_id: to.id,
            ...item,
            quantity_delta: item.quantity,
            movement_type: 'transfer_in' as const,
          },
        ])
        .map(({ quantity: _q, ...line }) => line),
      { enforce: settings.enforceStock ?? false, purpose: 'transfer' },
    );
    if (fromSuggestion !== undefined && !(await finishSuggestion(trx, fromSuggestion, transferId, nowIso())))
      throw conflict('This suggestion was already acted on or closed.');
    await afterChange(trx, outcome, settings);
    return transferId;
  });
  return getTransfer(db, id);
}

export async function getTransfer(db: Db, id: number): Promise<TransferDetail> {
  const transfer = await findTransfer(db, id);
  if (!transfer) throw notFound('No transfer with that id.');
  return (await detailsOf(db, [transfer]))[0] as TransferDetail;
}

async function detailsOf(db: Db, transfers: TransferRow[]): Promise<TransferDetail[]> {
  const places = new Map(
    (
      await locationsWithIds(
        db,
        transfers.flatMap((t) => [t.from_location_id, t.to_location_id]),
      )
    ).map((l) => [l.id, l]),
  );
  const lines = await transferLines(
    db,
    transfers.map((t) => t.id),
  );
  return transfers.map((transfer) => ({
    transfer,
    from: places.get(Number(transfer.from_location_id)) as LocationRow,
    to: places.get(Number(transfer.to_location_id)) as LocationRow,
    items: lines
      .filter((l) => Number(l.source_id) === Number(transfer.id))
      .map((l) => ({ cable_type: l.cable_type, cable_length: l.cable_length, quantity: Number(l.quantity_delta) })),
  }));
}

export const latestTransfers = async (db: Db, limit = 20) => detailsOf(db, await recentTransfers(db, limit));

// ---- reorder rules and suggestions ------------------------------------------------------------------

/** Sets a (location, SKU)'s rule and looks at the pair at once: a suggestion may open or close. */
export async function setReorderRule(db: Db, input: ReorderRuleInput, settings: InventorySettings): Promise<RuleRow> {
  return db.transaction(async (trx) => {
    const location = await usableLocation(trx, input.location_id, 'location_id');
    const sku = skuOf(input.cable_type, input.cable_length);
    const rule: RuleRow = {
      location_id: location.id,
      ...sku,
      min_quantity: input.min_quantity,
      max_quantity: input.max_quantity,
      pack_multiple: input.pack_multiple ?? null,
    };
    await upsertRule(trx, rule, nowIso());
    // Touch the pair (a zero change) to read it as stored and let the rule act on it.
    const outcome = await changeStock(trx, [{ location_id: location.id, sku, onHand: 0, reserved: 0 }], false, 'read');
    const [row] = outcome.located.length ? outcome.located : await locationStockByKeys(trx, location.id, [sku.sku_key]);
    await reviewReorder(
      trx,
      [row ?? { location_id: location.id, ...sku, on_hand: 0, reserved: 0, created_at: nowIso(), updated_at: nowIso() }],
      settings.appUrl,
    );
    return rule;
  });
}

export const reorderRules = (db: Db, locationId?: number) => listRules(db, locationId);

export const reorderSuggestions = (db: Db, f: { status?: string; locationId?: number; limit?: number } = {}) =>
  listSuggestions(db, { ...f, limit: f.limit ?? 200 });

/** One click: a transfer suggestion becomes the transfer it suggests (409 when no longer open). */
export async function acceptSuggestion(db: Db, actor: Principal, id: number, settings: InventorySettings) {
  const s: SuggestionRow | undefined = await findSuggestion(db, id);
  if (!s) throw notFound('No suggestion with that id.');
  if (s.status !== 'open') throw conflict('This suggestion was already acted on or closed.');
  if (s.kind !== 'transfer' || !s.from_location_id) throw conflict('A purchase suggestion is done by receiving the cable.');
  return transferStock(
    db,
    actor,
    {
      from_location_id: s.from_location_id,
      to_location_id: s.location_id,
      notes: `Reorder suggestion #${s.id}`,
      items: [{ cable_type: s.cable_type, cable_length: s.cable_length, quantity: s.quantity }],
    },
    settings,
    s.id,
  );
}

// ---- reading --------------------------------------------------------------------------------------

export const onHandList = (db: Db, includeZero: boolean) => listStock(db, { includeZero });

/** On hand, reserved and available for one location (a row per SKU there), O(rows returned). */
export const onHandAt = (db: Db, locationId: number, includeZero: boolean) => listLocationStock(db, locationId, includeZero);

/** The stock page: every non-zero SKU, plus empty ones someone set a threshold for (unless all are asked). */
export const stockOverview = (db: Db, includeZero: boolean) => listStock(db, { includeZero, keepWatched: true });

export interface ItemStock {
  on_hand: number;
  reserved: number;
  available: number;
  /** Where these figures are: the request's source. */
  location?: string;
  /** What is available at the source is below what this request asks for it (all its lines together). */
  short: boolean;
}

/**
 * On hand, reserved and available at the request's source for each of its items, in one query (the
 * ticket page shows it). `held` is what this request itself reserves there: it is not short of that.
 */
export async function stockForItems(
  db: Db,
  location: { id: number; name: string } | undefined,
  items: { cable_type: string; cable_length: string; quantity: number }[],
  held = false,
): Promise<ItemStock[]> {
  const keys = items.map((i) => skuKey(i.cable_type, i.cable_length));
  const stock = new Map<string, { on_hand: number; reserved: number }>(
    location
      ? (await locationStockByKeys(db, location.id, keys)).map((s) => [s.sku_key, s] as const)
      : (await stockByKeys(db, keys)).map((s) => [s.sku_key, s] as const),
  );
  const wanted = new Map<string, number>();
  keys.forEach((k, i) => {
    wanted.set(k, (wanted.get(k) ?? 0) + (items[i]?.quantity ?? 0));
  });
  return keys.map((k) => {
    const row = stock.get(k);
    const onHand = row?.on_hand ?? 0;
    const reserved = row?.reserved ?? 0;
    const available = onHand - reserved;
    return {
      on_hand: onHand,
      reserved,
      available,
      location: location?.name,
      short: (held ? onHand : available) < (wanted.get(k) ?? 0),
    };
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
