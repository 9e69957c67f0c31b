import { z } from 'zod';
import { badRequest } from '../../http/errors.ts';
import { isoTime, personRef } from '../../http/openapi.ts';
import { fieldErrors, summarize } from '../../http/validate.ts';
import { formRows, freeText, integer, MAX_ID, optionalParam, optionalText, queryFlag, text } from '../../lib/schema.ts';

export const MOVEMENT_TYPES = ['receipt', 'consumption', 'adjustment', 'transfer_out', 'transfer_in', 'cut', 'scrap'] as const;
export type MovementType = (typeof MOVEMENT_TYPES)[number];
/** The reel_* and ticket_cut sources are bulk cable (DESIGN.md §13): one reel per movement, lengths in mm. */
export const SOURCE_TYPES = [
  'cable_receiving',
  'ticket_fulfillment',
  'manual_adjustment',
  'stock_transfer',
  'reel_receipt',
  'ticket_cut',
  'reel_scrap',
  'reel_count',
  'reel_move',
] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const MAX_RECEIPT_ITEMS = 100;
/** Largest quantity on one line (received or adjusted): far above any real delivery, far below overflow. */
export const MAX_QUANTITY = 1_000_000;

const cableType = text(100);
const cableLength = text(50);

export const receiptItemSchema = z.object({
  cable_type: cableType,
  cable_length: cableLength,
  quantity: integer(1, MAX_QUANTITY),
});
export type ReceiptItemInput = z.infer<typeof receiptItemSchema>;

/** A location named in a body (receiving, adjustments): blank or missing is the default warehouse. */
const locationField = optionalParam(z.preprocess((v) => (v === null ? undefined : v), integer(1, MAX_ID).optional()));

export const receiptSchema = z.object({
  location_id: locationField,
  vendor: text(200),
  po_number: optionalText(100),
  notes: optionalText(2000),
  items: z.preprocess(
    (v) => formRows(v, ['cable_type', 'cable_length', 'quantity']),
    z
      .array(receiptItemSchema, {
        error: (iss) => (iss.input === undefined ? 'add at least one item' : 'must be a list of items'),
      })
      .min(1, 'add at least one item')
      .max(MAX_RECEIPT_ITEMS, `at most ${MAX_RECEIPT_ITEMS} items`),
  ),
});
export type ReceiptInput = z.infer<typeof receiptSchema>;

/** Every bad field named at once, items as `items.0.quantity`. */
export function parseReceipt(input: unknown): ReceiptInput {
  const result = receiptSchema.safeParse(input && typeof input === 'object' ? input : {});
  if (result.success) return result.data;
  const fields = fieldErrors(result.error);
  throw badRequest(summarize(fields), fields);
}

/** A signed, non-zero whole number: +5 found in a cycle count, -3 damaged. */
const signedQuantity = integer(-MAX_QUANTITY, MAX_QUANTITY).refine((n) => n !== 0, 'must not be zero');

export const adjustmentSchema = z.object({
  location_id: locationField,
  cable_type: cableType,
  cable_length: cableLength,
  quantity: signedQuantity,
  reason: freeText(500),
});
export type AdjustmentInput = z.infer<typeof adjustmentSchema>;

/** `reorder_threshold`: a whole number >= 0, or null/blank to clear it. */
export const thresholdSchema = z.object({
  cable_type: cableType,
  cable_length: cableLength,
  reorder_threshold: z.preprocess(
    (v) => (v === undefined ? v : v === null || (typeof v === 'string' && v.trim() === '') ? null : v),
    integer(0, MAX_QUANTITY).nullable(),
  ),
});
export type ThresholdInput = z.infer<typeof thresholdSchema>;

export const onHandQuerySchema = z.object({
  include_zero: queryFlag,
  location_id: optionalParam(integer(1, MAX_ID)).meta({
    description: 'One location’s stock; without it, the totals across every location.',
  }),
});

export const movementsQuerySchema = z.object({
  location_id: optionalParam(integer(1, MAX_ID)),
  movement_type: optionalParam(z.enum(MOVEMENT_TYPES, { error: `must be one of ${MOVEMENT_TYPES.join(', ')}` })),
  source_type: optionalParam(z.enum(SOURCE_TYPES, { error: `must be one of ${SOURCE_TYPES.join(', ')}` })),
  source_id: optionalParam(integer(1, MAX_ID)),
  limit: optionalParam(integer(1, 1000)),
  cursor: optionalParam(integer(1, MAX_ID)),
});
export type MovementsQuery = z.infer<typeof movementsQuerySchema>;

export const receiptsQuerySchema = z.object({
  limit: optionalParam(integer(1, 200)),
  cursor: optionalParam(integer(1, MAX_ID)),
});
export type ReceiptsQuery = z.infer<typeof receiptsQuerySchema>;

// ---- the JSON answers: presenter.ts returns these shapes, openapi.ts documents them -------------------

/** `GET /api/inventory/on-hand`: the seed's three keys, with reserved and available (DESIGN.md §7, §12). */
export const onHandJson = z
  .object({
    cable_type: z.string(),
    cable_length: z.string().meta({ description: 'Empty for bulk cable (a SKU kept by length on reels).' }),
    unit: z.enum(['each', 'ft', 'm']).meta({
      description: 'each: counted pieces; ft or m: bulk cable, whose on_hand, reserved and available are millimetres.',
    }),
    on_hand: z.number().int(),
    reserved: z.number().int().meta({ description: 'Promised to approved requests, not yet taken.' }),
    available: z.number().int().meta({ description: 'on_hand - reserved.' }),
    display: z
      .object({ on_hand: z.string(), reserved: z.string(), available: z.string() })
      .nullable()
      .meta({ description: 'Bulk cable: the same figures in its unit ("1,000 ft"); null for counted SKUs.' }),
  })
  .meta({ id: 'OnHand' });
export type OnHandJson = z.infer<typeof onHandJson>;

export const stockJson = z
  .object({
    cable_type: z.string(),
    cable_length: z.string(),
    on_hand: z.number().int(),
    reorder_threshold: z.number().int().nullable(),
    shortfall: z.boolean().meta({ description: 'On hand is below zero (a fulfilment took more than there was).' }),
    low_stock: z.boolean().meta({ description: 'On hand is at or below the reorder threshold.' }),
    last_alert_at: isoTime.nullable().meta({ description: 'When admins were last emailed about this SKU.' }),
  })
  .meta({ id: 'Stock' });
export type StockJson = z.infer<typeof stockJson>;

export const receiptItemJson = z.object({ cable_type: z.string(), cable_length: z.string(), quantity: z.number().int() });

export const receiptJson = z
  .object({
    id: z.number().int(),
    vendor: z.string(),
    po_number: z.string().nullable(),
    notes: z.string().nullable(),
    items: z.array(receiptItemJson),
    received_by: personRef,
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Receipt' });
export type ReceiptJson = z.infer<typeof receiptJson>;

export const movementJson = z
  .object({
    id: z.number().int(),
    movement_type: z.enum(MOVEMENT_TYPES),
    source_type: z.enum(SOURCE_TYPES),
    source_id: z.number().int().nullable().meta({ description: 'The receipt, ticket or transfer (null for an adjustment).' }),
    location_id: z.number().int().nullable().meta({ description: 'Where the stock moved (DESIGN.md §12).' }),
    actor_user_id: z.number().int().nullable(),
    actor: personRef.nullable(),
    cable_type: z.string(),
    cable_length: z.string(),
    quantity_delta: z.number().int().meta({ description: 'Signed: + in, - out; mm for bulk.' }),
    unit: z.enum(['each', 'ft', 'm']).meta({ description: "each, or a bulk SKU's unit." }),
    reel_code: z.string().nullable().meta({ description: 'The reel moved (bulk only).' }),
    notes: z.string().nullable(),
    created_at: isoTime,
  })
  .meta({ id: 'Movement' });
export type MovementJson = z.infer<typeof movementJson>;
