import type { TestFn } from 'ava';
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
const HASH_MARKERS = ['password_hash', 'scrypt$'];

/**
 * Records every response of the file's tests and, after them, checks that none carried a password
 * hash; `atLeast` guards against a file whose requests stopped going through `Client`.
 */
export function checkNoPasswordHashInResponses(test: TestFn, atLeast: number): void {
  const bodies = recordResponseBodies();
  test.after('no response in this file carried a password hash', (t) => {
    t.true(bodies.length > atLeast, `${bodies.length} responses recorded`);
    for (const marker of HASH_MARKERS) {
      t.false(
        bodies.some((b) => b.includes(marker)),
        marker,
      );
    }
  });
}
