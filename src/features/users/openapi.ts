import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { messageJson } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import { delegationJson, delegationSchema, roleChangeSchema, userJson } from './schema.ts';

export const exampleUser = {
  id: 7,
  username: 'tess',
  email: 'tess@example.com',
  phone: '+12025550142',
  role: 'user',
  created_at: '2026-12-01T08:00:00.000Z',
} as const;
const { phone: _phone, ...withoutPhone } = exampleUser;

const tag = 'Users';
const delegation = {
  delegate: { id: 3, username: 'sam.stock' },
  away_from: '2027-01-04T00:00:00.000Z',
  away_until: '2027-01-09T00:00:00.000Z',
  active: false,
};
const delegationAnswer = z.object({ delegation: delegationJson.nullable() });

export const userOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/users',
    tag,
    access: 'user',
    summary: 'Everyone with an account',
    description: 'Phone numbers only for yourself, or for everyone when you are an admin.',
    responses: { 200: { description: 'The accounts.', schema: z.array(userJson), example: [withoutPhone] } },
  },
  {
    method: 'get',
    path: '/api/users/:id',
    tag,
    access: 'user',
    summary: 'One account',
    params: idParam,
    responses: { 200: { description: 'The account.', schema: userJson, example: exampleUser } },
    example: { params: { id: 7 } },
  },
  {
    method: 'patch',
    path: '/api/users/:id/role',
    tag,
    access: 'admin',
    summary: 'Make someone an admin, or a user again',
    params: idParam,
    body: roleChangeSchema,
    errors: { 409: 'This is the only admin: make someone else an admin first.' },
    responses: {
      200: { description: 'The account with its new role.', schema: userJson, example: { ...exampleUser, role: 'admin' } },
    },
    example: { params: { id: 7 }, body: { role: 'admin' } },
  },
  {
    method: 'get',
    path: '/api/me/delegation',
    tag,
    access: 'user',
    summary: 'Your delegate while you are away',
    responses: { 200: { description: 'Your delegation, or null.', schema: delegationAnswer, example: { delegation } } },
  },
  {
    method: 'put',
    path: '/api/me/delegation',
    tag,
    access: 'user',
    summary: 'Set who decides for you while you are away',
    description: 'Requests assigned to you in that period may be decided by the delegate (and reminders go to them).',
    body: delegationSchema,
    responses: { 200: { description: 'Saved.', schema: delegationAnswer, example: { delegation } } },
    example: { body: { delegate: 'sam.stock', away_from: '2027-01-04', away_until: '2027-01-08' } },
  },
  {
    method: 'delete',
    path: '/api/me/delegation',
    tag,
    access: 'user',
    summary: 'No delegate any more',
    responses: {
      200: {
        description: 'Removed (or there was none).',
        schema: messageJson.extend({ delegation: z.null() }),
        example: { message: 'Delegation removed.', delegation: null },
      },
    },
  },
];
