import { Client } from './client.ts';

/**
 * Records the body of every response any `Client` receives in this test process (each ava file
 * is its own process), so a file can check that something never appeared in any response.
 */
export function recordResponseBodies(): string[] {
  const bodies: string[] = [];
  const original = Client.prototype.request;
  Client.prototype.request = async function recorded(this: Client, ...args: Parameters<Client['request']>) {
    const reply = await original.apply(this, args);
    bodies.push(reply.text);
    return reply;
  };
  return bodies;
}

/** Strings that would mean a password hash left the server. */
export const HASH_MARKERS = ['password_hash', 'scrypt$'];
