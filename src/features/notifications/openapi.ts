import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import { logQuerySchema, notificationJson, notificationPreviewJson } from './schema.ts';

const tag = 'Notifications';
const example = {
  id: 120,
  status: 'failed',
  channel: 'email',
  notification_type: 'ticket_created',
  recipient: 's***@example.com',
  recipient_user_id: 3,
  ticket_id: 42,
  optics_request_id: null,
  subject: 'Request #42 needs your approval',
  attempts: 6,
  provider: 'resend',
  provider_message_id: null,
  error_message: 'Resend 503: upstream trouble (gave up after 6 attempts)',
  next_attempt_at: null,
  created_at: '2026-12-07T09:30:00.000Z',
  sent_at: null,
  updated_at: '2026-12-07T11:02:00.000Z',
} as const;

export const notificationOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/notifications',
    tag,
    access: 'admin',
    summary: 'The notification log, newest first',
    description: 'Every email and SMS the app sent or will send, recipients masked, never the message bodies.',
    query: logQuerySchema,
    paginated: true,
    responses: { 200: { description: 'A page of the log.', schema: z.array(notificationJson), example: [example] } },
    example: { query: { status: 'failed' } },
  },
  {
    method: 'get',
    path: '/api/notifications/:id',
    tag,
    access: 'admin',
    summary: 'One message, as the provider gets it',
    description: 'The log row and the message: sender, masked recipient, subject, text and HTML.',
    params: idParam,
    responses: {
      200: {
        description: 'The message.',
        schema: notificationPreviewJson,
        example: {
          ...example,
          message: {
            from: 'Cable Ticketing <tickets@example.com>',
            to: 's***@example.com',
            subject: 'Request #42 needs your approval',
            text: 'Tess asks for 2 × Cat6 100ft for Building A, room 101.',
            html: '<p>Tess asks for 2 × Cat6 100ft for Building A, room 101.</p>',
            characters: 54,
          },
        },
      },
    },
    example: { params: { id: 120 } },
  },
  {
    method: 'post',
    path: '/api/notifications/:id/retry',
    tag,
    access: 'admin',
    summary: 'Send a failed message again',
    params: idParam,
    query: logQuerySchema,
    errors: { 409: 'Only a failed message can be retried.' },
    responses: {
      200: {
        description: 'Queued again, due now, with a fresh set of attempts.',
        schema: notificationJson,
        example: { ...example, status: 'queued', attempts: 0, error_message: null, next_attempt_at: '2026-12-07T11:05:00.000Z' },
      },
    },
    example: { params: { id: 120 } },
  },
];
