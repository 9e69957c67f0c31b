import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps, Principal } from '../../http/context.ts';
import { formItems, handleForm, refusalAsFlash, rowEdit } from '../../http/forms.ts';
import { requireAdmin, requireUser } from '../../http/guards.ts';
import { respond } from '../../http/respond.ts';
import { type Body, bodyOf, parseWith, validBody, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import {
  acceptSuggestion,
  type InventorySettings,
  latestTransfers,
  reorderRules,
  reorderSuggestions,
  setReorderRule,
  transferStock,
} from '../inventory/service.ts';
import { listAccounts } from '../users/service.ts';
import { presentLocation, presentRule, presentSuggestion, presentTransfer } from './presenter.ts';
import {
  LOCATION_KINDS,
  locationPatchSchema,
  locationSchema,
  locationsQuerySchema,
  reorderRuleSchema,
  suggestionsQuerySchema,
  transferSchema,
} from './schema.ts';
import { allLocations, changeLocation, createLocation, getLocation, type LocationRow } from './service.ts';

/** An admin, or 403 (401 when signed out). */
const requireLocationAdmin = (ctx: Context): Principal =>
  requireAdmin(ctx, 'Only an admin can manage locations and stock moves.');

/** A checkbox posts "on" when ticked and nothing when not: the edit form always says which. */
const withActive = (body: Body): Body => ({ ...body, active: body.active === 'on' || body.active === 'true' ? 'true' : 'false' });

/**
 * Locations (DESIGN.md §12): the admin pages and API for warehouses, vans and sites; transfers
 * between them; reorder rules and the suggestions they open. Stock itself is inventory's: these
 * handlers call its service.
 */
export function locationRoutes(deps: Deps): Router {
  const { db, config } = deps;
  const settings: InventorySettings = {
    appUrl: config.appUrl,
    enforceStock: config.inventoryEnforceStock,
  };
  const router = new Router();

  // ---- locations --------------------------------------------------------------------------------

  router.get('/api/locations', async (ctx) => {
    requireUser(ctx);
    const { include_inactive } = validQuery(ctx, locationsQuerySchema);
    respond(ctx, { json: (await allLocations(db, include_inactive)).map(presentLocation) });
  });

  router.post('/api/locations', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const location = await createLocation(db, validBody(ctx, locationSchema));
    ctx.log.info({ locationId: location.id, userId: actor.id }, 'location created');
    ctx.set('Location', `/api/locations/${location.id}`);
    respond(ctx, { status: 201, json: { message: 'Location created', location: presentLocation(location) } });
  });

  router.patch('/api/locations/:id', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const location = await changeLocation(db, id, validBody(ctx, locationPatchSchema));
    ctx.log.info({ locationId: id, userId: actor.id }, 'location changed');
    respond(ctx, { json: { message: 'Location saved', location: presentLocation(location) } });
  });

  const locationsData = async (body: Body = {}) => ({
    locations: (await allLocations(db)).map(presentLocation),
    users: await listAccounts(db, 500),
    kinds: LOCATION_KINDS,
    values: body,
    errors: {},
  });

  router.get('/locations', async (ctx) => {
    requireLocationAdmin(ctx);
    respond(ctx, { page: 'locations/page', title: 'Locations', data: await locationsData() });
  });

  router.post('/locations', async (ctx) => {
    requireLocationAdmin(ctx);
    const body = bodyOf(ctx);
    await handleForm(ctx, { page: 'locations/page', title: 'Locations', data: () => locationsData(body) }, async () => {
      const location = await createLocation(db, parseWith(locationSchema, { ...body, active: 'true' }));
      respond(ctx, { redirect: '/locations', flash: { kind: 'success', message: `${location.name} added.` } });
    });
  });

  const editData = async (location: LocationRow, body?: Body) => ({
    location: presentLocation(location),
    users: await listAccounts(db, 500),
    kinds: LOCATION_KINDS,
    values: body ?? {
      name: location.name,
      kind: location.kind,
      holder_user_id: location.holder_user_id ?? '',
      active: location.active ? 'on' : '',
    },
    errors: {},
  });

  router.get('/locations/:id', async (ctx) => {
    requireLocationAdmin(ctx);
    const location = await getLocation(db, parseWith(idParam, ctx.params).id);
    respond(ctx, { page: 'locations/edit', title: `Edit ${location.name}`, data: await editData(location) });
  });

  router.post('/locations/:id', async (ctx) => {
    requireLocationAdmin(ctx);
    const location = await getLocation(db, parseWith(idParam, ctx.params).id);
    const body = bodyOf(ctx);
    const view = { page: 'locations/edit', title: `Edit ${location.name}`, data: () => editData(location, body) };
    await handleForm(ctx, view, async () => {
      const saved = await changeLocation(db, location.id, parseWith(locationPatchSchema, withActive(body)));
      respond(ctx, { redirect: '/locations', flash: { kind: 'success', message: `${saved.name} saved.` } });
    });
  });

  // ---- transfers --------------------------------------------------------------------------------

  router.post('/api/inventory/transfers', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const detail = await transferStock(db, actor, validBody(ctx, transferSchema), settings);
    ctx.log.info({ transferId: detail.transfer.id, userId: actor.id }, 'stock transferred');
    respond(ctx, { status: 201, json: { message: 'Stock transferred', transfer: presentTransfer(detail) } });
  });

  const transfersData = async (body: Body = {}, extra = 0, remove?: number) => {
    const locations = await allLocations(db, false);
    return {
      locations: locations.map((l) => ({ id: l.id, name: l.name, is_default: l.is_default })),
      form: { items: formItems(body, extra, remove), values: body, errors: {} },
      values: body,
      errors: {},
      transfers: (await latestTransfers(db)).map(presentTransfer),
    };
  };

  router.get('/inventory/transfers', async (ctx) => {
    requireLocationAdmin(ctx);
    respond(ctx, { page: 'locations/transfers', title: 'Transfers', data: await transfersData() });
  });

  router.post('/inventory/transfers', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const body = bodyOf(ctx);
    const rows = rowEdit(body);
    if (rows) {
      respond(ctx, { page: 'locations/transfers', title: 'Transfers', data: await transfersData(body, rows.extra, rows.remove) });
      return;
    }
    await handleForm(ctx, { page: 'locations/transfers', title: 'Transfers', data: () => transfersData(body) }, async () => {
      const detail = await transferStock(db, actor, parseWith(transferSchema, body), settings);
      const units = detail.items.reduce((n, i) => n + i.quantity, 0);
      respond(ctx, {
        redirect: '/inventory/transfers',
        flash: {
          kind: 'success',
          message: `Transfer #${detail.transfer.id}: ${units} unit${units === 1 ? '' : 's'} from ${detail.from.name} to ${detail.to.name}.`,
        },
      });
    });
  });

  // ---- reorder rules and suggestions ------------------------------------------------------------

  router.get('/api/inventory/reorder-rules', async (ctx) => {
    requireLocationAdmin(ctx);
    const { location_id } = validQuery(ctx, suggestionsQuerySchema);
    const names = new Map((await allLocations(db)).map((l) => [l.id, l]));
    respond(ctx, { json: (await reorderRules(db, location_id)).map((r) => presentRule(r, names)) });
  });

  router.post('/api/inventory/reorder-rules', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const rule = await setReorderRule(db, validBody(ctx, reorderRuleSchema), settings);
    ctx.log.info({ locationId: rule.location_id, userId: actor.id }, 'reorder rule saved');
    const names = new Map((await allLocations(db)).map((l) => [l.id, l]));
    respond(ctx, { json: { message: 'Reorder rule saved', rule: presentRule(rule, names) } });
  });

  router.get('/api/inventory/reorder-suggestions', async (ctx) => {
    requireLocationAdmin(ctx);
    const { location_id } = validQuery(ctx, suggestionsQuerySchema);
    const names = new Map((await allLocations(db)).map((l) => [l.id, l]));
    const rows = await reorderSuggestions(db, { locationId: location_id });
    respond(ctx, { json: rows.map((s) => presentSuggestion(s, names)) });
  });

  router.post('/api/inventory/reorder-suggestions/:id/transfer', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const detail = await acceptSuggestion(db, actor, id, settings);
    respond(ctx, { status: 201, json: { message: 'Stock transferred', transfer: presentTransfer(detail) } });
  });

  const reorderData = async (body: Body = {}) => {
    const locations = await allLocations(db);
    const names = new Map(locations.map((l) => [l.id, l]));
    return {
      locations: locations.filter((l) => l.active).map((l) => ({ id: l.id, name: l.name, is_default: l.is_default })),
      rules: (await reorderRules(db)).map((r) => presentRule(r, names)),
      suggestions: (await reorderSuggestions(db, { status: 'open' })).map((s) => presentSuggestion(s, names)),
      values: body,
      errors: {},
    };
  };

  router.get('/inventory/reorder', async (ctx) => {
    requireLocationAdmin(ctx);
    respond(ctx, { page: 'locations/reorder', title: 'Reorder', data: await reorderData() });
  });

  router.post('/inventory/reorder', async (ctx) => {
    requireLocationAdmin(ctx);
    const body = bodyOf(ctx);
    await handleForm(ctx, { page: 'locations/reorder', title: 'Reorder', data: () => reorderData(body) }, async () => {
      const input = parseWith(reorderRuleSchema, body);
      await setReorderRule(db, input, settings);
      respond(ctx, {
        redirect: '/inventory/reorder',
        flash: { kind: 'success', message: `Rule for ${input.cable_type} ${input.cable_length} saved.` },
      });
    });
  });

  router.post('/inventory/reorder/:id/transfer', async (ctx) => {
    const actor = requireLocationAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    await refusalAsFlash(
      ctx,
      '/inventory/reorder',
      async () => {
        const detail = await acceptSuggestion(db, actor, id, settings);
        respond(ctx, {
          redirect: '/inventory/reorder',
          flash: { kind: 'success', message: `Transfer #${detail.transfer.id} made from suggestion #${id}.` },
        });
      },
      [404, 409],
    );
  });

  return router;
}
