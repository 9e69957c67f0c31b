import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Webhook secrets. The app signs every delivery with the subscription's secret, so it must be able to
 * read it back (a hash would not do): it is stored encrypted with AES-256-GCM under a key derived
 * from SECRET_KEY (HKDF-SHA256), so a copy of the database alone does not let anyone forge
 * deliveries. Changing SECRET_KEY makes stored secrets unreadable: their deliveries fail saying so
 * until an admin rotates each secret.
 */

const PREFIX = 'whsec_';
const VERSION = 'v1';

/** A new secret as Standard Webhooks writes one: `whsec_` and 24 random bytes in base64. */
export const newWebhookSecret = (): string => PREFIX + randomBytes(24).toString('base64');

const keyOf = (secretKey: string) => Buffer.from(hkdfSync('sha256', secretKey, 'cable-ticketing', 'webhook-secrets', 32));

export function encryptSecret(secret: string, secretKey: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secretKey), iv);
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export class UnreadableSecret extends Error {
  override name = 'UnreadableSecret';
}

/** The secret back; UnreadableSecret when SECRET_KEY is not the one it was stored under (or the value is damaged). */
export function decryptSecret(stored: string, secretKey: string): string {
  const [version, iv, tag, body] = stored.split('.');
  if (version !== VERSION || !iv || !tag || !body)
    throw new UnreadableSecret('The stored webhook secret is not in a known form.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secretKey), Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new UnreadableSecret('The webhook secret cannot be read with this SECRET_KEY (was it changed?): rotate the secret.');
  }
}
