/**
 * What an approver wrote back to a review email: the first line that is not a quotation decides.
 * `YES` / `APPROVE` approves as asked; `NO <reason>` / `REJECT <reason>` rejects. Below it anything
 * goes (a signature, the quoted review email). Quoted replies in the shapes mail programs write them
 * are recognised, so that a reply with nothing above the quotation decides nothing: Gmail's
 * "On <date>, <name> wrote:" and `>` lines, Outlook's "From: … Sent: …" block and
 * "-----Original Message-----", and HTML-only mails (tags stripped, quotations cut).
 */

export type EmailReply =
  | { kind: 'decision'; decision: 'approved' | 'rejected'; reason?: string }
  | { kind: 'invalid'; problem: string };

const MAX_REASON = 500;
/** The answer is at the top: only this much of a body is looked at (also bounds the work on hostile HTML). */
const MAX_SCANNED = 64 * 1024;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** An HTML body as text: scripts and styles dropped, quotations cut, blocks as lines, entities decoded. */
export function htmlToText(html: string): string {
  return (
    html
      .slice(0, MAX_SCANNED)
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
      // Where the quotation starts, the answer has ended: Gmail's quote block, Outlook's reply header, a blockquote.
      .replace(/<(div|blockquote)\b[^>]*(gmail_quote|divRplyFwdMsg|appendonsend|type="?cite)[\s\S]*$/i, '\n> \n')
      .replace(/<blockquote\b[\s\S]*$/i, '\n> \n')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(p|div|li|tr|h[1-6]|table|ul|ol)\s*>/gi, '\n')
      .replace(/<hr\b[^>]*>/gi, '\n________________________________\n')
      .replace(/<[^>]*>/g, '')
      .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
        if (name[0] === '#') {
          const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
          return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
        }
        return ENTITIES[name.toLowerCase()] ?? whole;
      })
  );
}

/** Lines that start a quotation or a signature: the answer is above them or nowhere. */
const QUOTE_STARTS = [
  /^>/,
  /^-{2,}\s*original message\s*-{2,}/i,
  /^_{10,}\s*$/,
  /^(from|von|de|van):\s/i,
  /^-- ?$/,
  /^sent from my /i,
];
/** Gmail's attribution line, possibly wrapped over two or three lines by the mail program. */
const ATTRIBUTION = /^on\s.{1,300}wrote:\s*$/i;

/** The first line of the answer, or undefined when the reply starts with a quotation (or is empty). */
export function firstAnswerLine(text: string): string | undefined {
  const lines = text.slice(0, MAX_SCANNED).replace(/\r\n?/g, '\n').split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/[\u00a0\u200b\ufeff]/g, ' ').trim();
    if (!line) continue;
    if (QUOTE_STARTS.some((re) => re.test(line))) return undefined;
    const joined = [line, lines[n + 1]?.trim(), lines[n + 2]?.trim()].filter(Boolean);
    if (/^on\s/i.test(line) && [1, 2, 3].some((k) => ATTRIBUTION.test(joined.slice(0, k).join(' ')))) return undefined;
    return line;
  }
  return undefined;
}

/** The decision in a reply's body (text, or the HTML when the mail has no text part). */
export function parseEmailReply(body: { text?: string; html?: string }): EmailReply {
  const text = body.text?.trim() ? body.text : body.html ? htmlToText(body.html) : '';
  const line = firstAnswerLine(text);
  if (!line) return { kind: 'invalid', problem: 'there is no answer above the quoted message.' };
  if (/^(yes|approve|approved)[.!]*$/i.test(line)) return { kind: 'decision', decision: 'approved' };
  const no = /^(no|reject|rejected)\b[\s:,.!-]*(.*)$/i.exec(line);
  if (!no) return { kind: 'invalid', problem: 'the first line is not YES, APPROVE, NO <reason> or REJECT <reason>.' };
  const reason = (no[2] ?? '').trim();
  if (!reason) return { kind: 'invalid', problem: 'NO needs a reason on the same line, e.g. "NO out of stock".' };
  if (reason.length > MAX_REASON) return { kind: 'invalid', problem: `the reason is longer than ${MAX_REASON} characters.` };
  return { kind: 'decision', decision: 'rejected', reason };
}

// ---- who sent it, and is it really them -------------------------------------------------------

/** The address in a From field (`Name <a@b>` or `a@b`), lower-cased; undefined when there is none. */
export function senderAddress(from: string | undefined): string | undefined {
  if (!from) return undefined;
  const angle = /<\s*([^<>\s@]+@[^<>\s@]+)\s*>\s*$/.exec(from);
  const bare = /^\s*([^<>\s@"]+@[^<>\s@]+)\s*$/.exec(from);
  const address = (angle?.[1] ?? bare?.[1])?.toLowerCase();
  return address && /^[^@]+@[a-z0-9.-]+\.[a-z]{2,}$/.test(address) ? address : undefined;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/**
 * `signer` speaks for `domain`: the same, or one a subdomain of the other (DMARC's relaxed alignment,
 * short of the public suffix list: subdomains are given out by their parent domain's owner).
 */
const aligned = (domain: string, signer: string) =>
  domain === signer || domain.endsWith(`.${signer}`) || signer.endsWith(`.${domain}`);

/**
 * Whether SendGrid's checks vouch for `sender`: a DKIM signature that passed for the sender's domain
 * (SendGrid's `dkim` field, e.g. `{@example.com : pass}`), or SPF passing (`SPF` field) for an
 * envelope sender of the same domain. A From header alone is easy to forge.
 */
export function senderAuthenticated(sender: string, fields: { dkim?: string; SPF?: string; envelope?: string }): boolean {
  const domain = domainOf(sender);
  for (const m of (fields.dkim ?? '').matchAll(/@?([a-z0-9.-]+\.[a-z]{2,})\s*:\s*([a-z]+)/gi)) {
    if ((m[2] as string).toLowerCase() === 'pass' && aligned(domain, (m[1] as string).toLowerCase())) return true;
  }
  if ((fields.SPF ?? '').trim().toLowerCase() !== 'pass') return false;
  let envelopeFrom: unknown;
  try {
    envelopeFrom = (JSON.parse(fields.envelope ?? '{}') as { from?: unknown }).from;
  } catch {
    return false;
  }
  return typeof envelopeFrom === 'string' && envelopeFrom.includes('@') && aligned(domain, domainOf(envelopeFrom));
}
