import { z } from 'zod';
import { isoTime, personRef } from '../../http/openapi.ts';
import { integer, MAX_ID, optionalParam, optionalText } from '../../lib/schema.ts';
import { opticsRequestJson } from '../optics/schema.ts';
import { ticketJson } from '../tickets/schema.ts';

// ---- the events ------------------------------------------------------------------------------------

export const WEBHOOK_EVENTS = [
  'ticket.created',
  'ticket.status_changed',
  'stock.low',
  'reorder.suggested',
  'optics_request.created',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const sku = { cable_type: z.string(), cable_length: z.string() };
const place = z.object({ id: z.number().int(), name: z.string() });

/**
 * Each event's `data`: what the emitting feature hands emitEvent (typed by these, so a payload and its
 * description cannot drift; the webhook tests also validate every body a receiver gets against
 * the OpenAPI document's `webhooks` section).
 */
export const eventData = {
  'ticket.created': z.object({ ticket: ticketJson }),
  'ticket.status_changed': z.object({
    ticket: ticketJson,
    from_status: z.string(),
    to_status: z.string(),
    changed_by: personRef.nullable().meta({ description: 'Who moved it (null: an account since deleted).' }),
    via: z
      .enum(['review link', 'api', 'sms', 'email'])
      .nullable()
      .meta({ description: 'How the change arrived (null: the app’s pages).' }),
    reason: z.string().nullable().meta({ description: 'The rejection reason, or the note given with the change.' }),
  }),
  'stock.low': z.object({
    ...sku,
    on_hand: z.number().int(),
    reorder_threshold: z.number().int(),
  }),
  'reorder.suggested': z.object({
    suggestion_id: z.number().int(),
    kind: z.enum(['purchase', 'transfer']).meta({ description: 'Buy more, or move some from another location.' }),
    ...sku,
    location: place.meta({ description: 'Where the stock is short.' }),
    from_location: place.nullable().meta({ description: 'Where to move it from (a transfer; null for a purchase).' }),
    quantity: z.number().int().meta({ description: 'How much to buy or move.' }),
    on_hand: z.number().int(),
    reserved: z.number().int().meta({ description: 'Promised to approved requests, not yet taken.' }),
    min_quantity: z.number().int().meta({ description: 'The location’s reorder rule: below this, reorder…' }),
    max_quantity: z.number().int().meta({ description: '…up to this.' }),
  }),
  'optics_request.created': z.object({ optics_request: opticsRequestJson }),
} satisfies Record<WebhookEvent, z.ZodType>;
export type EventData<E extends WebhookEvent> = z.infer<(typeof eventData)[E]>;

/** The body of every webhook request: the event's name, when it happened, its data. */
export const envelopeOf = <E extends WebhookEvent>(type: E) =>
  z.object({
    type: z.literal(type),
    timestamp: isoTime.meta({ description: 'When the event happened (retries keep it).' }),
    data: eventData[type],
  });

// ---- requests ------------------------------------------------------------------------------------

/** Checkboxes send one value as a string and several as a list; JSON sends a list. */
const eventList = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z
    .array(z.enum(WEBHOOK_EVENTS, { error: `must be one of ${WEBHOOK_EVENTS.join(', ')}` }), {
      error: (iss) => (iss.input === undefined ? 'choose at least one event' : 'must be a list of events'),
    })
    .min(1, 'choose at least one event')
    .max(WEBHOOK_EVENTS.length)
    .transform((events) => [...new Set(events)]),
);

export const MAX_URL = 2048;

const targetUrl = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be text') })
  .trim()
  .min(1, 'is required')
  .max(MAX_URL, `must be at most ${MAX_URL} characters`)
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// address')
  .meta({ format: 'uri', description: 'Where events are POSTed. Redirects are not followed.' });

const enabledFlag = z.preprocess(
  (v) => (v === 'true' || v === 'on' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
  z.boolean({ error: 'must be true or false' }),
);

export const newSubscriptionSchema = z.object({
  url: targetUrl,
  events: eventList,
  description: optionalText(200),
});
export type NewSubscription = z.infer<typeof newSubscriptionSchema>;

/** An edit: only the fields sent change. `enabled: true` also clears the failure count. */
export const subscriptionEditSchema = z.object({
  url: targetUrl.optional(),
  events: eventList.optional(),
  description: optionalText(200),
  enabled: enabledFlag.optional(),
});
export type SubscriptionEdit = z.infer<typeof subscriptionEditSchema>;

export const DELIVERY_STATUSES = ['queued', 'sending', 'delivered', 'failed'] as const;

export const deliveriesQuerySchema = z.object({
  status: optionalParam(z.enum(DELIVERY_STATUSES, { error: `must be one of ${DELIVERY_STATUSES.join(', ')}` })),
  limit: optionalParam(integer(1, 100)),
  cursor: optionalParam(integer(1, MAX_ID)),
});
export type DeliveriesQuery = z.infer<typeof deliveriesQuerySchema>;

// ---- the JSON answers --------------------------------------------------------------------------------

export const subscriptionJson = z
  .object({
    id: z.number().int(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    enabled: z.boolean(),
    consecutive_failures: z.number().int().meta({ description: 'Deliveries given up in a row since the last success.' }),
    disabled_at: isoTime.nullable(),
    disabled_reason: z.string().nullable(),
    created_by: personRef.nullable(),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'WebhookSubscription' });
export type SubscriptionJson = z.infer<typeof subscriptionJson>;

/** A new subscription, or a new secret: the only answers that carry the secret. */
export const secretAnswerJson = z.object({
  message: z.string(),
  secret: z.string().meta({ description: 'whsec_ and base64: verify signatures with it. Shown this once.' }),
  webhook: subscriptionJson,
});

export const attemptJson = z
  .object({
    attempt: z.number().int(),
    outcome: z.enum(['delivered', 'failed', 'gave_up', 'refused']).meta({
      description:
        'delivered: a 2xx; failed: will be retried; gave_up: the last try, or a 410; refused: not sent (a private address, no secret).',
    }),
    status_code: z.number().int().nullable(),
    duration_ms: z.number().int(),
    error: z.string().nullable(),
    response_excerpt: z.string().nullable().meta({ description: 'The first 1 KB of the answer.' }),
    started_at: isoTime,
  })
  .meta({ id: 'WebhookAttempt' });
export type AttemptJson = z.infer<typeof attemptJson>;

export const deliveryJson = z
  .object({
    id: z.number().int(),
    subscription_id: z.number().int(),
    webhook_id: z.string().meta({ description: 'The webhook-id header: the same on every retry and redelivery.' }),
    event_type: z.enum(WEBHOOK_EVENTS),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    next_attempt_at: isoTime.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    delivered_at: isoTime.nullable(),
    created_at: isoTime,
    payload: z.looseObject({ type: z.string(), timestamp: z.string(), data: z.looseObject({}) }),
    attempt_log: z.array(attemptJson),
  })
  .meta({ id: 'WebhookDelivery' });
export type DeliveryJson = z.infer<typeof deliveryJson>;
