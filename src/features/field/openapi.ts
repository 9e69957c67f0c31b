import { z } from 'zod';
import { type ApiOperation, personRef } from '../../http/openapi.ts';

export const fieldOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/session',
    tag: 'Accounts',
    access: 'user',
    summary: 'Who is signed in, and a fresh CSRF token',
    description:
      'The offline queue asks just before it sends a saved draft: it goes as the account that wrote it, with a token valid now. A bearer-token caller has no session, so no CSRF token.',
    responses: {
      200: {
        description: 'The account and the session’s CSRF token (null for a bearer token).',
        schema: z.object({ user: personRef, csrf_token: z.string().nullable() }),
        example: { user: { id: 7, username: 'tess' }, csrf_token: 'jV2vQp…' },
      },
    },
  },
];
