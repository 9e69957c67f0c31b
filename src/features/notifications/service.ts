import type { NotificationSettings } from '../../config.ts';
import { type Db, nowIso } from '../../db/index.ts';
import { conflict, notFound } from '../../http/errors.ts';
import { keysetPage } from '../../lib/keyset.ts';
import { createChannels, emailFrom } from './delivery.ts';
import { countOpen, findLogRow, findMessage, type LogFilter, listLog, type NotificationRow, requeueFailed } from './queries.ts';

/** For monitoring (metrics/): rows per status, and when the longest-waiting due row became due. */
export { notificationCounts, oldestDueQueuedAt } from './queries.ts';

import { outboxChanged } from './signal.ts';
import { outgoingMessage } from './worker.ts';

/** One page of the log, newest first, and the cursor of the next page when there is one. */
export async function notificationLogPage(db: Db, filter: LogFilter) {
  return keysetPage(await listLog(db, filter), filter.limit, (n) => n.id);
}

/** Rows waiting and in flight (the queue depth), and failed ones awaiting an admin. */
export const queueCounts = (db: Db) => countOpen(db);

/** An admin's retry: a failed row goes back to the queue, due now, with a fresh set of attempts. */
export async function retryNotification(db: Db, id: number): Promise<NotificationRow> {
  const row = await findLogRow(db, id);
  if (!row) throw notFound('No notification with that id.');
  if (row.status !== 'failed' || !(await requeueFailed(db, id, nowIso()))) {
    const now = (await findLogRow(db, id))?.status ?? row.status;
    throw conflict(`Only a failed notification can be retried; this one is ${now}.`);
  }
  outboxChanged();
  return (await findLogRow(db, id)) as NotificationRow;
}

/**
 * One notification as an admin previews it: the row, and the message exactly as the worker hands it
 * to a provider (the stored subject and bodies: nothing is rendered again), with the sender it would
 * go out from under the current configuration.
 */
export async function notificationPreview(db: Db, id: number, settings: NotificationSettings) {
  const row = await findMessage(db, id);
  if (!row) throw notFound('No notification with that id.');
  const message = outgoingMessage(row, row.recipient_address ?? '');
  const from = row.channel === 'email' ? emailFrom(settings) : (settings.twilio.phoneNumber ?? null);
  return { row, message, from };
}
export type NotificationPreview = Awaited<ReturnType<typeof notificationPreview>>;

/** Why a channel sends nothing (no provider configured), by channel: the log page says its messages are kept for preview. */
export const unconfiguredChannels = (settings: NotificationSettings) => createChannels(settings).unconfigured;
