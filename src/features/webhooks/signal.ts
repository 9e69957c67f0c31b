import { EventEmitter } from 'node:events';

/**
 * "Deliveries are due": raised after a transaction that wrote deliveries commits (and at a redelivery),
 * so an in-process webhook worker sends at once instead of at its next poll. Other processes poll.
 */
const emitter = new EventEmitter();
emitter.setMaxListeners(0);

export function onDeliveriesDue(listener: () => void): () => void {
  emitter.on('due', listener);
  return () => emitter.off('due', listener);
}

export function deliveriesDue(): void {
  emitter.emit('due');
}
