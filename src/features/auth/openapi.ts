import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { messageJson } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import { exampleUser } from '../users/openapi.ts';
import { loginSchema, registerSchema } from '../users/schema.ts';
import { createdTokenJson, newTokenSchema, personalTokenJson, signInJson } from './schema.ts';

const tag = 'Accounts';
const signedIn = {
  access_token: 'q0b4…(43 characters)',
  token_type: 'Bearer',
  expires_in: 86400,
  expires_at: '2026-12-08T09:30:00.000Z',
  user: exampleUser,
} as const;

const personalToken = {
  id: 4,
  name: 'inventory sync',
  scope: 'read',
  created_at: '2026-12-07T09:30:00.000Z',
  expires_at: '2027-03-07T09:30:00.000Z',
  last_used_at: '2026-12-07T10:02:00.000Z',
} as const;
const managers = 'A session or a sign-in token: a personal token cannot make or revoke tokens (403).';

export const authOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/login',
    tag,
    access: 'public',
    idempotent: false,
    rateLimited: true,
    summary: 'Sign in: a bearer token',
    description:
      'By username or email. The token has the account’s full power for AUTH_TOKEN_TTL_SECONDS; for a narrower, longer-lived one, make a personal token.',
    body: loginSchema,
    errors: { 401: 'Wrong username or password (the same answer for an unknown user).' },
    responses: { 200: { description: 'Signed in.', schema: signInJson, example: { message: 'Signed in.', ...signedIn } } },
    example: { body: { username: 'tess', password: 'correct horse battery' } },
  },
  {
    method: 'post',
    path: '/api/register',
    tag,
    access: 'public',
    idempotent: false,
    rateLimited: true,
    summary: 'Create an account',
    description: 'The very first account becomes an admin. `role` is honoured only when an admin is the caller.',
    body: registerSchema,
    errors: { 409: 'The username or email is already registered.' },
    responses: {
      201: { description: 'Created, and signed in.', schema: signInJson, example: { message: 'Account created.', ...signedIn } },
    },
    example: { body: { username: 'tess', email: 'tess@example.com', password: 'correct horse battery', phone: '+12025550142' } },
  },
  {
    method: 'post',
    path: '/api/logout',
    tag,
    access: 'public',
    idempotent: false,
    summary: 'Sign out',
    description: 'Revokes the bearer token the request carries (or ends the cookie session).',
    responses: { 200: { description: 'Signed out.', schema: messageJson, example: { message: 'Signed out.' } } },
  },
  {
    method: 'get',
    path: '/api/tokens',
    tag,
    access: 'user',
    summary: 'Your personal tokens',
    description: 'The ones that still work (not revoked, not expired), newest first; never the tokens themselves.',
    responses: { 200: { description: 'Your tokens.', schema: z.array(personalTokenJson), example: [personalToken] } },
  },
  {
    method: 'post',
    path: '/api/tokens',
    tag,
    access: 'user',
    summary: 'Make a personal token',
    description: `Named, \`read\` or \`write\`, expiring after at most a year; shown once, stored hashed. ${managers}`,
    body: newTokenSchema,
    errors: { 403: managers, 409: 'You already have 50 working personal tokens.' },
    responses: {
      201: {
        description: 'Made: copy access_token now, it is not shown again.',
        schema: createdTokenJson,
        example: {
          message: 'Token “inventory sync” created. Copy it now: it is not shown again.',
          access_token: 'ctp_…(43 characters)',
          token_type: 'Bearer',
          token: { ...personalToken, last_used_at: null },
        },
      },
    },
    example: { body: { name: 'inventory sync', scope: 'read', expires_in_days: 90 } },
  },
  {
    method: 'delete',
    path: '/api/tokens/:id',
    tag,
    access: 'user',
    summary: 'Revoke a personal token',
    description: `It stops working with the next request. ${managers}`,
    params: idParam,
    errors: { 403: managers, 404: 'You have no working personal token with that id.' },
    responses: { 200: { description: 'Revoked.', schema: messageJson, example: { message: 'Token revoked.' } } },
    example: { params: { id: 4 } },
  },
];
