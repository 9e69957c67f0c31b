import { MAX_ID } from '../../lib/schema.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import type { SmsDecision } from './service.ts';

/**
 * What an assignee may text back: exactly `YES <request number>` or `NO <request number> <reason>`
 * (any case, surrounding space ignored, `#12` or `12`). Everything else is answered with help.
 */
export type SmsReply =
  | { kind: 'decision'; ticketId: number; decision: 'approved' | 'rejected'; reason?: string }
  | { kind: 'invalid'; ticketId?: number; problem: string };

const MAX_REASON = 500;
const DECISION = /^(yes|no)\s+#?(\d{1,10})(?:\s+([\s\S]*))?$/i;
/** A reply that starts like a decision but is not one still names its request: it goes in that audit trail. */
const ATTEMPT = /^(yes|no)\s+#?(\d{1,10})\b/i;

export function parseSmsReply(raw: string): SmsReply {
  const text = raw.trim();
  const match = DECISION.exec(text);
  if (!match) {
    const id = Number(ATTEMPT.exec(text)?.[2]);
    return {
      kind: 'invalid',
      ticketId: id >= 1 && id <= MAX_ID ? id : undefined,
      problem: 'the reply is not "YES <number>" or "NO <number> <reason>".',
    };
  }
  const ticketId = Number(match[2]);
  if (ticketId < 1 || ticketId > MAX_ID) return { kind: 'invalid', problem: 'no such request number.' };
  const rest = (match[3] ?? '').trim();
  if ((match[1] as string).toLowerCase() === 'yes') {
    if (rest) return { kind: 'invalid', ticketId, problem: 'YES takes nothing after the request number.' };
    return { kind: 'decision', ticketId, decision: 'approved' };
  }
  if (!rest) return { kind: 'invalid', ticketId, problem: 'NO needs a reason after the request number.' };
  if (rest.length > MAX_REASON)
    return { kind: 'invalid', ticketId, problem: `the reason is longer than ${MAX_REASON} characters.` };
  return { kind: 'decision', ticketId, decision: 'rejected', reason: rest };
}

export const SMS_HELP =
  'Reply YES <request number> to approve, or NO <request number> <reason> to reject. Example: NO 12 out of stock';

/** The text sent back for a decision attempt (kept short: one SMS). */
export function smsAnswer(ticketId: number, result: SmsDecision): string {
  switch (result.state) {
    case 'done':
      return `Request #${ticketId} ${result.ticket.status}. ${result.ticket.created_by_username} will be told.`;
    case 'decided':
      return `Request #${ticketId} was already ${STATUS_LABELS[result.ticket.status].toLowerCase()}. Nothing changed.`;
    case 'deleted':
      return `Request #${ticketId} was deleted. Nothing changed.`;
    case 'not_assignee':
      return `This phone number cannot decide request #${ticketId}.`;
    case 'not_found':
      return `There is no request #${ticketId}.`;
  }
}
