import { z } from 'zod';
import { type ApiOperation, messageJson } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import {
  includeDeletedQuery,
  keepOffcutSchema,
  listQuerySchema,
  newTicketBody,
  statusChangeSchema,
  ticketChangeJson,
  ticketEditBody,
  ticketJson,
  ticketStatsJson,
} from './schema.ts';

/**
 * The tickets API as /api/openapi.json describes it, with the schemas the handlers parse with (a new
 * ticket's and an edit's bodies: the parts parseNewTicket and parseTicketEdit run, schema.ts).
 */

/** PATCH /api/tickets/:id: a status change, or fields to edit (only those present change), never both. */
const patchBody = z.union([
  statusChangeSchema.meta({ title: 'Status change', description: 'A move to another status, with a reason when rejecting.' }),
  ticketEditBody.meta({ title: 'Edit', description: 'Only a request waiting for approval, by its creator or an admin.' }),
]);

const ITEM = { cable_type: 'Cat6', cable_length: '100ft', cable_gauge: null, quantity: 2 };
const ITEM_ROW = { id: 81, ...ITEM, approved_quantity: null, approval_note: null };
const TIME = '2026-12-07T09:30:00.000Z';
export const exampleTicket = {
  id: 42,
  status: 'pending_approval',
  priority: 'medium',
  location: 'Building A, room 101',
  notes: 'Label both ends',
  rejection_reason: null,
  ...ITEM,
  items: [ITEM_ROW],
  created_by_id: 7,
  assigned_to_id: 3,
  created_by: { id: 7, username: 'tess' },
  assigned_to: { id: 3, username: 'sam.stock' },
  created_at: TIME,
  updated_at: TIME,
  deleted_at: null,
  deleted_by_id: null,
  source_location_id: 1,
} as const;
const changed = (message: string, status = 'approved') => ({ message, ticket: { ...exampleTicket, status } });

const tag = 'Tickets';
const id = { id: 42 };

export const ticketOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/tickets',
    tag,
    access: 'user',
    summary: 'List requests',
    description:
      'Newest first. `filter=mine` (created by you) or `assigned` (waiting on you); `status`; `q` searches location, notes and cables; deleted ones only with `include_deleted=true`.',
    query: listQuerySchema,
    paginated: true,
    responses: {
      200: {
        description: 'A page of requests.',
        schema: z.array(ticketJson),
        headers: { ETag: 'On PostgreSQL: the version of the data this page was made from.' },
        example: [exampleTicket],
      },
      304: { description: 'Not modified (PostgreSQL): nothing on the page named by If-None-Match has changed.' },
    },
    example: { query: { filter: 'assigned', status: 'pending_approval', limit: 20 } },
  },
  {
    method: 'post',
    path: '/api/tickets',
    tag,
    access: 'user',
    summary: 'File a request',
    description:
      'The assignee gets the review link by email and SMS. Every bad field is named at once in `fields` (items as `items.0.quantity`).',
    body: newTicketBody,
    responses: {
      201: {
        description: 'Filed.',
        schema: ticketChangeJson,
        headers: { Location: 'The new ticket: /api/tickets/{id}.' },
        example: { message: 'Ticket created', ticket: exampleTicket },
      },
    },
    example: {
      body: {
        assigned_to_id: 3,
        location: 'Building A, room 101',
        priority: 'high',
        items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
      },
    },
  },
  {
    method: 'get',
    path: '/api/tickets/:id',
    tag,
    access: 'user',
    summary: 'One request, with its timeline',
    params: idParam,
    query: includeDeletedQuery,
    errors: { 410: 'The ticket is deleted (ask with include_deleted=true).' },
    responses: {
      200: {
        description: 'The ticket and its events.',
        schema: ticketJson,
        example: {
          ...exampleTicket,
          events: [
            {
              id: 1,
              type: 'created',
              actor: { id: 7, username: 'tess' },
              via: null,
              from_status: null,
              to_status: 'pending_approval',
              note: null,
              acting_as: null,
              on_behalf_of: null,
              created_at: TIME,
            },
          ],
        },
      },
    },
    example: { params: id },
  },
  {
    method: 'patch',
    path: '/api/tickets/:id',
    tag,
    access: 'user',
    summary: 'Change the status, or edit',
    description:
      'A status change: the assignee or an admin (approve, reject: not the requester), along the state machine (pending_approval → approved | rejected; approved → in_progress | closed; …). An edit: the creator or an admin, while pending approval.',
    params: idParam,
    body: patchBody,
    errors: {
      403: 'Not yours to change: not the assignee (a status) or creator (an edit), nor an admin; or a read-only token.',
      409: 'Not a legal move from the current status, someone changed it first, or INVENTORY_ENFORCE_STOCK refused a fulfilment.',
      410: 'The ticket is deleted.',
    },
    responses: { 200: { description: 'Changed.', schema: ticketChangeJson, example: changed('Status changed to approved.') } },
    example: { params: id, body: { status: 'approved' } },
  },
  {
    method: 'delete',
    path: '/api/tickets/:id',
    tag,
    access: 'user',
    summary: 'Delete (restorable)',
    description: 'The creator or an admin. It can be restored, or purged by an admin.',
    params: idParam,
    errors: {
      403: 'Only the creator or an admin; or a read-only token.',
      409: 'Someone changed it first.',
      410: 'Already deleted.',
    },
    responses: { 200: { description: 'Deleted.', schema: messageJson, example: { message: 'Ticket deleted' } } },
    example: { params: id },
  },
  {
    method: 'post',
    path: '/api/tickets/:id/review-link',
    tag,
    access: 'user',
    summary: 'Send the review link again',
    description: 'A fresh link to the assignee by email and SMS; the old one stops working. At most once in 10 minutes.',
    params: idParam,
    errors: {
      403: 'Only the creator or an admin; or a read-only token.',
      409: 'Already decided, or a link went out less than 10 minutes ago.',
      410: 'The ticket is deleted.',
    },
    responses: {
      200: {
        description: 'Sent.',
        schema: ticketChangeJson,
        example: changed('A new review link is on its way to sam.stock.', 'pending_approval'),
      },
    },
    example: { params: id },
  },
  {
    method: 'post',
    path: '/api/tickets/:id/offcuts/keep',
    tag,
    access: 'user',
    summary: 'Keep an offcut',
    description: 'A reel it cut, left short. Scrap: POST /api/reels/:code/scrap.',
    params: idParam,
    body: keepOffcutSchema,
    errors: { 400: 'It cut no such reel.', 403: 'Not the assignee or an admin.', 410: 'The ticket is deleted.' },
    responses: {
      200: { description: 'Kept.', schema: ticketChangeJson, example: changed('Reel R-000007 kept as an offcut.', 'fulfilled') },
    },
    example: { params: id, body: { reel_code: 'R-000007' } },
  },
  {
    method: 'post',
    path: '/api/tickets/:id/restore',
    tag,
    access: 'user',
    summary: 'Restore a deleted request',
    params: idParam,
    errors: { 403: 'Only the creator or an admin; or a read-only token.', 409: 'Not deleted, or someone changed it first.' },
    responses: {
      200: {
        description: 'Restored to the status it had.',
        schema: ticketChangeJson,
        example: changed('Ticket restored.', 'pending_approval'),
      },
    },
    example: { params: id },
  },
  {
    method: 'delete',
    path: '/api/tickets/:id/purge',
    tag,
    access: 'admin',
    summary: 'Purge a deleted request for good',
    params: idParam,
    errors: { 409: 'Delete it first.' },
    responses: {
      200: { description: 'Gone, with its items and timeline.', schema: messageJson, example: { message: 'Ticket purged' } },
    },
    example: { params: id },
  },
  {
    method: 'get',
    path: '/api/dashboard/stats',
    tag,
    access: 'user',
    summary: 'Requests per status',
    responses: {
      200: {
        description: 'The counts.',
        schema: ticketStatsJson,
        example: {
          total_tickets: 12,
          pending_approval: 3,
          approved: 2,
          rejected: 1,
          in_progress: 2,
          fulfilled: 1,
          closed: 3,
          archived: 1,
        },
      },
    },
  },
];
