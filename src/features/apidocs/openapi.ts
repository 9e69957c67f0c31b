import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';

const tag = 'Reference';

export const apiDocsOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/openapi.json',
    tag,
    access: 'public',
    summary: 'This description, as OpenAPI 3.1',
    description:
      'Generated from the schemas the routes validate with. Send If-None-Match with the ETag to get a 304 while it is unchanged.',
    responses: {
      200: {
        description: 'The OpenAPI document.',
        schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
        headers: { ETag: 'Changes when the description does.' },
      },
      304: { description: 'Not modified: the copy named in If-None-Match is current.' },
    },
  },
  {
    method: 'get',
    path: '/api/docs',
    tag,
    access: 'public',
    summary: 'This reference, as a web page',
    responses: { 200: { description: 'The reference page.', contentType: 'text/html' } },
  },
];
