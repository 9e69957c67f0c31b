import { nowIso, type Trx } from '../../db/index.ts';
import { defaultLocation, type LocationRow, locationsWithIds } from '../locations/service.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import { adminContacts } from '../users/service.ts';
import { emitEvent } from '../webhooks/service.ts';
import { skuLabel } from './sku.ts';
import {
  closeSuggestions,
  type LocationStockRow,
  openDemandFrom,
  openSuggestion,
  type RuleRow,
  rulesFor,
  type SuggestionRow,
} from './stock-queries.ts';

/**
 * Reorder rules (DESIGN.md §12): when available at a (location, SKU) falls below the rule's min,
 * exactly one open suggestion exists for the pair, a transfer from the default warehouse for a van
 * or site, a purchase for a warehouse, sized up to max and rounded up to the pack multiple. Admins
 * are told once (the outbox, and a reorder.suggested webhook) when it opens. Once available is back at
 * or above min the open suggestion closes by itself. Runs in the transaction that moved the stock.
 */

/** How much brings `available` up to max, rounded up to the pack multiple (0 when nothing is needed). */
export function suggestedQuantity(rule: Pick<RuleRow, 'max_quantity' | 'pack_multiple'>, available: number, demand = 0): number {
  const need = rule.max_quantity - available + demand;
  if (need <= 0) return 0;
  const pack = rule.pack_multiple ?? 1;
  return Math.ceil(need / pack) * pack;
}

export async function reviewReorder(trx: Trx, rows: LocationStockRow[], appUrl: string): Promise<void> {
  if (rows.length === 0) return;
  const rules = await rulesFor(
    trx,
    rows.map((r) => ({ location_id: r.location_id, sku_key: r.sku_key })),
  );
  if (rules.length === 0) return;
  const ruleOf = new Map(rules.map((r) => [`${r.location_id}|${r.sku_key}`, r]));
  const now = nowIso();
  const recovered: { location_id: number; sku_key: string }[] = [];
  const low: { row: LocationStockRow; rule: RuleRow }[] = [];
  for (const row of rows) {
    const rule = ruleOf.get(`${row.location_id}|${row.sku_key}`);
    if (!rule) continue;
    if (row.on_hand - row.reserved < rule.min_quantity) low.push({ row, rule });
    else recovered.push({ location_id: row.location_id, sku_key: row.sku_key });
  }
  await closeSuggestions(trx, recovered, now);
  if (low.length === 0) return;
  const places = await locationsWithIds(
    trx,
    low.map((l) => l.row.location_id),
  );
  const all = new Map(places.map((p) => [p.id, p]));
  const main = await defaultOf(trx, all);
  const opened: { s: SuggestionRow; row: LocationStockRow; rule: RuleRow; at: LocationRow }[] = [];
  for (const { row, rule } of low) {
    const at = all.get(row.location_id);
    if (!at) continue;
    const purchase = at.kind === 'warehouse' || !main || main.id === at.id;
    const available = row.on_hand - row.reserved;
    // A warehouse buys for what vans and sites asked of it too.
    const demand = purchase ? await openDemandFrom(trx, at.id, row.sku_key) : 0;
    const quantity = suggestedQuantity(rule, available, demand);
    if (quantity <= 0) continue;
    const s = await openSuggestion(
      trx,
      {
        location_id: at.id,
        sku_key: row.sku_key,
        cable_type: row.cable_type,
        cable_length: row.cable_length,
        kind: purchase ? 'purchase' : 'transfer',
        from_location_id: purchase ? null : (main?.id ?? null),
        quantity,
      },
      now,
    );
    if (s) opened.push({ s, row, rule, at });
  }
  if (opened.length === 0) return;
  const when = new Date(now);
  for (const { s, row, rule, at } of opened) {
    await emitEvent(
      trx,
      'reorder.suggested',
      {
        suggestion_id: s.id,
        kind: s.kind,
        cable_type: row.cable_type,
        cable_length: row.cable_length,
        location: { id: at.id, name: at.name },
        from_location: s.kind === 'transfer' && main ? { id: main.id, name: main.name } : null,
        quantity: s.quantity,
        on_hand: row.on_hand,
        reserved: row.reserved,
        min_quantity: rule.min_quantity,
        max_quantity: rule.max_quantity,
      },
      when,
    );
  }
  const lines = opened.map(({ s, row, rule, at }) => ({
    label: skuLabel(row),
    location: at.name,
    available: row.on_hand - row.reserved,
    min: rule.min_quantity,
    action: s.kind === 'purchase' ? `buy ${s.quantity}` : `move ${s.quantity} from ${main?.name ?? 'the default warehouse'}`,
  }));
  const admins = await adminContacts(trx);
  await enqueue(
    trx,
    admins.map((admin) => ({
      notification_type: 'reorder_suggested',
      recipient: { id: admin.id, email: admin.email, phone: admin.phone },
      ...email('reorder_suggested', { lines, link: `${appUrl}/inventory/reorder`, admin: admin.username }),
    })),
  );
}

async function defaultOf(trx: Trx, known: Map<number, LocationRow>): Promise<LocationRow | undefined> {
  for (const l of known.values()) if (l.is_default) return l;
  return defaultLocation(trx);
}
