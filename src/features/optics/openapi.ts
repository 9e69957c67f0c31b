import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import {
  listQuerySchema,
  opticsRequestDetailJson,
  opticsRequestJson,
  partSchema,
  statusActionSchema,
  submissionBody,
} from './schema.ts';

const tag = 'Optics';
const TIME = '2026-12-07T09:30:00.000Z';
export const exampleOpticsRequest = {
  id: 9,
  part_number: 'SFP-10G-SR',
  selected_part: 'SFP-10G-SR',
  other_part: null,
  quantity: 4,
  requester_name: 'Tess T',
  status: 'pending',
  admin_note: null,
  requested_by: { id: 7, username: 'tess' },
  decided_by: null,
  decided_at: null,
  created_at: TIME,
  updated_at: TIME,
} as const;
const parts = ['SFP-1G-SX', 'SFP-10G-SR', 'QSFP-100G-LR4', 'Other'];
const partsAnswer = z.object({ message: z.string(), parts: z.array(z.string()) });

export const opticsOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/optics-parts',
    tag,
    access: 'user',
    summary: 'The parts list',
    description: 'The parts on offer, followed by "Other".',
    responses: { 200: { description: 'Part numbers.', schema: z.array(z.string()), example: parts } },
  },
  {
    method: 'post',
    path: '/api/optics-parts',
    tag,
    access: 'admin',
    summary: 'Add a part',
    body: partSchema,
    errors: { 409: 'Already on the list.' },
    responses: { 201: { description: 'Added.', schema: partsAnswer, example: { message: 'SFP-25G-SR added', parts } } },
    example: { body: { part_number: 'SFP-25G-SR' } },
  },
  {
    method: 'delete',
    path: '/api/optics-parts/:part',
    tag,
    access: 'admin',
    summary: 'Remove a part',
    description: 'Requests already made keep their part.',
    params: z.object({ part: z.string().meta({ description: 'The part number (any case), URL-encoded.' }) }),
    errors: { 404: 'Not on the list.' },
    responses: { 200: { description: 'Removed.', schema: partsAnswer, example: { message: 'SFP-1G-SX removed', parts } } },
    example: { params: { part: 'SFP-1G-SX' } },
  },
  {
    method: 'post',
    path: '/api/optics-requests',
    tag,
    access: 'user',
    summary: 'Ask for optics',
    description: 'Admins (or OPTICS_ALERT_EMAILS) are emailed. Every bad field is named at once.',
    body: submissionBody,
    responses: {
      201: {
        description: 'Submitted.',
        schema: z.object({ message: z.string(), optics_request: opticsRequestJson }),
        headers: { Location: 'The request: /api/optics-requests/{id}.' },
        example: { message: 'Optics request submitted', optics_request: exampleOpticsRequest },
      },
    },
    example: { body: { selected_part: 'SFP-10G-SR', quantity: 4, requester_name: 'Tess T' } },
  },
  {
    method: 'get',
    path: '/api/optics-requests',
    tag,
    access: 'user',
    summary: 'Optics requests, newest first',
    description: 'Your own; admins see everyone’s. Archived ones only with include_archived=true or status=archived.',
    query: listQuerySchema,
    paginated: true,
    responses: {
      200: { description: 'A page of requests.', schema: z.array(opticsRequestJson), example: [exampleOpticsRequest] },
    },
    example: { query: { status: 'pending' } },
  },
  {
    method: 'get',
    path: '/api/optics-requests/:id',
    tag,
    access: 'user',
    summary: 'One optics request, with its history',
    description: 'Someone else’s request is a 404 unless you are an admin.',
    params: idParam,
    responses: {
      200: {
        description: 'The request and its events.',
        schema: opticsRequestDetailJson,
        example: {
          ...exampleOpticsRequest,
          events: [
            {
              id: 1,
              action: 'submitted',
              actor: { id: 7, username: 'tess' },
              from_status: null,
              to_status: 'pending',
              note: null,
              created_at: TIME,
            },
          ],
        },
      },
    },
    example: { params: { id: 9 } },
  },
  {
    method: 'patch',
    path: '/api/optics-requests/:id/status',
    tag,
    access: 'admin',
    summary: 'Approve, deny or archive',
    description: 'Approve and deny a pending request; archive any that is not archived yet. The requester is emailed.',
    params: idParam,
    body: statusActionSchema,
    errors: { 409: 'Not possible from its status, or another admin acted first.' },
    responses: {
      200: {
        description: 'Done.',
        schema: z.object({ message: z.string(), optics_request: opticsRequestJson }),
        example: {
          message: 'Optics request approved',
          optics_request: {
            ...exampleOpticsRequest,
            status: 'approved',
            decided_by: { id: 1, username: 'boss' },
            decided_at: TIME,
          },
        },
      },
    },
    example: { params: { id: 9 }, body: { action: 'approve', admin_note: 'Two are in the cage already' } },
  },
];
