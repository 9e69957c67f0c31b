import Router from '@koa/router';
import type { Context } from 'koa';
import QRCode from 'qrcode';
import type { Deps, Principal } from '../../http/context.ts';
import { handleForm, refusalAsFlash } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { pageHref } from '../../http/links.ts';
import { respond } from '../../http/respond.ts';
import { type Body, bodyOf, parseWith, validBody, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { allLocations } from '../locations/service.ts';
import { canManageInventory, requireInventoryAdmin } from './policy.ts';
import { presentReel, presentReelMovement, reelUrl } from './reel-presenter.ts';
import { listBulkSkus, type ReelRow, reelsOfReceipts } from './reel-queries.ts';
import {
  type BulkReceiptInput,
  parseBulkReceipt,
  type ReelsQuery,
  reelCodeParam,
  reelCountSchema,
  reelMoveSchema,
  reelScrapSchema,
  reelsQuerySchema,
} from './reel-schema.ts';
import { countReel, getReel, moveReel, receiveBulk, reelHistory, reelPage, scrapReel } from './reels.ts';
import { getReceipt } from './service.ts';

/** Label sheets: A4 and Letter pages of labels, or one label per 62 mm roll label. */
const LABEL_FORMATS = ['a4', 'letter', 'roll'] as const;
type LabelFormat = (typeof LABEL_FORMATS)[number];
const labelFormat = (value: unknown): LabelFormat =>
  LABEL_FORMATS.includes(value as LabelFormat) ? (value as LabelFormat) : 'a4';

/** The QR code of a reel's address, as an SVG drawn on the server (the qrcode library). */
export const reelQrSvg = (url: string): Promise<string> =>
  QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });

const REELS_PAGE = 100;

const reelsQueryHref = (q: ReelsQuery, cursor?: number) =>
  pageHref('/inventory/reels', {
    location_id: q.location_id,
    sku: q.sku,
    all: q.all ? 'true' : undefined,
    receipt_id: q.receipt_id,
    cursor,
  });

/** The bulk form sends one line flat (cable_type, unit, reels[n]); the API takes `lines`. */
const bulkBodyOf = (body: Body) => ({
  location_id: body.location_id,
  vendor: body.vendor,
  po_number: body.po_number,
  notes: body.notes,
  lines: [{ cable_type: body.cable_type, unit: body.unit, reels: body.reels }],
});

/** "lines.0.reels.1.length" -> "reels.1.length": the form's field names. */
const flatErrors = (fields: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [k.replace(/^lines\.0\./, ''), v]));

/** The bulk form's reel rows: what was typed, plus blank ones, less a removed one. */
function reelRows(body: Body, extra = 0, remove?: number): Record<string, unknown>[] {
  const raw = body.reels;
  const rows = (Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? Object.values(raw) : []).filter(
    (r, i) => i !== remove && r && typeof r === 'object',
  ) as Record<string, unknown>[];
  return [...(rows.length ? rows : [{}, {}]), ...Array.from({ length: extra }, () => ({}))];
}

export function reelRoutes(deps: Deps): Router {
  const { db, config } = deps;
  const settings = { appUrl: config.appUrl };
  const router = new Router();

  // ---- receiving bulk cable -------------------------------------------------------------------

  router.post('/api/cable-receiving/bulk', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const { receiptId } = await receiveBulk(db, actor, parseBulkReceipt(bodyOf(ctx)), settings);
    const { receipt } = await getReceipt(db, receiptId);
    const reels = await reelsOfReceipts(db, [receiptId]);
    ctx.log.info({ receiptId, userId: actor.id, reels: reels.length }, 'bulk cable received');
    ctx.set('Location', `/api/cable-receiving/${receiptId}`);
    respond(ctx, {
      status: 201,
      json: {
        message: 'Bulk cable received',
        receipt: { id: receipt.id, vendor: receipt.vendor, po_number: receipt.po_number },
        reels: reels.map((r) => presentReel(r, config.appUrl)),
        labels: `/inventory/receiving/${receiptId}/labels`,
      },
    });
  });

  const bulkFormData = async (body: Body = {}, extra = 0, remove?: number) => {
    const locations = await allLocations(db, false);
    const skus = await listBulkSkus(db);
    return {
      locations: locations.map((l) => ({ id: l.id, name: l.name, is_default: l.is_default })),
      bulkSkus: skus.map((s) => ({ cable_type: s.cable_type, unit: s.unit })),
      reels: reelRows(body, extra, remove),
      values: body,
      errors: {},
    };
  };

  router.get('/inventory/receiving/bulk', async (ctx) => {
    requireInventoryAdmin(ctx);
    respond(ctx, { page: 'inventory/receiving-bulk', title: 'Receive bulk cable', data: await bulkFormData() });
  });

  router.post('/inventory/receiving/bulk', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const body = bodyOf(ctx);
    if (body.add_reel !== undefined || body.remove_reel !== undefined) {
      const data = await bulkFormData(
        body,
        body.add_reel !== undefined ? 1 : 0,
        body.remove_reel !== undefined ? Number(body.remove_reel) : undefined,
      );
      respond(ctx, { page: 'inventory/receiving-bulk', title: 'Receive bulk cable', data });
      return;
    }
    const view = { page: 'inventory/receiving-bulk', title: 'Receive bulk cable', data: () => bulkFormData(body) };
    await handleForm(ctx, view, async () => {
      let input: BulkReceiptInput;
      try {
        input = parseBulkReceipt(bulkBodyOf(body));
      } catch (err) {
        if (err && typeof err === 'object' && 'fields' in err)
          (err as { fields?: Record<string, string> }).fields = flatErrors((err as { fields?: Record<string, string> }).fields);
        throw err;
      }
      const { receiptId, codes } = await receiveBulk(db, actor, input, settings);
      respond(ctx, {
        redirect: `/inventory/reels?receipt_id=${receiptId}&all=true`,
        flash: {
          kind: 'success',
          message: `Receipt #${receiptId}: ${codes.length} reel${codes.length === 1 ? '' : 's'} received (${codes.join(', ')}). Print their labels below.`,
        },
      });
    });
  });

  // ---- reading ----------------------------------------------------------------------------------

  router.get('/api/reels', async (ctx) => {
    requireUser(ctx);
    const q = validQuery(ctx, reelsQuerySchema);
    const limit = q.limit ?? 200;
    const page = await reelPage(db, { ...q, limit });
    if (page.nextCursor) {
      const next = pageHref('/api/reels', {
        location_id: q.location_id,
        sku: q.sku,
        all: q.all ? 'true' : undefined,
        receipt_id: q.receipt_id,
        limit,
        cursor: page.nextCursor,
      });
      ctx.set('Link', `<${next}>; rel="next"`);
    }
    respond(ctx, { json: page.rows.map((r) => presentReel(r, config.appUrl)) });
  });

  /** The reel and, for admins (the ledger is theirs), its movements with who and why. */
  const reelDetail = async (viewer: Principal, reel: ReelRow) => ({
    ...presentReel(reel, config.appUrl),
    ...(canManageInventory(viewer) ? { movements: (await reelHistory(db, reel)).map((m) => presentReelMovement(m, reel)) } : {}),
  });

  router.get('/api/reels/:code', async (ctx) => {
    const viewer = requireUser(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    respond(ctx, { json: await reelDetail(viewer, await getReel(db, code)) });
  });

  router.get('/inventory/reels', async (ctx) => {
    const viewer = requireUser(ctx);
    const q = validQuery(ctx, reelsQuerySchema);
    const page = await reelPage(db, { ...q, limit: REELS_PAGE });
    const locations = await allLocations(db);
    const reels = page.rows.map((r) => presentReel(r, config.appUrl));
    respond(ctx, {
      page: 'inventory/reels',
      title: 'Reels',
      json: reels,
      data: {
        reels,
        query: q,
        canManage: canManageInventory(viewer),
        locations: locations.map((l) => ({ id: l.id, name: l.name })),
        bulkSkus: (await listBulkSkus(db)).map((s) => s.cable_type),
        nextHref: page.nextCursor ? reelsQueryHref(q, page.nextCursor) : undefined,
        labelsHref: q.receipt_id ? `/inventory/receiving/${q.receipt_id}/labels` : undefined,
      },
    });
  });

  const reelPageData = async (viewer: Principal, code: string, body: Body = {}) => {
    const reel = await getReel(db, code);
    const locations = canManageInventory(viewer) ? await allLocations(db, false) : [];
    return {
      reel: await reelDetail(viewer, reel),
      canManage: canManageInventory(viewer),
      offcutMin: config.reelOffcutMinMm,
      locations: locations.filter((l) => l.id !== reel.location_id).map((l) => ({ id: l.id, name: l.name, is_default: false })),
      values: body,
      errors: {},
    };
  };

  /** The page a label's QR code opens: everyone signed in may look (a technician scanning in the field). */
  router.get('/r/:code', async (ctx) => {
    const viewer = requireUser(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    const data = await reelPageData(viewer, code);
    respond(ctx, { page: 'inventory/reel', title: `Reel ${data.reel.code}`, data, json: data.reel });
  });

  // ---- move, count, scrap (admins) ------------------------------------------------------------

  router.post('/api/reels/:code/move', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    const reel = await moveReel(db, actor, code, validBody(ctx, reelMoveSchema), settings);
    respond(ctx, {
      json: { message: `Reel ${reel.code} moved to ${reel.location_name}`, reel: presentReel(reel, config.appUrl) },
    });
  });

  router.post('/api/reels/:code/count', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    const reel = await countReel(db, actor, code, validBody(ctx, reelCountSchema), settings);
    respond(ctx, { json: { message: `Reel ${reel.code} counted`, reel: presentReel(reel, config.appUrl) } });
  });

  router.post('/api/reels/:code/scrap', async (ctx) => {
    const actor = requireInventoryAdmin(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    const reel = await scrapReel(db, actor, code, validBody(ctx, reelScrapSchema), settings);
    respond(ctx, { json: { message: `Reel ${reel.code} scrapped`, reel: presentReel(reel, config.appUrl) } });
  });

  /** The reel page's forms: a refusal shows the page again with the sentence beside the field. */
  const reelForm = (action: 'move' | 'count' | 'scrap') => async (ctx: Context) => {
    const actor = requireInventoryAdmin(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    const body = bodyOf(ctx);
    const view = {
      page: 'inventory/reel',
      title: `Reel ${code}`,
      data: async () => ({ ...(await reelPageData(actor, code, body)), form: action }),
    };
    await handleForm(ctx, view, async () => {
      await refusalAsFlash(ctx, `/r/${code}`, async () => {
        const reel =
          action === 'move'
            ? await moveReel(db, actor, code, parseWith(reelMoveSchema, body), settings)
            : action === 'count'
              ? await countReel(db, actor, code, parseWith(reelCountSchema, body), settings)
              : await scrapReel(db, actor, code, parseWith(reelScrapSchema, body), settings);
        const p = presentReel(reel, config.appUrl);
        const message =
          action === 'move'
            ? `Reel ${p.code} moved to ${p.location.name}.`
            : action === 'count'
              ? `Reel ${p.code} counted: ${p.remaining} left.`
              : `Reel ${p.code} scrapped.`;
        respond(ctx, { redirect: `/r/${p.code}`, flash: { kind: 'success', message } });
      });
    });
  };
  router.post('/r/:code/move', reelForm('move'));
  router.post('/r/:code/count', reelForm('count'));
  router.post('/r/:code/scrap', reelForm('scrap'));

  // ---- labels -----------------------------------------------------------------------------------

  const labelsFor = async (reels: ReelRow[]) =>
    Promise.all(
      reels.map(async (r) => {
        const p = presentReel(r, config.appUrl);
        return { ...p, qr: await reelQrSvg(reelUrl(config.appUrl, r.code)) };
      }),
    );

  router.get('/inventory/reels/:code/label', async (ctx) => {
    requireInventoryAdmin(ctx);
    const { code } = parseWith(reelCodeParam, ctx.params);
    const reel = await getReel(db, code);
    const format = labelFormat(ctx.query.format);
    respond(ctx, {
      page: 'inventory/labels',
      title: `Label ${reel.code}`,
      data: {
        labels: await labelsFor([reel]),
        format,
        formats: LABEL_FORMATS,
        base: `/inventory/reels/${reel.code}/label`,
        back: `/r/${reel.code}`,
      },
    });
  });

  router.get('/inventory/receiving/:id/labels', async (ctx) => {
    requireInventoryAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const { receipt } = await getReceipt(db, id);
    const reels = await reelsOfReceipts(db, [receipt.id]);
    const format = labelFormat(ctx.query.format);
    respond(ctx, {
      page: 'inventory/labels',
      title: `Labels of receipt #${receipt.id}`,
      data: {
        labels: await labelsFor(reels),
        format,
        formats: LABEL_FORMATS,
        base: `/inventory/receiving/${receipt.id}/labels`,
        back: `/inventory/reels?receipt_id=${receipt.id}&all=true`,
        receipt: { id: receipt.id, vendor: receipt.vendor },
      },
    });
  });

  return router;
}
