import { z } from 'zod';
import { isoTime, personRef } from '../../http/openapi.ts';
import { formRows, integer, MAX_ID, optionalParam, optionalText, queryFlag, text } from '../../lib/schema.ts';

export const LOCATION_KINDS = ['warehouse', 'van', 'site'] as const;
export type LocationKind = (typeof LOCATION_KINDS)[number];

/** Largest quantity on one line of a transfer or a rule (as receiving). */
export const MAX_QUANTITY = 1_000_000;
export const MAX_TRANSFER_ITEMS = 100;

const kind = z.enum(LOCATION_KINDS, { error: `must be one of ${LOCATION_KINDS.join(', ')}` });
/** A form's checkbox (absent: off) or a JSON boolean. */
const flag = z.preprocess((v) => (v === 'on' ? true : v), queryFlag);
/** A van's holder: a user id, or blank/null for none. */
const holder = z.preprocess((v) => (v === '' || v === null ? null : v), integer(1, MAX_ID).nullable().optional());

export const locationSchema = z.object({
  name: text(100),
  kind,
  holder_user_id: holder,
  active: flag.optional(),
});
export type LocationInput = z.infer<typeof locationSchema>;

export const locationPatchSchema = z
  .object({
    name: text(100).optional(),
    kind: kind.optional(),
    holder_user_id: holder,
    active: flag.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'change at least one of name, kind, holder_user_id, active');
export type LocationPatch = z.infer<typeof locationPatchSchema>;

export const locationsQuerySchema = z.object({ include_inactive: queryFlag });

const locationId = integer(1, MAX_ID);

export const transferItemSchema = z.object({
  cable_type: text(100),
  cable_length: text(50),
  quantity: integer(1, MAX_QUANTITY),
});

export const transferSchema = z
  .object({
    from_location_id: locationId,
    to_location_id: locationId,
    notes: optionalText(2000),
    items: z.preprocess(
      (v) => formRows(v, ['cable_type', 'cable_length', 'quantity']),
      z
        .array(transferItemSchema, {
          error: (iss) => (iss.input === undefined ? 'add at least one item' : 'must be a list of items'),
        })
        .min(1, 'add at least one item')
        .max(MAX_TRANSFER_ITEMS, `at most ${MAX_TRANSFER_ITEMS} items`),
    ),
  })
  .superRefine((v, ctx) => {
    if (v.from_location_id === v.to_location_id)
      ctx.addIssue({ code: 'custom', path: ['to_location_id'], message: 'must differ from the location the stock leaves' });
  });
export type TransferInput = z.infer<typeof transferSchema>;

export const reorderRuleSchema = z
  .object({
    location_id: locationId,
    cable_type: text(100),
    cable_length: text(50),
    min_quantity: integer(0, MAX_QUANTITY),
    max_quantity: integer(1, MAX_QUANTITY),
    pack_multiple: optionalParam(z.preprocess((v) => (v === null ? undefined : v), integer(1, MAX_QUANTITY).optional())),
  })
  .superRefine((v, ctx) => {
    if (v.max_quantity < v.min_quantity)
      ctx.addIssue({ code: 'custom', path: ['max_quantity'], message: 'must be at least the minimum' });
  });
export type ReorderRuleInput = z.infer<typeof reorderRuleSchema>;

export const onHandByLocationQuery = z.object({
  include_zero: queryFlag,
  location_id: optionalParam(locationId),
});

export const suggestionsQuerySchema = z.object({ location_id: optionalParam(locationId) });

// ---- the JSON answers -----------------------------------------------------------------------------

export const locationJson = z
  .object({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(LOCATION_KINDS),
    holder: personRef.nullable().meta({ description: 'The technician who drives a van.' }),
    active: z.boolean(),
    is_default: z.boolean().meta({ description: 'Receiving and requests use it unless told otherwise.' }),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Location' });
export type LocationJson = z.infer<typeof locationJson>;

const place = z.object({ id: z.number().int(), name: z.string() });

export const transferJson = z
  .object({
    id: z.number().int(),
    from_location: place,
    to_location: place,
    notes: z.string().nullable(),
    items: z.array(z.object({ cable_type: z.string(), cable_length: z.string(), quantity: z.number().int() })),
    created_by: personRef.nullable(),
    created_at: isoTime,
  })
  .meta({ id: 'Transfer' });
export type TransferJson = z.infer<typeof transferJson>;

export const reorderRuleJson = z
  .object({
    location: place,
    cable_type: z.string(),
    cable_length: z.string(),
    min_quantity: z.number().int(),
    max_quantity: z.number().int(),
    pack_multiple: z.number().int().nullable(),
  })
  .meta({ id: 'ReorderRule' });
export type ReorderRuleJson = z.infer<typeof reorderRuleJson>;

export const suggestionJson = z
  .object({
    id: z.number().int(),
    kind: z.enum(['purchase', 'transfer']),
    location: place,
    from_location: place.nullable(),
    cable_type: z.string(),
    cable_length: z.string(),
    quantity: z.number().int(),
    status: z.enum(['open', 'done', 'closed']),
    transfer_id: z.number().int().nullable(),
    created_at: isoTime,
    closed_at: isoTime.nullable(),
  })
  .meta({ id: 'ReorderSuggestion' });
export type SuggestionJson = z.infer<typeof suggestionJson>;
