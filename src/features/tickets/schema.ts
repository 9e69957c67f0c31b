import { z } from 'zod';
import { badRequest } from '../../http/errors.ts';
import { isoTime, personRef } from '../../http/openapi.ts';
import { type Body, fieldErrors, summarize } from '../../http/validate.ts';
import { formRows, integer, MAX_ID, optionalParam, optionalText, queryFlag, text } from '../../lib/schema.ts';
import { PRIORITIES, STATUSES } from './states.ts';

const STORED_STATUSES = [...STATUSES, 'deleted'] as const;

export const MAX_ITEMS = 50;

const quantity = z.preprocess((v) => (v === undefined || v === null || v === '' ? 1 : v), integer(1, 100_000));

export const itemSchema = z.object({
  cable_type: text(100),
  cable_length: text(50),
  cable_gauge: optionalText(50),
  quantity,
});
export type ItemInput = z.infer<typeof itemSchema>;

const priority = z.preprocess(
  (v) => (v === undefined || v === null || v === '' ? undefined : v),
  z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(', ')}` }).optional(),
);

const fieldsSchema = z.object({
  assigned_to_id: integer(1, MAX_ID).meta({
    description: 'Who approves: someone other than the requester, unless an admin files it.',
  }),
  priority,
  location: text(200),
  notes: optionalText(2000),
  source_location_id: optionalParam(integer(1, MAX_ID)).meta({
    description: 'Where the cable comes from (a warehouse, a van, a site); the default warehouse when left out.',
  }),
});

const itemsSchema = z.preprocess(
  (v) => formRows(v, ['cable_type', 'cable_length', 'cable_gauge', 'quantity']),
  z
    .array(itemSchema, { error: 'must be a list of items' })
    .min(1, 'add at least one item')
    .max(MAX_ITEMS, `at most ${MAX_ITEMS} items`),
);

/** A new request's fields with their defaults (priority medium, no notes). */
const newTicketFields = fieldsSchema.extend({
  priority: priority.transform((p) => p ?? 'medium'),
  notes: optionalText(2000).transform((n) => n ?? null),
});

/** A new request as the tickets service takes it. */
export type TicketInput = z.infer<typeof newTicketFields> & { items: ItemInput[] };

/**
 * The JSON bodies parseNewTicket and parseTicketEdit read, composed of the very parts they run (for
 * the API's description; old clients may also send one item's fields at the top level instead of items).
 */
export const newTicketBody = newTicketFields.extend({ items: itemsSchema });
export const ticketEditBody = fieldsSchema.partial().extend({ items: itemsSchema.optional() });

function collect<T>(schema: z.ZodType<T>, value: unknown, prefix: string, errors: Record<string, string>): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const [key, sentence] of Object.entries(fieldErrors(result.error))) {
    const name = prefix ? (key === '_' ? prefix : `${prefix}.${key}`) : key;
    if (!(name in errors)) errors[name] = sentence;
  }
  return undefined;
}

function fail(errors: Record<string, string>): never {
  throw badRequest(summarize(errors), errors);
}

/** `items: [...]`, or for old clients the single-item fields at the top level. */
function parseItems(body: Body, errors: Record<string, string>): ItemInput[] | undefined {
  if (body.items !== undefined) return collect(itemsSchema, body.items, 'items', errors);
  const single = collect(itemSchema, body, '', errors);
  return single ? [single] : undefined;
}

/** A new request: every bad field named at once; `created_by_id` and unknown keys are ignored. */
export function parseNewTicket(input: unknown): TicketInput {
  const body = (input && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Body;
  const errors: Record<string, string> = {};
  const fields = collect(newTicketFields, body, '', errors);
  const items = parseItems(body, errors);
  if (!fields || !items) fail(errors);
  return { ...fields, items };
}

export type TicketEdit = Partial<TicketInput>;

const EDITABLE = [
  'assigned_to_id',
  'source_location_id',
  'priority',
  'location',
  'notes',
  'items',
  'cable_type',
  'cable_length',
  'cable_gauge',
  'quantity',
];

/** An edit: only the fields present are validated and changed. */
export function parseTicketEdit(body: Body): TicketEdit {
  const errors: Record<string, string> = {};
  const present = fieldsSchema.partial().safeParse(body);
  const edit: TicketEdit = {};
  if (!present.success) Object.assign(errors, fieldErrors(present.error));
  else {
    const { assigned_to_id, priority: p, location, notes, source_location_id } = present.data;
    if (source_location_id !== undefined) edit.source_location_id = source_location_id;
    if (assigned_to_id !== undefined) edit.assigned_to_id = assigned_to_id;
    if (p !== undefined) edit.priority = p;
    if (location !== undefined) edit.location = location;
    if ('notes' in body) edit.notes = notes ?? null;
  }
  if (body.items !== undefined || body.cable_type !== undefined || body.cable_length !== undefined) {
    const items = parseItems(body, errors);
    if (items) edit.items = items;
  }
  if (Object.keys(errors).length) fail(errors);
  return edit;
}

export const hasEditFields = (body: Body) => EDITABLE.some((k) => body[k] !== undefined);

/** A reel chosen for one piece cut from bulk: `cuts[0][item_id]`, `cuts[0][piece]`, `cuts[0][reel_code]` on a form. */
export const cutChoiceSchema = z.object({
  item_id: integer(1, MAX_ID),
  piece: integer(1, 100_000),
  reel_code: text(20),
});

export const cutsSchema = z
  .preprocess(
    (v) => formRows(v, ['item_id', 'piece', 'reel_code']),
    z.array(cutChoiceSchema, { error: 'must be a list of {item_id, piece, reel_code}' }).max(500, 'at most 500 cuts'),
  )
  .optional()
  .meta({ description: 'Fulfilling: the reel to cut each piece from; best fit for the pieces not named (DESIGN.md §13).' });

export const statusChangeSchema = z.object({
  status: z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be text') })
    .refine((s) => (STATUSES as readonly string[]).includes(s), `must be one of ${STATUSES.join(', ')}`)
    .meta({ enum: [...STATUSES] }),
  rejection_reason: optionalText(500),
  reason: optionalText(500),
  note: optionalText(500),
  cuts: cutsSchema,
});

/** The fulfilment page's form: the reel per cut and an optional note. */
export const fulfilSchema = z.object({ cuts: cutsSchema, note: optionalText(500) });

/** "Keep" on the offcut prompt. */
export const keepOffcutSchema = z.object({ reel_code: text(20) });

export const listQuerySchema = z.object({
  filter: z.preprocess(
    (v) => (v === '' || v === undefined ? 'all' : v),
    z.enum(['all', 'mine', 'assigned'], { error: 'must be all, mine or assigned' }),
  ),
  status: optionalParam(z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` })),
  q: optionalText(100),
  limit: optionalParam(integer(1, 200)),
  cursor: optionalParam(integer(1, MAX_ID)),
  include_deleted: queryFlag,
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const includeDeletedQuery = z.object({ include_deleted: queryFlag });

// ---- the JSON answers: presenter.ts returns these shapes, openapi.ts documents them -------------------

/** A piece cut from a reel for an item (DESIGN.md §13). */
export const ticketCutJson = z
  .object({ reel_code: z.string(), piece: z.number().int(), length: z.string(), mm: z.number().int() })
  .meta({ id: 'TicketCut' });
export type TicketCutJson = z.infer<typeof ticketCutJson>;

export const ticketItemJson = z
  .object({
    id: z.number().int().meta({ description: 'The item, for approving it with another quantity (items[].item_id).' }),
    cable_type: z.string(),
    cable_length: z.string(),
    cable_gauge: z.string().nullable(),
    quantity: z.number().int().meta({ description: 'What was asked for.' }),
    approved_quantity: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'What the approver granted (0: dropped; null: not decided).' }),
    approval_note: z.string().nullable(),
    cuts: z.array(ticketCutJson).optional().meta({ description: 'Pieces cut from reels (one ticket only).' }),
  })
  .meta({ id: 'TicketItem' });

export const ticketEventJson = z
  .object({
    id: z.number().int(),
    type: z.string().meta({ description: 'created, status_changed, edited, deleted, restored, link_resent, sms_refused' }),
    actor: personRef.nullable(),
    via: z
      .enum(['review link', 'api', 'sms', 'email'])
      .nullable()
      .meta({ description: 'How a status change arrived (null: the app’s pages).' }),
    from_status: z.enum(STORED_STATUSES).nullable(),
    to_status: z.enum(STORED_STATUSES).nullable(),
    note: z.string().nullable(),
    acting_as: z.enum(['delegate', 'escalation']).nullable().meta({ description: 'When someone decided in another’s place.' }),
    on_behalf_of: personRef.nullable().meta({ description: 'Whose place that was.' }),
    created_at: isoTime,
  })
  .meta({ id: 'TicketEvent' });

export const ticketJson = z
  .object({
    id: z.number().int(),
    status: z.enum(STORED_STATUSES),
    priority: z.enum(PRIORITIES),
    location: z.string(),
    notes: z.string().nullable(),
    rejection_reason: z.string().nullable(),
    cable_type: z.string().nullable().meta({ description: 'The first item’s, for clients of one item per request.' }),
    cable_length: z.string().nullable(),
    cable_gauge: z.string().nullable(),
    quantity: z.number().int().nullable(),
    items: z.array(ticketItemJson),
    created_by_id: z.number().int(),
    assigned_to_id: z.number().int(),
    created_by: personRef,
    assigned_to: personRef,
    created_at: isoTime,
    updated_at: isoTime,
    deleted_at: isoTime.nullable(),
    deleted_by_id: z.number().int().nullable(),
    source_location_id: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'Where the cable comes from; approval reserves it there (DESIGN.md §12).' }),
    events: z.array(ticketEventJson).optional().meta({ description: 'The timeline, oldest first (one ticket only).' }),
    offcuts: z
      .array(z.object({ reel_code: z.string(), remaining: z.string(), remaining_mm: z.number().int() }))
      .optional()
      .meta({ description: 'Reels the cuts left short, to keep or scrap (one ticket; assignee, admins).' }),
  })
  .meta({ id: 'Ticket' });
export type TicketJson = z.infer<typeof ticketJson>;

/** An answer to a change: what happened, and the ticket as it now is. */
export const ticketChangeJson = z.object({ message: z.string(), ticket: ticketJson });

/** `GET /api/dashboard/stats`: requests per status (deleted ones counted as archived). */
export const ticketStatsJson = z
  .object({
    total_tickets: z.number().int().meta({ description: 'Requests not deleted.' }),
    pending_approval: z.number().int(),
    approved: z.number().int(),
    rejected: z.number().int(),
    in_progress: z.number().int(),
    fulfilled: z.number().int(),
    closed: z.number().int(),
    archived: z.number().int().meta({ description: 'Deleted requests (restorable).' }),
  })
  .meta({ id: 'TicketStats' });
export type TicketStats = z.infer<typeof ticketStatsJson>;
