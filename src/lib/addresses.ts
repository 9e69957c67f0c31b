/**
 * Phone numbers and email addresses: normalised for comparison, masked wherever a person or a log
 * could read them (the admin log, provider error texts, audit notes).
 */

/** E.164 (`+12025551234`) from what people and providers write (`+1 (202) 555-1234`); null if it is not one. */
export function normalizePhone(value: string | null | undefined): string | null {
  if (!value) return null;
  const compact = value.trim().replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{6,14}$/.test(compact) ? compact : null;
}

/** `+12025551234` → `+1******1234`: the first digit and the last four stay. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '*'.repeat(digits.length);
  return `${phone.trim().startsWith('+') ? '+' : ''}${digits.slice(0, 1)}${'*'.repeat(digits.length - 5)}${digits.slice(-4)}`;
}

/** `alice@example.com` → `a***@example.com`. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

export const maskAddress = (channel: string, address: string | null): string | null =>
  address === null ? null : channel === 'sms' ? maskPhone(address) : maskEmail(address);

const EMAIL_IN_TEXT = /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[A-Za-z]{2,}/g;
const PHONE_IN_TEXT = /\+?\d[\d ().-]{6,}\d/g;

/**
 * Provider error texts quote the address they refused ("The 'To' number +1… is not valid"); they go
 * to the database, the admin page and the logs only with addresses masked, and only so long.
 */
export function scrubText(text: string, max = 500): string {
  const scrubbed = text
    .replace(EMAIL_IN_TEXT, (m) => maskEmail(m))
    .replace(PHONE_IN_TEXT, (m) => (m.replace(/\D/g, '').length >= 7 ? maskPhone(m) : m))
    .replace(/\s+/g, ' ')
    .trim();
  return scrubbed.length <= max ? scrubbed : `${scrubbed.slice(0, max - 1)}…`;
}
