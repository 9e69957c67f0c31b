import { z } from 'zod';
import { formRows, integer, MAX_ID, optionalParam, optionalText } from '../../lib/schema.ts';
import { ticketJson } from '../tickets/schema.ts';
import type { ApprovedLine } from '../tickets/service.ts';

/** Request shapes of deciding: the review page's form, the ticket page's form, the JSON decision API. */

const MAX_LINES = 50;

export const approvedLineSchema = z.object({
  item_id: integer(1, MAX_ID),
  approved_quantity: integer(0, 100_000),
  note: optionalText(200),
});

/**
 * `{decision: approve|reject, reason?, items?: [{item_id, approved_quantity, note?}]}`: a form sends the
 * items as `items[0][item_id]` and so on. Items go with an approval; a rejection ignores them.
 */
export const decisionSchema = z.object({
  decision: z.enum(['approve', 'reject'], { error: 'must be approve or reject' }),
  reason: optionalText(500),
  items: z
    .preprocess(
      (v) => formRows(v, ['item_id', 'approved_quantity', 'note']),
      z
        .array(approvedLineSchema, { error: 'must be a list of {item_id, approved_quantity}' })
        .max(MAX_LINES, `at most ${MAX_LINES} items`),
    )
    .optional(),
  source_location_id: optionalParam(integer(1, MAX_ID)).meta({
    description: 'Approving: take the cable from this location instead of the request’s source (DESIGN.md §12).',
  }),
});
export type DecisionInput = z.infer<typeof decisionSchema>;

/** The decision as the services take it. */
export const asDecision = (input: DecisionInput) => ({
  decision: input.decision === 'approve' ? ('approved' as const) : ('rejected' as const),
  reason: input.reason,
  lines:
    input.decision === 'approve'
      ? input.items?.map((i): ApprovedLine => ({ item_id: i.item_id, approved_quantity: i.approved_quantity, note: i.note }))
      : undefined,
  // The source goes with an approval only; a rejection ignores what the form's select sent.
  source_location_id: input.decision === 'approve' ? input.source_location_id : undefined,
});

/** A review link's path: the ticket and the link's secret. */
export const linkParams = z.object({
  id: integer(1, MAX_ID),
  token: z.string().min(1).max(200).meta({ description: 'The secret from the review link.' }),
});

/** The seed's JSON link routes: a reason, in the body or (GET) the query string. */
export const reasonSchema = z.object({ reason: optionalText(500), rejection_reason: optionalText(500) });

/** What the JSON link routes answer: the decision made now, or the status it already had. */
export const linkDecisionJson = z.union([
  z.object({ message: z.string(), status: z.enum(['approved', 'rejected']), ticket: ticketJson }),
  z
    .object({ message: z.literal('Ticket already processed'), status: z.string() })
    .meta({ description: 'Someone decided it first: nothing changed.' }),
]);

/** Twilio's inbound SMS webhook: the fields the app reads (Twilio sends more, all signed). */
export const inboundSmsSchema = z.object({
  From: z.string({ error: 'is required' }).max(40),
  Body: z.string().max(1600).default(''),
});

/** What deciding signed in answers: the status it ended in (all lines at 0 is a rejection) and the ticket. */
export const decisionAnswerJson = z.object({
  message: z.string(),
  status: z.enum(['approved', 'rejected']),
  ticket: ticketJson,
});

/** SendGrid Inbound Parse's fields the app reads (it sends more): multipart/form-data. */
export const inboundEmailSchema = z.object({
  from: z.string().meta({ description: 'The sender: an account’s email, to decide as that account.' }),
  to: z.string().optional(),
  cc: z.string().optional(),
  envelope: z.string().optional().meta({ description: 'JSON: the SMTP envelope.' }),
  subject: z.string().optional(),
  text: z.string().optional().meta({ description: 'The reply: “YES” or “NO reason” first.' }),
  html: z.string().optional(),
  dkim: z.string().optional(),
  SPF: z.string().optional(),
  charsets: z.string().optional().meta({ description: 'JSON: each field’s charset.' }),
});

/** Every email read is a 200 (else SendGrid sends it again): what became of it. */
export const inboundEmailAnswerJson = z.object({
  outcome: z.enum(['decided', 'no_sender', 'no_request', 'unverified', 'not_a_decision', 'refused']),
  ticketId: z.number().int().optional(),
});
