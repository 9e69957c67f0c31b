import { z } from 'zod';
import { type ApiOperation, errorJson, isoTime } from '../../http/openapi.ts';

const tag = 'Health';

export const healthOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/health',
    tag,
    access: 'public',
    beforeAuth: true,
    summary: 'Liveness',
    description: 'Answers without touching the database: a slow database must not get the process restarted.',
    responses: {
      200: {
        description: 'The process answers.',
        schema: z.object({ status: z.literal('healthy'), timestamp: isoTime }),
        example: { status: 'healthy', timestamp: '2026-12-07T09:30:00.000Z' },
      },
    },
  },
  {
    method: 'get',
    path: '/api/ready',
    tag,
    access: 'public',
    beforeAuth: true,
    summary: 'Readiness',
    description: 'Ready when the database answers.',
    responses: {
      200: {
        description: 'Ready.',
        schema: z.object({ status: z.literal('ready'), database: z.literal('ok'), timestamp: isoTime }),
        example: { status: 'ready', database: 'ok', timestamp: '2026-12-07T09:30:00.000Z' },
      },
      503: {
        description: 'The database is not reachable (unavailable), or its schema is older than this version (migrating).',
        schema: errorJson.extend({ status: z.enum(['unavailable', 'migrating']) }),
        example: { error: 'The database is not reachable.', status: 'unavailable' },
      },
    },
  },
];
