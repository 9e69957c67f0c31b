import type { Readable } from 'node:stream';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { formItems, handleForm, respondItemRow, rowEdit } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { pageHref } from '../../http/links.ts';
import { respond } from '../../http/respond.ts';
import { type Body, bodyOf, parseWith, validBody, validQuery } from '../../http/validate.ts';
import { csvStream } from '../../lib/csv.ts';
import { formatLength } from '../../lib/length.ts';
import { idParam } from '../../lib/schema.ts';
import { allLocations, getLocation } from '../locations/service.ts';
import { canManageInventory, requireInventoryAdmin } from './policy.ts';
import {
  BULK_LENGTH_LABEL,
  presentLedgerLine,
  presentMovement,
  presentOnHand,
  presentReceipt,
  presentStock,
  stockNumber,
} from './presenter.ts';
import { reelsOfReceipts } from './reel-queries.ts';
import {
  adjustmentSchema,
  MOVEMENT_TYPES,
  type MovementsQuery,
  movementsQuerySchema,
  onHandQuerySchema,
  parseReceipt,
  receiptsQuerySchema,
  SOURCE_TYPES,
  thresholdSchema,
} from './schema.ts';
import {
  adjustStock,
  allMovements,
  getReceipt,
  type InventorySettings,
  movementPage,
  onHandAt,
  onHandList,
  receiptPage,
  receiveCable,
  setReorderThreshold,
  stockOverview,
} from './service.ts';
import { skuKey } from './sku.ts';

/** The query string of a ledger view: only the filters set, so links stay short. */
const ledgerQuery = (q: MovementsQuery, cursor?: number): string =>
  pageHref('', {
    movement_type: q.movement_type,
    source_type: q.source_type,
    source_id: q.source_id,
    location_id: q.location_id,
    limit: q.limit,
    cursor,
  });

/** `attachment` with a dated file name: the browser saves the CSV instead of showing it. */
function sendCsv(ctx: Context, name: string, body: Readable) {
  ctx.set('Content-Disposition', `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.csv"`);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/csv; charset=utf-8';
  ctx.body = body;
}

/** The adjustment form asks for a direction and a whole number; "take out" 3 is -3. */
function signedFromForm(body: Body): unknown {
  const raw = typeof body.quantity === 'string' ? body.quantity.trim() : body.quantity;
  return body.direction === 'out' && typeof raw === 'string' && /^\d+$/.test(raw) ? `-${raw}` : raw;
}

const LEDGER_PAGE = 50;
const RECEIPTS_PAGE = 20;

export function inventoryRoutes(deps: Deps): Router {
  const { db, config } = deps;
  const settings: InventorySettings = {
    appUrl: config.appUrl,
    enforceStock: config.inventoryEnforceStock,
  };
  const router = new Router();

  // ---- on hand --------------------------------------------------------------------------------

  /** Totals across locations, or one location's rows (404 when there is no such location). */
  const onHandRows = async (includeZero: boolean, locationId?: number) => {
    if (locationId === undefined) return onHandList(db, includeZero);
    const location = await getLocation(db, locationId);
    return onHandAt(db, location.id, includeZero);
  };

  router.get('/api/inventory/on-hand', async (ctx) => {
    requireUser(ctx);
    const { include_zero, location_id } = validQuery(ctx, onHandQuerySchema);
    respond(ctx, { json: (await onHandRows(include_zero, location_id)).map((s) => presentOnHand(s)) });
  });

  const stockPageData = async (ctx: Context, includeZero: boolean, locationId?: number) => {
    const viewer = requireUser(ctx);
    const stock = (await stockOverview(db, includeZero)).map((s) => {
      const onHand = presentOnHand(s);
      return {
        ...presentStock(s),
        reserved: s.reserved,
        available: s.on_hand - s.reserved,
        unit: onHand.unit,
        display: onHand.display,
        key: skuKey(s.cable_type, s.cable_length),
      };
    });
    const locations = await allLocations(db);
    const location = locationId === undefined ? undefined : locations.find((l) => l.id === locationId);
    if (locationId !== undefined && !location) await getLocation(db, locationId);
    const atLocation = location ? (await onHandAt(db, location.id, includeZero)).map((s) => presentOnHand(s)) : undefined;
    // A technician who holds a van sees its stock first.
    const vans = location ? [] : locations.filter((l) => l.kind === 'van' && l.active && l.holder_user_id === viewer.id);
    const myVans = await Promise.all(
      vans.map(async (van) => ({
        id: van.id,
        name: van.name,
        rows: (await onHandAt(db, van.id, false)).map((s) => presentOnHand(s)),
      })),
    );
    return {
      stock,
      includeZero,
      canManage: canManageInventory(viewer),
      shortfalls: stock.filter((s) => s.shortfall).length,
      lows: stock.filter((s) => s.low_stock && !s.shortfall).length,
      locations: locations.map((l) => ({ id: l.id, name: l.name, kind: l.kind, active: l.active })),
      location: location ? { id: location.id, name: location.name, kind: location.kind } : undefined,
      atLocation,
      myVans,
      values: {},
      errors: {},
    };
  };

  router.get('/inventory', async (ctx) => {
    const { include_zero, location_id } = validQuery(ctx, onHandQuerySchema);
    const data = await stockPageData(ctx, include_zero, location_id);
    respond(ctx, { page: 'inventory/page', title: 'Inventory', data, json: data.atLocation ?? data.stock });
  });

  router.get('/inventory/on-hand.csv', async (ctx) => {
    requireUser(ctx);
    const { include_zero, location_id } = validQuery(ctx, onHandQuerySchema);
    if (location_id !== undefined) {
      const location = await getLocation(db, location_id);
      const rows = await onHandAt(db, location.id, include_zero);
      sendCsv(
        ctx,
        'on-hand',
        csvStream(['location', 'cable_type', 'cable_length', 'on_hand', 'reserved', 'available', 'unit'], rows, (s) => {
          const unit = s.bulk_unit ?? 'each';
          return [
            location.name,
            s.cable_type,
            unit === 'each' ? s.cable_length : BULK_LENGTH_LABEL,
            stockNumber(s.on_hand, unit),
            stockNumber(s.reserved, unit),
            stockNumber(s.on_hand - s.reserved, unit),
            unit,
          ];
        }),
      );
      return;
    }
    const rows = await onHandList(db, include_zero);
    sendCsv(
      ctx,
      'on-hand',
      csvStream(['cable_type', 'cable_length', 'on_hand', 'reorder_threshold', 'reserved', 'available', 'unit'], rows, (s) => {
        // Bulk rows: the length column says "on reels" and the figures are numbers in the SKU's unit.
        const unit = s.bulk_unit ?? 'each';
        return [
          s.cable_type,
          unit === 'each' ? s.cable_length : BULK_LENGTH_LABEL,
          stockNumber(s.on_hand, unit),
          s.reorder_threshold === null ? null : stockNumber(s.reorder_threshold, unit),
          stockNumber(s.reserved, unit),
          stockNumber(s.on_hand - s.reserved, unit),
          unit,
        ];
      }),
    );
  });

  // ---- thresholds -------------------------------------------------------------------------------

  router.patch('/api/inventory/stock/threshold', async (ctx) => {
    requireInventoryAdmin(ctx);
    const input = validBody(ctx, thresholdSchema);
    const stock = await setReorderThreshold(db, input);
    respond(ctx, { json: { message: 'Reorder threshold saved', stock: presentStock(stock) } });
  });

  router.post('/inventory/threshold', async (ctx) => {
    requireInventoryAdmin(ctx);
    const body = bodyOf(ctx);
    const failed = typeof body.cable_type === 'string' ? skuKey(body.cable_type, String(body.cable_length ?? '')) : undefined;
    const data = async () => ({ ...(await stockPageData(ctx, false)), failedKey: failed });
    await handleForm(ctx, { page: 'inventory/page', title: 'Inventory', data }, async () => {
      const input = parseWith(thresholdSchema, body);
      await setReorderThreshold(db, input);
      const what = `${input.cable_type} ${input.cable_length}`;
      respond(ctx, {
        redirect: '/inventory',
        flash: {
          kind: 'success',
          message:
            input.reorder_threshold === null
              ? `Reorder threshold for ${what} cleared.`
              : `Reorder threshold for ${what} set to ${input.reorder_threshold}.`,
        },
      });
    });
  });

  // ---- receiving --------------------------------------------------------------------------------

  router.post('/api/cable-receiving', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const { receipt, items } = await receiveCable(db, actor, parseReceipt(bodyOf(ctx)), settings);
    ctx.log.info({ receiptId: receipt.id, userId: actor.id, items: items.length }, 'cable received');
    ctx.set('Location', `/api/cable-receiving/${receipt.id}`);
    respond(ctx, { status: 201, json: { message: 'Cable received', receipt: presentReceipt(receipt, items) } });
  });

  router.get('/api/cable-receiving', async (ctx) => {
    requireInventoryAdmin(ctx);
    const q = validQuery(ctx, receiptsQuerySchema);
    const limit = q.limit ?? 50;
    const page = await receiptPage(db, { cursor: q.cursor, limit });
    if (page.nextCursor) {
      ctx.set(
        'Link',
        `</api/cable-receiving?${new URLSearchParams({ limit: String(limit), cursor: String(page.nextCursor) })}>; rel="next"`,
      );
    }
    respond(ctx, { json: page.receipts.map(({ receipt, items }) => presentReceipt(receipt, items)) });
  });

  router.get('/api/cable-receiving/:id', async (ctx) => {
    requireInventoryAdmin(ctx);
    const { receipt, items } = await getReceipt(db, parseWith(idParam, ctx.params).id);
    respond(ctx, { json: presentReceipt(receipt, items) });
  });

  const receivingData = async (ctx: Context, body: Body = {}, extra = 0, remove?: number) => {
    const q = validQuery(ctx, receiptsQuerySchema);
    const page = await receiptPage(db, { cursor: q.cursor, limit: RECEIPTS_PAGE });
    const locations = await allLocations(db, false);
    // Bulk receipts list their reels (and a link to print the labels) instead of counted items.
    const reels = new Map<number, Awaited<ReturnType<typeof reelsOfReceipts>>>();
    for (const r of await reelsOfReceipts(
      db,
      page.receipts.map(({ receipt }) => receipt.id),
    ))
      reels.set(r.receipt_id as number, [...(reels.get(r.receipt_id as number) ?? []), r]);
    return {
      locations: locations.map((l) => ({ id: l.id, name: l.name, is_default: l.is_default })),
      form: { items: formItems(body, extra, remove), values: body, errors: {} },
      receipts: page.receipts.map(({ receipt, items }) => ({
        ...presentReceipt(receipt, items),
        reels: (reels.get(receipt.id) ?? []).map((r) => ({
          code: r.code,
          cable_type: r.cable_type,
          starting: formatLength(r.starting_mm, r.unit),
        })),
      })),
      olderHref: page.nextCursor ? `/inventory/receiving?cursor=${page.nextCursor}#receipts` : undefined,
      paged: Boolean(q.cursor),
    };
  };

  router.get('/inventory/receiving', async (ctx) => {
    requireInventoryAdmin(ctx);
    respond(ctx, { page: 'inventory/receiving', title: 'Receive cable', data: await receivingData(ctx) });
  });

  /** One more blank item row for htmx's "Add item" (without JavaScript the form posts back instead). */
  router.get('/inventory/receiving/item-row', async (ctx) => {
    requireInventoryAdmin(ctx);
    respondItemRow(ctx, 'inventory/_receipt_item_row');
  });

  router.post('/inventory/receiving', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const body = bodyOf(ctx);
    const rows = rowEdit(body);
    if (rows) {
      const data = await receivingData(ctx, body, rows.extra, rows.remove);
      respond(ctx, { page: 'inventory/receiving', title: 'Receive cable', data });
      return;
    }
    const data = () => receivingData(ctx, body);
    // handleForm puts `errors` and `values` at the top level; the template reads them there first.
    await handleForm(ctx, { page: 'inventory/receiving', title: 'Receive cable', data }, async () => {
      const { receipt, items } = await receiveCable(db, actor, parseReceipt(body), settings);
      ctx.log.info({ receiptId: receipt.id, userId: actor.id, items: items.length }, 'cable received');
      const units = items.reduce((n, i) => n + i.quantity, 0);
      respond(ctx, {
        redirect: '/inventory/receiving',
        flash: {
          kind: 'success',
          message: `Receipt #${receipt.id} from ${receipt.vendor} recorded: ${items.length} line${items.length === 1 ? '' : 's'}, ${units} unit${units === 1 ? '' : 's'}.`,
        },
      });
    });
  });

  // ---- the ledger -------------------------------------------------------------------------------

  router.get('/api/inventory/movements', async (ctx) => {
    requireInventoryAdmin(ctx);
    const q = validQuery(ctx, movementsQuerySchema);
    const page = await movementPage(db, { ...q, limit: q.limit ?? 200 });
    if (page.nextCursor) ctx.set('Link', `</api/inventory/movements${ledgerQuery(q, page.nextCursor)}>; rel="next"`);
    respond(ctx, { json: page.rows.map(presentMovement) });
  });

  router.get('/inventory/ledger', async (ctx) => {
    requireInventoryAdmin(ctx);
    const q = validQuery(ctx, movementsQuerySchema);
    const page = await movementPage(db, { ...q, limit: q.limit ?? LEDGER_PAGE });
    const filters = { ...q, cursor: undefined };
    const data = {
      query: q,
      movementTypes: MOVEMENT_TYPES,
      sourceTypes: SOURCE_TYPES,
      rows: page.rows.map(presentLedgerLine),
      nextHref: page.nextCursor ? `/inventory/ledger${ledgerQuery(q, page.nextCursor)}` : undefined,
      firstHref: q.cursor ? `/inventory/ledger${ledgerQuery(filters)}` : undefined,
      csvHref: `/inventory/ledger.csv${ledgerQuery({ ...filters, limit: undefined })}`,
    };
    respond(ctx, { page: 'inventory/ledger', partial: 'inventory/_ledger_rows', title: 'Stock ledger', data });
  });

  router.get('/inventory/ledger.csv', async (ctx) => {
    requireInventoryAdmin(ctx);
    const q = validQuery(ctx, movementsQuerySchema);
    const rows = allMovements(db, {
      movement_type: q.movement_type,
      source_type: q.source_type,
      source_id: q.source_id,
      location_id: q.location_id,
    });
    sendCsv(
      ctx,
      'stock-ledger',
      csvStream(
        [
          'id',
          'created_at',
          'movement_type',
          'source_type',
          'source_id',
          'cable_type',
          'cable_length',
          'quantity_delta',
          'actor',
          'notes',
          'location',
          'unit',
          'reel_code',
        ],
        rows,
        (m) => {
          const p = presentMovement(m);
          // Bulk rows: the length column says "on reels" and the quantity is a number in the SKU's unit.
          return [
            p.id,
            p.created_at,
            p.movement_type,
            p.source_type,
            p.source_id,
            p.cable_type,
            p.unit === 'each' ? p.cable_length : BULK_LENGTH_LABEL,
            stockNumber(p.quantity_delta, p.unit),
            p.actor?.username,
            p.notes,
            m.location_name,
            p.unit,
            p.reel_code,
          ];
        },
      ),
    );
  });

  // ---- adjustments ------------------------------------------------------------------------------

  router.post('/api/inventory/adjustments', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const input = validBody(ctx, adjustmentSchema);
    const { movement, stock } = await adjustStock(db, actor, input, settings);
    ctx.log.info({ movementId: movement.id, userId: actor.id, delta: input.quantity }, 'stock adjusted');
    respond(ctx, {
      status: 201,
      json: {
        message: 'Stock adjusted',
        movement: presentMovement(movement),
        on_hand: presentOnHand(stock),
      },
    });
  });

  const adjustmentData = async (body: Body = {}) => {
    const recent = await movementPage(db, { source_type: 'manual_adjustment', limit: 10 });
    const locations = await allLocations(db, false);
    return {
      locations: locations.map((l) => ({ id: l.id, name: l.name, is_default: l.is_default })),
      values: body,
      errors: {},
      recent: recent.rows.map(presentMovement),
    };
  };

  router.get('/inventory/adjustments', async (ctx) => {
    requireInventoryAdmin(ctx);
    respond(ctx, { page: 'inventory/adjustments', title: 'Adjust stock', data: await adjustmentData() });
  });

  router.post('/inventory/adjustments', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      { page: 'inventory/adjustments', title: 'Adjust stock', data: () => adjustmentData(body) },
      async () => {
        const input = parseWith(adjustmentSchema, { ...body, quantity: signedFromForm(body) });
        const { at, location } = await adjustStock(db, actor, input, settings);
        const signed = input.quantity > 0 ? `+${input.quantity}` : String(input.quantity);
        respond(ctx, {
          redirect: '/inventory/adjustments',
          flash: {
            kind: 'success',
            message: `Adjusted ${at.cable_type} ${at.cable_length} at ${location.name} by ${signed}; ${at.on_hand} now on hand there.`,
          },
        });
      },
    );
  });

  return router;
}
