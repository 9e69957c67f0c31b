import { z } from 'zod';
import { formRows, integer, MAX_ID, optionalText } from '../../lib/schema.ts';
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
});
