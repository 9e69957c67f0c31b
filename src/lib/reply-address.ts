import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The per-request reply address of an approval email: `approve+<ticket>.<signature>@<domain>`, the
 * signature an HMAC of the ticket id with SECRET_KEY (80 bits, lower-case hex: mail systems may change
 * the case of a local part). It proves which request a reply is about, never who sent it.
 */
const signature = (ticketId: number, secret: string) =>
  createHmac('sha256', secret).update(`approval-reply:${ticketId}`).digest('hex').slice(0, 20);

export const replyAddress = (ticketId: number, domain: string, secret: string) =>
  `approve+${ticketId}.${signature(ticketId, secret)}@${domain.toLowerCase()}`;

const REPLY_LOCAL = /^approve\+(\d{1,10})\.([0-9a-f]{20})$/;

/** The ticket a reply address names when its signature is right and it is on `domain`; else undefined. */
export function ticketOfReplyAddress(address: string, domain: string, secret: string): number | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  const match = REPLY_LOCAL.exec(address.slice(0, at).toLowerCase());
  if (!match) return undefined;
  const id = Number(match[1]);
  if (!Number.isSafeInteger(id) || id < 1) return undefined;
  const expected = Buffer.from(signature(id, secret));
  const given = Buffer.from(match[2] as string);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : undefined;
}
