import { toIso } from '../../db/index.ts';
import { formatLength, type LengthUnit, lengthInUnit } from '../../lib/length.ts';
import type { MovementRow, ReceiptItemRow, ReceiptRow, StockRow } from './queries.ts';
import type { MovementJson, OnHandJson, ReceiptJson, StockJson } from './schema.ts';
import { isLowStock, isShortfall } from './service.ts';

/**
 * `GET /api/inventory/on-hand`: totals (a StockRow) or one location's row, the same keys, plus the
 * unit ('each', or a bulk SKU's ft / m from the bulk_skus join); a bulk SKU's figures are millimetres
 * and `display` shows them in its unit ("1,000 ft").
 */
export const presentOnHand = (
  s: Pick<StockRow, 'cable_type' | 'cable_length' | 'on_hand' | 'reserved'> & { bulk_unit?: LengthUnit | null },
): OnHandJson => {
  const unit = s.bulk_unit ?? 'each';
  const available = s.on_hand - s.reserved;
  return {
    cable_type: s.cable_type,
    cable_length: s.cable_length,
    unit,
    on_hand: s.on_hand,
    reserved: s.reserved,
    available,
    display:
      unit === 'each'
        ? null
        : {
            on_hand: formatLength(s.on_hand, unit),
            reserved: formatLength(s.reserved, unit),
            available: formatLength(available, unit),
          },
  };
};

/** A SKU with its threshold and flags: the stock page and the threshold API. */
export const presentStock = (s: StockRow): StockJson => ({
  cable_type: s.cable_type,
  cable_length: s.cable_length,
  on_hand: s.on_hand,
  reorder_threshold: s.reorder_threshold,
  shortfall: isShortfall(s),
  low_stock: isLowStock(s),
  last_alert_at: toIso(s.last_alert_at),
});

export const presentReceiptItem = (item: ReceiptItemRow): ReceiptJson['items'][number] => ({
  cable_type: item.cable_type,
  cable_length: item.cable_length,
  quantity: item.quantity,
});

export const presentReceipt = (receipt: ReceiptRow, items: ReceiptItemRow[]): ReceiptJson => ({
  id: receipt.id,
  vendor: receipt.vendor,
  po_number: receipt.po_number,
  notes: receipt.notes,
  items: items.map(presentReceiptItem),
  received_by: { id: receipt.received_by_id, username: receipt.received_by_username },
  created_at: toIso(receipt.created_at) as string,
  updated_at: toIso(receipt.updated_at) as string,
});

export const presentMovement = (m: MovementRow): MovementJson => ({
  id: m.id,
  movement_type: m.movement_type,
  source_type: m.source_type,
  source_id: m.source_id,
  location_id: m.location_id === null ? null : Number(m.location_id),
  actor_user_id: m.actor_user_id,
  actor: m.actor_user_id ? { id: m.actor_user_id, username: m.actor_username ?? 'deleted user' } : null,
  cable_type: m.cable_type,
  cable_length: m.cable_length,
  quantity_delta: Number(m.quantity_delta),
  unit: m.bulk_unit ?? 'each',
  reel_code: m.reel_code ?? null,
  notes: m.notes,
  created_at: toIso(m.created_at) as string,
});

/** What a bulk SKU is called where a length would stand: it is kept by length on reels. */
export const BULK_LENGTH_LABEL = 'on reels';

/** A stock figure as a person reads it: the count, or a bulk SKU's millimetres in its unit ("-100 ft"). */
export const stockFigure = (n: number, unit: LengthUnit | 'each'): string =>
  unit === 'each' ? String(n) : formatLength(n, unit);

/** A stock figure for a spreadsheet: the count, or a bulk SKU's millimetres as a number in its unit (-100.5). */
export const stockNumber = (n: number, unit: LengthUnit | 'each'): number => (unit === 'each' ? n : lengthInUnit(n, unit));

/** A ledger line on the page: the movement with its quantity in the SKU's unit and the length "on reels". */
export const presentLedgerLine = (m: MovementRow) => {
  const json = presentMovement(m);
  const figure = stockFigure(json.quantity_delta, json.unit);
  return {
    ...json,
    cable_length: json.unit === 'each' ? json.cable_length : BULK_LENGTH_LABEL,
    delta: json.quantity_delta > 0 ? `+${figure}` : figure,
  };
};
