import type { ApiOperation } from '../../http/openapi.ts';
import { messageJson } from '../../http/openapi.ts';
import { exampleUser } from '../users/openapi.ts';
import { loginSchema, registerSchema } from '../users/schema.ts';
import { signInJson } from './schema.ts';

const tag = 'Accounts';
const signedIn = {
  access_token: 'q0b4…(43 characters)',
  token_type: 'Bearer',
  expires_in: 86400,
  expires_at: '2026-12-08T09:30:00.000Z',
  user: exampleUser,
} as const;

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
];
