import { EventEmitter } from 'node:events';

/**
 * "The outbox has new due rows": raised after a transaction that enqueued rows commits, and when an
 * admin retries a row, so an in-process worker delivers at once instead of at its next poll. Other
 * processes (a separate `npm run worker`) simply poll; a missed signal only costs one poll interval.
 */
const emitter = new EventEmitter();
emitter.setMaxListeners(0);

export function onOutboxChange(listener: () => void): () => void {
  emitter.on('change', listener);
  return () => emitter.off('change', listener);
}

export function outboxChanged(): void {
  emitter.emit('change');
}
