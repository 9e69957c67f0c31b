import { z } from 'zod';
import { isoTime, personRef } from '../../http/openapi.ts';
import { parseWith } from '../../http/validate.ts';
import { LENGTH_UNITS, type LengthUnit, parseLength } from '../../lib/length.ts';
import { formRows, freeText, integer, MAX_ID, optionalParam, optionalText, queryFlag, text } from '../../lib/schema.ts';

/** Request and answer shapes of reels of bulk cable (DESIGN.md §13). */

export const MAX_REELS_PER_LINE = 100;
export const MAX_BULK_LINES = 20;

const unitField = optionalParam(z.enum(LENGTH_UNITS, { error: 'must be ft or m' }));
const locationField = optionalParam(z.preprocess((v) => (v === null ? undefined : v), integer(1, MAX_ID).optional()));

/**
 * A length as people type it ("1000 ft", "305 m", "1,000'"); a bare number takes `unit` when one is
 * given. Becomes millimetres; anything else is a sentence on the field.
 */
const lengthOf = (raw: string, unit: LengthUnit | undefined, ctx: z.RefinementCtx, path: (string | number)[]) => {
  const bare = /^\s*[\d,]+(\.\d+)?\s*$/.test(raw);
  if (bare && !unit) {
    ctx.addIssue({ code: 'custom', path, message: 'add a unit: "1000 ft" or "305 m"' });
    return 0;
  }
  const parsed = parseLength(bare ? `${raw} ${unit}` : raw);
  if (parsed.ok) return parsed.mm;
  ctx.addIssue({ code: 'custom', path, message: parsed.error });
  return 0;
};

const reelInput = z.object({ length: text(30), lot: optionalText(100) });

export const bulkLineSchema = z
  .object({
    cable_type: text(100),
    unit: unitField.meta({
      description: 'ft or m; the first receipt of a cable type sets its unit. Default: the unit of the first length.',
    }),
    location_id: locationField,
    reels: z.preprocess(
      (v) => formRows(v, ['length', 'lot']),
      z
        .array(reelInput, { error: (iss) => (iss.input === undefined ? 'add at least one reel' : 'must be a list of reels') })
        .min(1, 'add at least one reel')
        .max(MAX_REELS_PER_LINE, `at most ${MAX_REELS_PER_LINE} reels`),
    ),
  })
  .transform((line, ctx) => {
    const reels = line.reels.map((r, i) => ({
      length: r.length,
      lot: r.lot ?? null,
      mm: lengthOf(r.length, line.unit, ctx, ['reels', i, 'length']),
    }));
    const first = parseLength(line.reels[0]?.length ?? '');
    return { ...line, unit: line.unit ?? (first.ok ? first.unit : 'ft'), reels };
  });

export const bulkReceiptSchema = z.object({
  location_id: locationField,
  vendor: text(200),
  po_number: optionalText(100),
  notes: optionalText(2000),
  lines: z.preprocess(
    (v) => formRows(v, ['cable_type']),
    z
      .array(bulkLineSchema, { error: (iss) => (iss.input === undefined ? 'add at least one line' : 'must be a list of lines') })
      .min(1, 'add at least one line')
      .max(MAX_BULK_LINES, `at most ${MAX_BULK_LINES} lines`),
  ),
});
export type BulkReceiptInput = z.infer<typeof bulkReceiptSchema>;

/** Every bad field named at once, as `lines.0.reels.1.length`. */
export const parseBulkReceipt = (input: unknown): BulkReceiptInput => parseWith(bulkReceiptSchema, input);

export const reelsQuerySchema = z.object({
  location_id: optionalParam(integer(1, MAX_ID)),
  sku: optionalParam(text(100)).meta({ description: 'A cable type.' }),
  all: queryFlag.meta({ description: 'Empty and scrapped reels too.' }),
  receipt_id: optionalParam(integer(1, MAX_ID)),
  limit: optionalParam(integer(1, 500)),
  cursor: optionalParam(integer(1, MAX_ID)),
});
export type ReelsQuery = z.infer<typeof reelsQuerySchema>;

export const reelCodeParam = z.object({
  code: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^R-\d{6,9}$/, 'must be a reel code such as R-000123'),
});

export const reelMoveSchema = z.object({
  to_location_id: integer(1, MAX_ID),
  notes: optionalText(500),
});
export type ReelMoveInput = z.infer<typeof reelMoveSchema>;

/** A count: the measured remaining length ("0 ft" is allowed: the reel is empty) and why. */
export const reelCountSchema = z.object({
  remaining: text(30).meta({
    description: 'Measured remaining length, "640 ft" or "195 m"; a bare number is in the reel’s unit; 0 empties the reel.',
  }),
  reason: freeText(500),
});
export type ReelCountInput = z.infer<typeof reelCountSchema>;

export const reelScrapSchema = z.object({ reason: freeText(500) });
export type ReelScrapInput = z.infer<typeof reelScrapSchema>;

// ---- answers ------------------------------------------------------------------------------------

const unitJson = z.enum(LENGTH_UNITS);

export const reelJson = z
  .object({
    id: z.number().int(),
    code: z.string().meta({ description: 'R-000123: printed on the label.' }),
    cable_type: z.string(),
    unit: unitJson,
    location: z.object({ id: z.number().int(), name: z.string() }),
    starting_mm: z.number().int(),
    remaining_mm: z.number().int(),
    starting: z.string().meta({ description: 'The starting length in the unit: "1,000 ft".' }),
    remaining: z.string().meta({ description: 'The remaining length in the unit.' }),
    lot: z.string().nullable().meta({ description: 'Lot number or vendor reference.' }),
    receipt_id: z.number().int().nullable(),
    status: z.enum(['active', 'scrapped']),
    pickable: z.boolean().meta({ description: 'Active with length left: cuts may come from it.' }),
    url: z.string().meta({ description: 'APP_URL/r/{code}: what the label’s QR code opens.' }),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Reel' });
export type ReelJson = z.infer<typeof reelJson>;

export const reelMovementJson = z
  .object({
    id: z.number().int(),
    movement_type: z.string(),
    source_type: z.string(),
    source_id: z.number().int().nullable(),
    location_id: z.number().int().nullable(),
    location_name: z.string().nullable(),
    quantity_mm: z.number().int().meta({ description: 'Signed millimetres: + onto the reel, - off it.' }),
    quantity: z.string().meta({ description: 'The same in the reel’s unit.' }),
    actor: personRef.nullable(),
    notes: z.string().nullable(),
    created_at: isoTime,
  })
  .meta({ id: 'ReelMovement' });
export type ReelMovementJson = z.infer<typeof reelMovementJson>;

export const reelDetailJson = reelJson
  .extend({
    movements: z.array(reelMovementJson).optional().meta({ description: 'Admins only: the reel’s ledger rows, oldest first.' }),
  })
  .meta({ id: 'ReelDetail' });
