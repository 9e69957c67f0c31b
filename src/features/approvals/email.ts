import type { Db } from '../../db/index.ts';
import { ticketOfReplyAddress } from '../../lib/reply-address.ts';
import { replyAddressFor } from '../tickets/service.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { contactsByEmails } from '../users/service.ts';
import { parseEmailReply, senderAddress, senderAuthenticated } from './email-reply.ts';
import { sendEmailHelp } from './messages.ts';
import { type ApprovalsSettings, decideByReply, recordReplyRefusal } from './replies.ts';

/**
 * A reply to a review email, as SendGrid's Inbound Parse posts it (its text fields). The signed reply
 * address it was sent to names the request; the From address must belong to someone who may decide it
 * (compared exactly, case aside), and SendGrid's DKIM or SPF result must vouch for that address
 * (INBOUND_EMAIL_REQUIRE_DKIM). Every attempt on a request is in its timeline; an account that wrote
 * something that decided nothing gets a short help email. Nobody else is answered: a stranger or a
 * forged sender would turn the answer into mail to someone who never wrote (backscatter).
 */

export type EmailOutcome = 'decided' | 'no_sender' | 'no_request' | 'unverified' | 'not_a_decision' | 'refused';

export interface InboundEmail {
  from?: string;
  to?: string;
  cc?: string;
  envelope?: string;
  text?: string;
  html?: string;
  dkim?: string;
  SPF?: string;
  subject?: string;
}

const ADDRESS = /[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g;

/** The request named by the first signed reply address among the recipients, if any. */
function requestOf(mail: InboundEmail, domain: string, secret: string): number | undefined {
  let envelopeTo: string[] = [];
  try {
    const to = (JSON.parse(mail.envelope ?? '{}') as { to?: unknown }).to;
    if (Array.isArray(to)) envelopeTo = to.filter((a): a is string => typeof a === 'string');
  } catch {
    // A broken envelope: the To and Cc headers still name the address.
  }
  const candidates = [...envelopeTo, ...`${mail.to ?? ''} ${mail.cc ?? ''}`.matchAll(ADDRESS)].map((a) =>
    (typeof a === 'string' ? a : a[0]).toLowerCase(),
  );
  for (const address of candidates) {
    const id = ticketOfReplyAddress(address, domain, secret);
    if (id) return id;
  }
  return undefined;
}

export async function handleEmailReply(
  db: Db,
  mail: InboundEmail,
  settings: ApprovalsSettings,
  now = new Date(),
): Promise<{ outcome: EmailOutcome; ticketId?: number }> {
  const domain = settings.approvals.inboundDomain;
  const secret = settings.secretKey;
  const sender = senderAddress(mail.from);
  const ticketId = domain ? requestOf(mail, domain, secret) : undefined;
  if (!sender) {
    if (ticketId) await recordReplyRefusal(db, 'email', ticketId, 'unknown sender', 'the email has no sender address.', now);
    return { outcome: 'no_sender', ticketId };
  }
  const account = (await contactsByEmails(db, [sender])).find((c) => c.email.toLowerCase() === sender);
  const verified = !settings.approvals.inboundRequireDkim || senderAuthenticated(sender, mail);
  const help = async (problem: string, id?: number) => {
    if (account && verified) {
      await sendEmailHelp(db, account, { ticketId: id, problem, replyTo: id ? replyAddressFor(settings, id) : undefined });
    }
  };
  if (!ticketId) {
    await help('it was not sent to the reply address of a request (reply to the review email itself).');
    return { outcome: 'no_request' };
  }
  if (!verified) {
    await recordReplyRefusal(
      db,
      'email',
      ticketId,
      sender,
      'the sender could not be verified (no passing DKIM or SPF for its domain).',
      now,
    );
    return { outcome: 'unverified', ticketId };
  }
  const reply = parseEmailReply(mail);
  if (reply.kind === 'invalid') {
    await recordReplyRefusal(db, 'email', ticketId, sender, reply.problem, now);
    await help(reply.problem, ticketId);
    return { outcome: 'not_a_decision', ticketId };
  }
  const result = await decideByReply(db, 'email', ticketId, sender, reply.decision, reply.reason, settings, now);
  if (result.state === 'done') return { outcome: 'decided', ticketId };
  const problem =
    result.state === 'not_found'
      ? `there is no request #${ticketId} any more.`
      : result.state === 'deleted'
        ? `request #${ticketId} was deleted. Nothing changed.`
        : result.state === 'decided'
          ? `request #${ticketId} was already ${STATUS_LABELS[result.ticket.status].toLowerCase()}. Nothing changed.`
          : `this address cannot decide request #${ticketId}.`;
  await help(problem, result.state === 'not_found' ? undefined : ticketId);
  return { outcome: 'refused', ticketId };
}
