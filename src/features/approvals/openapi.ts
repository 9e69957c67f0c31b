import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import { exampleTicket } from '../tickets/openapi.ts';
import {
  decisionAnswerJson,
  decisionSchema,
  inboundEmailAnswerJson,
  inboundEmailSchema,
  inboundSmsSchema,
  linkDecisionJson,
  linkParams,
  reasonSchema,
} from './schema.ts';

const tag = 'Approvals';
const params = { id: 42, token: 'R3v…(the secret from the link)' };
const decided = (status: 'approved' | 'rejected') => ({
  message: `Ticket ${status}`,
  status,
  ticket: { ...exampleTicket, status },
});

/** The seed's JSON review-link routes: the link's secret is the authority, so anyone holding it may decide. */
const linkRoutes = (['approve', 'reject'] as const).flatMap((decision): ApiOperation[] => {
  const status = decision === 'approve' ? 'approved' : 'rejected';
  const common = {
    path: `/api/tickets/:id/${decision}/:token`,
    tag,
    access: 'link' as const,
    params: linkParams,
    rateLimited: true,
    errors: {
      403: 'The token is not this ticket’s review link.',
      404: 'No ticket with that id.',
      410: 'The link expired, or the ticket was deleted.',
    },
    responses: {
      200: {
        description: `${status === 'approved' ? 'Approved' : 'Rejected'} now, or already decided (then nothing changed).`,
        schema: linkDecisionJson,
        example: decided(status),
      },
    },
  };
  return [
    {
      ...common,
      method: 'get',
      summary: `${decision === 'approve' ? 'Approve' : 'Reject'} through a review link (GET, for old clients)`,
      description: 'Kept for the seed’s clients; a mail scanner opening links would decide too, so the review page asks first.',
      query: reasonSchema.pick({ reason: true }),
      example: { params },
    },
    {
      ...common,
      method: 'post',
      summary: `${decision === 'approve' ? 'Approve' : 'Reject'} through a review link`,
      body: reasonSchema,
      bodyRequired: false,
      example: { params, body: decision === 'reject' ? { reason: 'Use the spare Cat6 in room 12' } : {} },
    },
  ];
});

const inbound = {
  tag,
  idempotent: false,
  rateLimited: true,
  body: inboundEmailSchema,
  bodyType: 'multipart' as const,
  responses: {
    200: {
      description: 'Read: what became of it (never a retry-worthy error, or SendGrid would send it again).',
      schema: inboundEmailAnswerJson,
      example: { outcome: 'decided', ticketId: 42 },
    },
  },
  errors: {
    404: 'Replies by email are not configured (INBOUND_EMAIL_DOMAIN, INBOUND_EMAIL_SECRET), or a wrong secret in the path.',
  },
};

export const approvalOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/tickets/:id/decision',
    tag,
    access: 'user',
    summary: 'Approve or reject, signed in',
    description:
      'The assignee, their delegate while they are away, or an admin. An approval may grant less than was asked per item (`items[].approved_quantity`, 0 drops a line); every line at 0 is a rejection.',
    params: idParam,
    body: decisionSchema,
    errors: {
      403: 'Not yours to decide (nor your delegator’s), or your own request; or a read-only token.',
      409: 'Already decided, or edited while you were deciding.',
      410: 'The ticket is deleted.',
    },
    responses: {
      200: {
        description: 'Decided.',
        schema: decisionAnswerJson,
        example: { message: 'Request approved.', status: 'approved', ticket: { ...exampleTicket, status: 'approved' } },
      },
    },
    example: {
      params: { id: 42 },
      body: { decision: 'approve', items: [{ item_id: 81, approved_quantity: 1, note: 'one is in the van' }] },
    },
  },
  {
    ...inbound,
    method: 'post',
    path: '/api/inbound/email',
    access: 'inbound',
    summary: 'SendGrid’s Inbound Parse webhook (replies by email)',
    description:
      'Point Inbound Parse for INBOUND_EMAIL_DOMAIN at `https://inbound:<INBOUND_EMAIL_SECRET>@host/api/inbound/email`. A reply from the assignee’s address starting YES or NO decides the request its reply address names.',
    errors: { ...inbound.errors, 401: 'Without the inbound email secret.' },
  },
  {
    ...inbound,
    method: 'post',
    path: '/api/inbound/email/:secret',
    access: 'link',
    summary: 'SendGrid’s Inbound Parse webhook, the secret in the path',
    description: 'For a proxy that drops the Authorization header: `https://host/api/inbound/email/<INBOUND_EMAIL_SECRET>`.',
    params: z.object({ secret: z.string().meta({ description: 'INBOUND_EMAIL_SECRET.' }) }),
  },
  ...linkRoutes,
  {
    method: 'post',
    path: '/api/twilio/sms',
    tag,
    access: 'twilio',
    idempotent: false,
    rateLimited: true,
    summary: 'Twilio’s inbound SMS webhook',
    description:
      'Point the number’s “A message comes in” webhook here. `YES 12` approves request 12 and `NO 12 reason` rejects it, from the phone number in the assignee’s account; anything else gets a short help reply.',
    body: inboundSmsSchema,
    bodyType: 'form',
    errors: { 403: 'Not signed by Twilio (or TWILIO_AUTH_TOKEN is not set).' },
    responses: {
      200: {
        description: 'TwiML: the text Twilio sends back.',
        contentType: 'text/xml',
        example: '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Request #12 approved.</Message></Response>',
      },
    },
    example: { body: { From: '+12025550142', Body: 'YES 12' } },
  },
];
