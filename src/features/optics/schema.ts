import { z } from 'zod';
import { badRequest } from '../../http/errors.ts';
import { isoTime, personRef } from '../../http/openapi.ts';
import { fieldErrors, summarize } from '../../http/validate.ts';
import { integer, MAX_ID, optionalParam, optionalText, queryFlag, text } from '../../lib/schema.ts';
import { OPTICS_ACTIONS, OPTICS_STATUSES, OTHER } from './states.ts';

/** More than a site would order at once: a typo ("10000" for "10") is caught, a real order is not. */
export const MAX_QUANTITY = 10_000;
export const MAX_OTHER_PART = 255;
export const MAX_REQUESTER_NAME = 50;
export const MAX_ADMIN_NOTE = 500;
export const MAX_PART_NUMBER = 100;

type Body = Record<string, unknown>;
const asBody = (input: unknown): Body => (input && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Body;

const submissionFields = z.object({
  quantity: integer(1, MAX_QUANTITY),
  requester_name: text(MAX_REQUESTER_NAME),
});

/**
 * The JSON body parseSubmission reads, from the parts it runs (for the API's description): the part is
 * matched against the current list, so its schema can only say "a listed part or Other".
 */
export const submissionBody = submissionFields.extend({
  selected_part: z
    .string()
    .min(1)
    .meta({ description: `A part from GET /api/optics-parts (any case), or "${OTHER}".` }),
  other_part: text(MAX_OTHER_PART)
    .optional()
    .meta({ description: `The part number when selected_part is "${OTHER}" (required then, ignored otherwise).` }),
});

export interface OpticsSubmission {
  selected_part: string;
  other_part: string | null;
  /** What is ordered: the listed part, or the typed one for "Other". */
  part_number: string;
  quantity: number;
  requester_name: string;
}

/** The listed part `value` names (case-insensitively, in the list's spelling), "Other", or undefined. */
export function matchPart(value: unknown, parts: readonly string[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  const key = value.trim().toLowerCase();
  if (key === OTHER.toLowerCase()) return OTHER;
  return parts.find((p) => p.toLowerCase() === key);
}

/**
 * A new optics request, against the current parts list. Every bad field is named at once;
 * other_part is read only when selected_part is Other (otherwise it is ignored and stored as null).
 */
export function parseSubmission(input: unknown, parts: readonly string[]): OpticsSubmission {
  const body = asBody(input);
  const errors: Record<string, string> = {};

  const raw = body.selected_part;
  const selected = matchPart(raw, parts);
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) errors.selected_part = 'is required';
  else if (typeof raw !== 'string') errors.selected_part = 'must be text';
  else if (!selected) errors.selected_part = `must be one of the listed parts or ${OTHER}`;

  let other: string | null = null;
  if (selected === OTHER) {
    const result = text(MAX_OTHER_PART).safeParse(body.other_part);
    if (result.success) other = result.data;
    else {
      const sentence = result.error.issues[0]?.message ?? 'is not valid';
      errors.other_part = sentence === 'is required' ? `is required when selected_part is ${OTHER}` : sentence;
    }
  }

  const fields = submissionFields.safeParse(body);
  if (!fields.success) Object.assign(errors, fieldErrors(fields.error));

  if (Object.keys(errors).length || !fields.success || !selected) throw badRequest(summarize(errors), errors);
  return {
    selected_part: selected,
    other_part: other,
    part_number: other ?? selected,
    quantity: fields.data.quantity,
    requester_name: fields.data.requester_name,
  };
}

export const statusActionSchema = z.object({
  action: z.enum(OPTICS_ACTIONS, {
    error: (iss) => (iss.input === undefined ? 'is required' : `must be one of ${OPTICS_ACTIONS.join(', ')}`),
  }),
  admin_note: optionalText(MAX_ADMIN_NOTE),
});
export type StatusAction = z.infer<typeof statusActionSchema>;

export const listQuerySchema = z.object({
  status: optionalParam(z.enum(OPTICS_STATUSES, { error: `must be one of ${OPTICS_STATUSES.join(', ')}` })),
  include_archived: queryFlag,
  limit: optionalParam(integer(1, 200)),
  cursor: optionalParam(integer(1, MAX_ID)),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const partSchema = z.object({
  part_number: text(MAX_PART_NUMBER)
    .refine((v) => v.toLowerCase() !== OTHER.toLowerCase(), {
      message: `is always offered: "${OTHER}" cannot be added`,
    })
    // The list compares names lower-cased, and some letters grow then ("İ" becomes two characters).
    .refine((v) => v.toLowerCase().length <= MAX_PART_NUMBER, {
      message: `must be at most ${MAX_PART_NUMBER} characters once lower-cased`,
    }),
});

// ---- the JSON answers: presenter.ts returns these shapes, openapi.ts documents them -------------------

export const opticsEventJson = z
  .object({
    id: z.number().int(),
    action: z.enum(['submitted', ...OPTICS_ACTIONS]),
    actor: personRef.nullable(),
    from_status: z.enum(OPTICS_STATUSES).nullable(),
    to_status: z.enum(OPTICS_STATUSES),
    note: z.string().nullable(),
    created_at: isoTime,
  })
  .meta({ id: 'OpticsEvent' });
export type OpticsEventJson = z.infer<typeof opticsEventJson>;

export const opticsRequestJson = z
  .object({
    id: z.number().int(),
    part_number: z.string().meta({ description: 'What is ordered: the listed part, or other_part for Other.' }),
    selected_part: z.string(),
    other_part: z.string().nullable(),
    quantity: z.number().int(),
    requester_name: z.string(),
    status: z.enum(OPTICS_STATUSES),
    admin_note: z.string().nullable(),
    requested_by: personRef,
    decided_by: personRef.nullable(),
    decided_at: isoTime.nullable(),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'OpticsRequest' });
export type OpticsRequestJson = z.infer<typeof opticsRequestJson>;

export const opticsRequestDetailJson = opticsRequestJson
  .extend({ events: z.array(opticsEventJson) })
  .meta({ id: 'OpticsRequestDetail' });
