import { z } from 'zod';
import { createDocument, createSchema, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';

/**
 * The API's description, declared by each feature next to its routes (`<feature>/openapi.ts`) and made
 * into one OpenAPI 3.1 document here. It knows no feature: an operation names the zod schemas its
 * handler validates with and the schemas of what its presenter returns, and zod-openapi turns them into
 * JSON Schema (zod 4's own z.toJSONSchema underneath). test/api-contract.test.ts fails when a registered
 * `/api` route has no operation here, and every API reply the test suite gets is checked against it.
 */

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call an operation. `user`: anyone signed in (the handler may narrow it further, see
 * `description`); `admin`: admins only; `public`: anyone (a valid token or session is still read);
 * `link`: a secret in the path (a review link's); `twilio`: Twilio's request signature; `inbound`:
 * the inbound email secret as HTTP basic auth.
 */
export type Access = 'public' | 'user' | 'admin' | 'link' | 'twilio' | 'inbound';

export interface ApiResponse {
  description: string;
  /** The JSON body (absent for a body-less answer such as 304). */
  schema?: z.ZodType;
  /** Another media type than JSON (the reference page's HTML, Twilio's TwiML). */
  contentType?: string;
  /** Response headers this answer carries: name and meaning. */
  headers?: Record<string, string>;
  /** What an answer looks like: shown on /api/docs and checked against `schema` by the contract test. */
  example?: unknown;
}

export interface ApiOperation {
  method: Method;
  /** As the router spells it: `/api/tickets/:id`. */
  path: string;
  /** The feature it belongs to: the reference page groups by it. */
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** Path parameters, query string and JSON body: the very schemas the handler parses with. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body's media type: JSON unless said otherwise (Twilio posts a form, SendGrid multipart). */
  bodyType?: 'json' | 'form' | 'multipart';
  /** False when the body may be left out altogether. */
  bodyRequired?: boolean;
  /** The successful answers (and any answer the route gives that is not a refusal below). */
  responses: Partial<Record<number, ApiResponse>>;
  /** Refusals particular to this operation, with what they mean; the usual ones are added by `access` and inputs. */
  errors?: Partial<Record<number, string>>;
  /** Keyset pagination: `limit` and `cursor` in the query, the next page in a `Link` header. */
  paginated?: boolean;
  /** The Idempotency-Key header (default: every unsafe method; sign-in and webhooks receivers say false). */
  idempotent?: boolean;
  /** Limited per client (429 with Retry-After past it). */
  rateLimited?: boolean;
  /** Answered before sign-in is read (probes): no 401, and no Authorization header looked at. */
  beforeAuth?: boolean;
  /** A request to show in the curl example: values for the path, the query string and the body. */
  example?: { params?: Record<string, string | number>; query?: Record<string, string | number | boolean>; body?: unknown };
}

/** An event delivered to subscribers (OpenAPI 3.1 `webhooks`): its name, meaning and payload schema. */
export interface WebhookEventDoc {
  name: string;
  summary: string;
  description?: string;
  payload: z.ZodType;
  example?: unknown;
}

// ---- shapes every feature shares ------------------------------------------------------------------

/** A timestamp as every answer writes it: ISO-8601 in UTC with milliseconds. */
export const isoTime = z.iso.datetime();

/** Someone named in an answer. */
export const personRef = z.object({ id: z.number().int(), username: z.string() }).meta({ id: 'PersonRef' });

/** `{error, fields?}`: every refusal. `fields` names each bad field with a sentence. */
export const errorJson = z
  .object({
    error: z.string().meta({ description: 'What went wrong, as a sentence.' }),
    fields: z.record(z.string(), z.string()).optional().meta({ description: 'Each bad field and what is wrong with it.' }),
  })
  .meta({ id: 'Error' });

/** `{message}`: an answer that only confirms. */
export const messageJson = z.object({ message: z.string() }).meta({ id: 'Message' });

// ---- the document ---------------------------------------------------------------------------------

const SAFE = new Set<Method>(['get']);

/** `/api/tickets/:id` as OpenAPI writes it: `/api/tickets/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

/** A stable operationId: `get /api/tickets/:id` is `getApiTicketsId`. */
export const operationId = (op: Pick<ApiOperation, 'method' | 'path'>): string =>
  op.method +
  op.path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');

const errorContent = { 'application/json': { schema: errorJson } };

const BODY_TYPES = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  multipart: 'multipart/form-data',
} as const;

/** The refusals every operation may meet, described once. */
const SHARED_RESPONSES = {
  Unauthorized: 'Not signed in, or the bearer token is invalid, expired or revoked.',
  TooLarge: 'The body is larger than BODY_LIMIT_KB.',
  UnsupportedType: 'The body uses an encoding the app does not read.',
  TooManyRequests: 'Too many attempts from this client: wait for the seconds in Retry-After.',
  Unavailable: 'The database cannot be reached right now; try again shortly.',
  ServerError:
    'Something failed on the server’s side (a fault, never a refusal): try again, and tell an admin if it keeps happening.',
} as const;

const sharedRef = (name: keyof typeof SHARED_RESPONSES) => ({ $ref: `#/components/responses/${name}` });

function securityOf(op: ApiOperation): Record<string, string[]>[] {
  if (op.access === 'twilio') return [{ twilioSignature: [] }];
  if (op.access === 'inbound') return [{ inboundSecret: [] }];
  if (op.access === 'public' || op.access === 'link') return [];
  return SAFE.has(op.method) ? [{ bearerToken: [] }, { session: [] }] : [{ bearerToken: [] }, { session: [], csrfToken: [] }];
}

const idempotentOf = (op: ApiOperation) => op.idempotent ?? !SAFE.has(op.method);

function responsesOf(op: ApiOperation): ZodOpenApiOperationObject['responses'] {
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    if (!r) continue;
    const headers: Record<string, { description: string; schema: { type: 'string' } }> = {};
    for (const [name, description] of Object.entries(r.headers ?? {}))
      headers[name] = { description, schema: { type: 'string' } };
    if (op.paginated && status === '200') {
      headers.Link = { description: 'The next page: `<url>; rel="next"` (absent on the last page).', schema: { type: 'string' } };
    }
    responses[status] = {
      description: r.description,
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(r.schema || r.contentType
        ? {
            content: {
              [r.contentType ?? 'application/json']: {
                ...(r.schema ? { schema: r.schema } : { schema: { type: 'string' } }),
                ...(r.example !== undefined ? { example: r.example } : {}),
              },
            },
          }
        : {}),
    };
  }
  const refusal = (status: number, description: string) => {
    responses[status] ??= { description, content: errorContent };
  };
  for (const [status, description] of Object.entries(op.errors ?? {})) if (description) refusal(Number(status), description);
  // Every unsafe request's body is parsed (even where the route reads none): bad JSON is a 400, too big a 413.
  const parsesBody = !SAFE.has(op.method);
  if (op.params || op.query || op.body || parsesBody) {
    refusal(400, 'The request is not valid: `error` says why, `fields` names each bad field.');
  }
  if (!op.beforeAuth) responses[401] ??= sharedRef('Unauthorized');
  if (op.access === 'admin') refusal(403, 'Only an admin may do this.');
  if (!SAFE.has(op.method) && !op.beforeAuth) {
    refusal(403, 'A read-only token, or a cookie session without its CSRF token.');
  }
  if (op.params) refusal(404, 'Nothing with that id.');
  if (idempotentOf(op)) {
    refusal(409, 'A request with the same Idempotency-Key is still running.');
    refusal(422, 'The Idempotency-Key was already used for another request.');
  }
  if (parsesBody) {
    responses[413] ??= sharedRef('TooLarge');
    responses[415] ??= sharedRef('UnsupportedType');
  }
  if (op.rateLimited) responses[429] ??= sharedRef('TooManyRequests');
  responses[500] ??= sharedRef('ServerError');
  responses[503] ??= sharedRef('Unavailable');
  return responses as ZodOpenApiOperationObject['responses'];
}

function operationOf(op: ApiOperation): ZodOpenApiOperationObject {
  const idempotencyKey = idempotentOf(op)
    ? [
        {
          in: 'header' as const,
          name: 'Idempotency-Key',
          required: false,
          description: 'A unique string (a UUID): the same request again with it gets the first answer (see the description).',
          schema: { type: 'string' as const, maxLength: 255 },
        },
      ]
    : [];
  const scope = SAFE.has(op.method) ? 'read' : 'write';
  return {
    operationId: operationId(op),
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: securityOf(op),
    'x-access': op.access,
    ...(op.access === 'user' || op.access === 'admin' ? { 'x-token-scope': scope } : {}),
    ...(op.paginated ? { 'x-paginated': true } : {}),
    ...(op.example ? { 'x-example-request': op.example } : {}),
    requestParams: { ...(op.params ? { path: op.params } : {}), ...(op.query ? { query: op.query } : {}) },
    ...(idempotencyKey.length ? { parameters: idempotencyKey } : {}),
    ...(op.body !== undefined
      ? {
          requestBody: {
            required: op.bodyRequired ?? true,
            content: {
              [BODY_TYPES[op.bodyType ?? 'json']]: {
                schema: op.body,
                ...(op.example?.body !== undefined ? { example: op.example.body } : {}),
              },
            },
          },
        }
      : {}),
    responses: responsesOf(op),
  };
}

/**
 * A field that accepts `undefined` (a default, a blank-means-absent preprocess) is not required in a
 * request, whatever its declared type: zod's JSON Schema reads the declared type, so `required` is
 * corrected by asking the schema itself.
 */
function acceptsNothing(schema: unknown): boolean {
  return (schema as z.ZodType).safeParse(undefined).success;
}

function relaxRequired(ctx: { jsonSchema: Record<string, unknown>; zodSchema: unknown; io: 'input' | 'output' }): void {
  if (ctx.io !== 'input') return;
  const def = (ctx.zodSchema as { _zod: { def: { type: string; shape?: Record<string, unknown> } } })._zod.def;
  const required = ctx.jsonSchema.required;
  if (def.type !== 'object' || !def.shape || !Array.isArray(required)) return;
  const shape = def.shape;
  const still = required.filter((key: string) => !acceptsNothing(shape[key]));
  if (still.length) ctx.jsonSchema.required = still;
  else delete ctx.jsonSchema.required;
}

export interface DocumentInput {
  title: string;
  version: string;
  description: string;
  /** Tag names with their descriptions, in the order the reference page shows them. */
  tags: { name: string; description: string }[];
  operations: ApiOperation[];
  webhooks?: WebhookEventDoc[];
  /** Headers a webhook request carries (Standard Webhooks), with their meaning. */
  webhookHeaders?: Record<string, string>;
}

export type OpenApiDocument = ReturnType<typeof createDocument>;

/** The OpenAPI 3.1 document of `input`, as plain JSON. Throws when two operations claim one method and path. */
export function buildOpenApiDocument(input: DocumentInput): OpenApiDocument {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of input.operations) {
    const key = openApiPath(op.path);
    const item = paths[key] ?? {};
    paths[key] = item;
    if (item[op.method]) throw new Error(`OpenAPI: ${op.method.toUpperCase()} ${op.path} is declared twice`);
    item[op.method] = operationOf(op);
  }
  const webhooks: ZodOpenApiPathsObject = {};
  // A payload is what the app sends: described as output (as the API's answers are), not as the
  // input a request body would be, so it names the same components (Ticket, not a second input Ticket).
  const payloadComponents: Record<string, unknown> = {};
  for (const event of input.webhooks ?? []) {
    const payload = createSchema(event.payload, { io: 'output', opts: { override: relaxRequired } });
    Object.assign(payloadComponents, payload.components);
    webhooks[event.name] = {
      post: {
        operationId: `webhook${event.name.replace(/(^|[._])(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
        summary: event.summary,
        ...(event.description ? { description: event.description } : {}),
        parameters: Object.entries(input.webhookHeaders ?? {}).map(([name, description]) => ({
          in: 'header' as const,
          name,
          required: true,
          description,
          schema: { type: 'string' as const },
        })),
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: payload.schema, ...(event.example !== undefined ? { example: event.example } : {}) },
          },
        },
        responses: {
          '2XX': { description: 'Received: any 2xx ends the delivery.' },
          '410': { description: 'Gone: the delivery is given up at once (no more retries).' },
          default: { description: 'Anything else (or no answer in time) is retried with backoff.' },
        },
      },
    };
  }
  const responses = Object.fromEntries(
    Object.entries(SHARED_RESPONSES).map(([name, description]) => [name, { description, content: errorContent }]),
  );
  const document = createDocument(
    {
      openapi: '3.1.0',
      info: { title: input.title, version: input.version, description: input.description },
      tags: input.tags,
      paths,
      ...(input.webhooks?.length ? { webhooks } : {}),
      components: {
        responses,
        securitySchemes: {
          bearerToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A sign-in token from `POST /api/login` (full power, AUTH_TOKEN_TTL_SECONDS), or a personal token from `POST /api/tokens` or the settings page: `read` scope answers 403 to any unsafe method.',
          },
          session: { type: 'apiKey', in: 'cookie', name: 'ct_session', description: 'The browser session cookie.' },
          csrfToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CSRF-Token',
            description: 'With a cookie session, unsafe requests carry the page’s CSRF token.',
          },
          inboundSecret: {
            type: 'http',
            scheme: 'basic',
            description: 'SendGrid Inbound Parse posting with INBOUND_EMAIL_SECRET as the password (any user name).',
          },
          twilioSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Twilio-Signature',
            description: 'Twilio’s HMAC of APP_URL/api/twilio/sms and the form fields, keyed with TWILIO_AUTH_TOKEN.',
          },
        },
      },
    },
    { override: relaxRequired },
  );
  relaxRequiredParameters(document, input.operations);
  document.components ??= {};
  const schemas = document.components.schemas ?? {};
  for (const [name, schema] of Object.entries(payloadComponents)) schemas[name] ??= schema as never;
  document.components.schemas = schemas;
  return document;
}

/** zod-openapi marks a parameter required from its declared type; a query field with a default is not. */
function relaxRequiredParameters(document: OpenApiDocument, operations: ApiOperation[]): void {
  for (const op of operations) {
    const shape = op.query?.shape as Record<string, unknown> | undefined;
    const parameters = document.paths?.[openApiPath(op.path)]?.[op.method]?.parameters ?? [];
    for (const parameter of parameters) {
      if (!shape || !('in' in parameter) || parameter.in !== 'query') continue;
      if (acceptsNothing(shape[parameter.name])) delete parameter.required;
    }
  }
}
