import { z } from 'zod';
import { type ApiOperation, messageJson, type WebhookEventDoc } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import { exampleOpticsRequest } from '../optics/openapi.ts';
import { exampleTicket } from '../tickets/openapi.ts';
import {
  deliveriesQuerySchema,
  deliveryJson,
  envelopeOf,
  newSubscriptionSchema,
  secretAnswerJson,
  subscriptionEditSchema,
  subscriptionJson,
} from './schema.ts';

const tag = 'Webhooks';
const TIME = '2026-12-07T09:30:00.000Z';
const webhook = {
  id: 3,
  url: 'https://erp.example.com/hooks/cable',
  description: 'ERP stock sync',
  events: ['stock.low', 'ticket.created'],
  enabled: true,
  consecutive_failures: 0,
  disabled_at: null,
  disabled_reason: null,
  created_by: { id: 1, username: 'boss' },
  created_at: TIME,
  updated_at: TIME,
} as const;
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const stockLow = { cable_type: 'Cat6', cable_length: '100ft', on_hand: 8, reorder_threshold: 10 };
const delivery = {
  id: 77,
  subscription_id: 3,
  webhook_id: 'msg_2Lqo1v7bX9dG0kT4mWc3Eg',
  event_type: 'stock.low',
  status: 'delivered',
  attempts: 2,
  next_attempt_at: null,
  last_status_code: 200,
  last_error: null,
  delivered_at: '2026-12-07T09:30:41.000Z',
  created_at: TIME,
  payload: { type: 'stock.low', timestamp: TIME, data: stockLow },
  attempt_log: [
    {
      attempt: 1,
      outcome: 'failed',
      status_code: 503,
      duration_ms: 84,
      error: 'The receiver answered 503.',
      response_excerpt: 'Service Unavailable',
      started_at: TIME,
    },
    {
      attempt: 2,
      outcome: 'delivered',
      status_code: 200,
      duration_ms: 41,
      error: null,
      response_excerpt: 'ok',
      started_at: '2026-12-07T09:30:40.000Z',
    },
  ],
} as const;
const id = { id: 3 };

export const webhookOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/webhooks',
    tag,
    access: 'admin',
    summary: 'Webhook subscriptions',
    responses: {
      200: { description: 'Every subscription (never its secret).', schema: z.array(subscriptionJson), example: [webhook] },
    },
  },
  {
    method: 'post',
    path: '/api/webhooks',
    tag,
    access: 'admin',
    summary: 'Subscribe a URL to events',
    description:
      'The answer holds the signing secret, this once. A URL naming a private, loopback or link-local address is refused now; names are checked again after DNS at each delivery (WEBHOOK_ALLOW_PRIVATE lifts both).',
    body: newSubscriptionSchema,
    responses: {
      201: {
        description: 'Subscribed.',
        schema: secretAnswerJson,
        headers: { Location: 'The subscription: /api/webhooks/{id}.' },
        example: { message: 'Webhook #3 created. Copy its secret now: it is not shown again.', secret, webhook },
      },
    },
    example: {
      body: {
        url: 'https://erp.example.com/hooks/cable',
        events: ['stock.low', 'ticket.created'],
        description: 'ERP stock sync',
      },
    },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id',
    tag,
    access: 'admin',
    summary: 'One subscription',
    params: idParam,
    responses: { 200: { description: 'The subscription.', schema: subscriptionJson, example: webhook } },
    example: { params: id },
  },
  {
    method: 'patch',
    path: '/api/webhooks/:id',
    tag,
    access: 'admin',
    summary: 'Change a subscription, or enable or disable it',
    description: 'Only the fields sent change. Disabling fails what is still waiting; enabling starts a fresh count of failures.',
    params: idParam,
    body: subscriptionEditSchema,
    responses: {
      200: {
        description: 'Saved.',
        schema: z.object({ message: z.string(), webhook: subscriptionJson }),
        example: {
          message: 'Webhook saved.',
          webhook: { ...webhook, enabled: false, disabled_at: TIME, disabled_reason: 'Disabled by an admin.' },
        },
      },
    },
    example: { params: id, body: { enabled: false } },
  },
  {
    method: 'delete',
    path: '/api/webhooks/:id',
    tag,
    access: 'admin',
    summary: 'Delete a subscription, with its delivery log',
    params: idParam,
    responses: { 200: { description: 'Deleted.', schema: messageJson, example: { message: 'Webhook deleted.' } } },
    example: { params: id },
  },
  {
    method: 'post',
    path: '/api/webhooks/:id/secret',
    tag,
    access: 'admin',
    summary: 'A new signing secret',
    description: 'The old secret stops signing at once. The new one is in this answer only.',
    params: idParam,
    responses: {
      200: {
        description: 'The new secret.',
        schema: secretAnswerJson,
        example: { message: 'A new secret: the old one no longer signs. Copy it now: it is not shown again.', secret, webhook },
      },
    },
    example: { params: id },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id/deliveries',
    tag,
    access: 'admin',
    summary: 'The delivery log',
    description:
      'Newest first: each delivery with the body it sends and every attempt (status, time taken, the first 1 KB of the answer).',
    params: idParam,
    query: deliveriesQuerySchema,
    paginated: true,
    responses: { 200: { description: 'A page of deliveries.', schema: z.array(deliveryJson), example: [delivery] } },
    example: { params: id, query: { status: 'failed' } },
  },
  {
    method: 'post',
    path: '/api/webhook-deliveries/:id/redeliver',
    tag,
    access: 'admin',
    summary: 'Send a delivery again',
    description: 'A delivered or failed delivery, due now with a fresh set of attempts and the same webhook-id.',
    params: idParam,
    errors: { 409: 'It is waiting or being sent already, or its webhook is disabled.' },
    responses: {
      200: {
        description: 'Queued again.',
        schema: z.object({ message: z.string(), delivery: deliveryJson }),
        example: { message: 'Queued again.', delivery: { ...delivery, status: 'queued', attempts: 0, next_attempt_at: TIME } },
      },
    },
    example: { params: { id: 77 } },
  },
];

/** The events, as the document's `webhooks` section describes them. */
export const webhookEventDocs: WebhookEventDoc[] = [
  {
    name: 'ticket.created',
    summary: 'A request was filed',
    payload: envelopeOf('ticket.created'),
    example: { type: 'ticket.created', timestamp: TIME, data: { ticket: exampleTicket } },
  },
  {
    name: 'ticket.status_changed',
    summary: 'A request moved to another status',
    description: 'Approved, rejected, in progress, fulfilled, closed: from the app, the API, a review link or an SMS reply.',
    payload: envelopeOf('ticket.status_changed'),
    example: {
      type: 'ticket.status_changed',
      timestamp: TIME,
      data: {
        ticket: { ...exampleTicket, status: 'approved' },
        from_status: 'pending_approval',
        to_status: 'approved',
        changed_by: { id: 3, username: 'sam.stock' },
        via: 'review link',
        reason: null,
      },
    },
  },
  {
    name: 'stock.low',
    summary: 'A cable SKU fell to or below its reorder threshold',
    description: 'At most once per SKU per 24 hours, like the admins’ email.',
    payload: envelopeOf('stock.low'),
    example: { type: 'stock.low', timestamp: TIME, data: stockLow },
  },
  {
    name: 'reorder.suggested',
    summary: 'A reorder is suggested',
    description:
      'Available stock at a location fell below its reorder rule: buy (a warehouse), or move stock from the default warehouse (a van or site). Sent once, when the suggestion opens, in the transaction that moved the stock.',
    payload: envelopeOf('reorder.suggested'),
    example: {
      type: 'reorder.suggested',
      timestamp: TIME,
      data: {
        suggestion_id: 17,
        kind: 'transfer',
        cable_type: 'Cat6',
        cable_length: '100ft',
        location: { id: 2, name: 'Van 12' },
        from_location: { id: 1, name: 'Main warehouse' },
        quantity: 6,
        on_hand: 2,
        reserved: 1,
        min_quantity: 4,
        max_quantity: 8,
      },
    },
  },
  {
    name: 'optics_request.created',
    summary: 'Optics were asked for',
    payload: envelopeOf('optics_request.created'),
    example: { type: 'optics_request.created', timestamp: TIME, data: { optics_request: exampleOpticsRequest } },
  },
];

/** The Standard Webhooks headers every delivery carries. */
export const webhookHeaders: Record<string, string> = {
  'webhook-id': 'The message id (`msg_…`): the same on every retry and redelivery, so repeats can be dropped.',
  'webhook-timestamp': 'When this attempt was signed, in seconds since 1970: refuse it when far from your clock (5 minutes).',
  'webhook-signature':
    '`v1,` and base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret (base64 after `whsec_`).',
};
