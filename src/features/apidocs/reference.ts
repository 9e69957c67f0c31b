import type { OpenApiDocument } from '../../http/openapi.ts';

/**
 * The API reference page's content, read from the OpenAPI document itself (so the page and
 * /api/openapi.json cannot disagree): per tag, each operation with who may call it, its parameters and
 * body fields as one line each, its answers, a curl example and an example answer.
 */

type Json = Record<string, unknown>;
type Schema = Json & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
};

export interface Field {
  name: string;
  where: string;
  type: string;
  required: boolean;
  description: string;
}

export interface Answer {
  status: string;
  description: string;
  type: string;
}

export interface OperationView {
  anchor: string;
  method: string;
  path: string;
  summary: string;
  description: string;
  who: string;
  fields: Field[];
  answers: Answer[];
  /** The statuses of the shared refusals it may give (described once, at the top of the page). */
  alsoAnswers: string[];
  curl: string;
  example?: string;
  notes: string[];
}

export interface EventView {
  anchor: string;
  name: string;
  summary: string;
  description: string;
  fields: Field[];
  example?: string;
}

export interface ReferenceView {
  title: string;
  description: string;
  version: string;
  /** The refusals many operations share: status, name and meaning. */
  shared: Answer[];
  tags: { name: string; description: string; operations: OperationView[] }[];
  events: EventView[];
  webhookHeaders: Field[];
}

const WHO: Record<string, string> = {
  public: 'Anyone',
  user: 'Signed in',
  admin: 'Admins',
  link: 'Review-link holder',
  twilio: 'Twilio (signed)',
  inbound: 'SendGrid Inbound Parse (secret)',
};

function resolve(document: Json, schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let depth = 0; s?.$ref && depth < 10; depth++) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], document) as Schema | undefined;
  }
  return s;
}

const refName = (schema: Schema | undefined) => schema?.$ref?.split('/').at(-1);

/** A schema as a short phrase: `integer 1–200`, `one of: low, medium`, `array of Ticket`, `string or null`. */
export function describeType(document: Json, schema: Schema | undefined): string {
  if (!schema) return 'any';
  const name = refName(schema);
  if (name) return name;
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    const words = options.map((o) => describeType(document, o));
    return [...new Set(words)].join(' or ');
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return `one of: ${schema.enum.map(String).join(', ')}`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const base = types.filter((t) => t !== 'null');
  let phrase = base.join(' or ') || 'any';
  if (base.includes('array')) phrase = `array of ${describeType(document, schema.items)}`;
  const min = (schema.minimum ?? schema.minLength ?? schema.minItems) as number | undefined;
  const max = (schema.maximum ?? schema.maxLength ?? schema.maxItems) as number | undefined;
  const unit = base.includes('string') ? ' characters' : base.includes('array') ? ' items' : '';
  if (min !== undefined && max !== undefined) phrase += `, ${min}–${max}${unit}`;
  else if (max !== undefined) phrase += `, at most ${max}${unit}`;
  else if (min !== undefined && min > 0) phrase += `, at least ${min}${unit}`;
  if (schema.format) phrase += ` (${String(schema.format)})`;
  if (types.includes('null')) phrase += ' or null';
  return phrase;
}

/** An object's fields, nested objects and lists of objects flattened (`items[].quantity`). */
function fieldsOf(document: Json, schema: Schema | undefined, where: string, prefix = '', depth = 0): Field[] {
  const s = resolve(document, schema);
  if (!s) return [];
  const options = s.anyOf ?? s.oneOf;
  if (options)
    return options.flatMap((o) => fieldsOf(document, o, `${where}${o.title ? ` (${String(o.title)})` : ''}`, prefix, depth));
  if (!s.properties) return [];
  const fields: Field[] = [];
  for (const [key, raw] of Object.entries(s.properties)) {
    const name = `${prefix}${key}`;
    const prop = raw as Schema;
    const inner = resolve(document, prop.items) ?? undefined;
    fields.push({
      name,
      where,
      type: describeType(document, prop),
      required: s.required?.includes(key) ?? false,
      description: String(prop.description ?? ''),
    });
    if (depth < 2 && !refName(prop) && !refName(prop.items) && inner?.properties) {
      fields.push(...fieldsOf(document, inner, where, `${name}[].`, depth + 1));
    }
  }
  return fields;
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function curlOf(method: string, path: string, op: Json, baseUrl: string): string {
  const example = (op['x-example-request'] ?? {}) as { params?: Json; query?: Json; body?: unknown };
  let url = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(String(example.params?.[name] ?? `{${name}}`)));
  const query = new URLSearchParams(
    Object.entries(example.query ?? {}).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  if (query) url += `?${query}`;
  const lines = [`curl${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} ${shellQuote(baseUrl + url)}`];
  const security = (op.security ?? []) as Json[];
  if (security.some((s) => 'bearerToken' in s)) lines.push('-H "Authorization: Bearer $TOKEN"');
  if (security.some((s) => 'twilioSignature' in s)) lines.push('-H "X-Twilio-Signature: $SIGNATURE"');
  const parameters = (op.parameters ?? []) as Json[];
  if (parameters.some((p) => p.name === 'Idempotency-Key')) lines.push('-H "Idempotency-Key: $(uuidgen)"');
  const content = ((op.requestBody as Json | undefined)?.content ?? {}) as Json;
  if (content['application/x-www-form-urlencoded'] && example.body) {
    for (const [k, v] of Object.entries(example.body as Json)) lines.push(`--data-urlencode ${shellQuote(`${k}=${String(v)}`)}`);
  } else if (example.body !== undefined) {
    lines.push('-H "Content-Type: application/json"', `-d ${shellQuote(JSON.stringify(example.body))}`);
  }
  return lines.join(' \\\n  ');
}

/** Up to this many characters, an object or array of an example stays on one line. */
const ONE_LINE = 80;

/**
 * JSON indented by two spaces as JSON.stringify(v, null, 2) does, but a short object or array (a
 * person, an empty list, an item's few fields) on one line: the same JSON, fewer lines to read and
 * fewer bytes on the page.
 */
export function compactJson(value: unknown, indent = ''): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== 'object' || flat.length <= ONE_LINE) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

function exampleOf(responses: Json): string | undefined {
  for (const [status, raw] of Object.entries(responses)) {
    if (!/^2/.test(status)) continue;
    const content = ((raw as Json).content ?? {}) as Record<string, Json>;
    const [type, media] = Object.entries(content)[0] ?? [];
    if (!media || media.example === undefined) continue;
    const text = typeof media.example === 'string' ? media.example : compactJson(media.example);
    return `HTTP/1.1 ${status}\nContent-Type: ${type}\n\n${text}`;
  }
  return undefined;
}

/** An operation's own answers; the shared ones (a `$ref` to components/responses) are only named. */
function answersOf(document: Json, responses: Json): Answer[] {
  return Object.entries(responses)
    .filter(([, raw]) => !(raw as Json).$ref)
    .map(([status, raw]) => {
      const r = resolve(document, raw as Schema) as Json;
      const content = (r.content ?? {}) as Record<string, { schema?: Schema }>;
      const [type, media] = Object.entries(content)[0] ?? [];
      const body = media?.schema ? describeType(document, media.schema) : type ? type : '';
      return { status, description: String(r.description ?? ''), type: body };
    });
}

const sharedStatuses = (responses: Json): string[] =>
  Object.entries(responses)
    .filter(([, raw]) => (raw as Json).$ref)
    .map(([status]) => status);

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function referenceView(doc: OpenApiDocument, baseUrl: string): ReferenceView {
  const document = doc as unknown as Json;
  const info = (document.info ?? {}) as Json;
  const tagList = ((document.tags ?? []) as { name: string; description?: string }[]).map((t) => ({
    name: t.name,
    description: t.description ?? '',
    operations: [] as OperationView[],
  }));
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const parameters = ((op.parameters ?? []) as Json[]).map((p) => resolve(document, p as Schema) as Json);
      const fields: Field[] = parameters.map((p) => ({
        name: String(p.name),
        where: String(p.in),
        type: describeType(document, p.schema as Schema),
        required: Boolean(p.required),
        description: String(p.description ?? (p.schema as Schema | undefined)?.description ?? ''),
      }));
      const content = ((op.requestBody as Json | undefined)?.content ?? {}) as Record<string, { schema?: Schema }>;
      for (const [type, media] of Object.entries(content)) {
        fields.push(...fieldsOf(document, media.schema, type === 'application/json' ? 'body' : 'form'));
      }
      const notes: string[] = [];
      if (op['x-paginated']) notes.push('Paginated: `limit` and `cursor`; the next page’s URL is in the `Link` header.');
      if (op['x-token-scope'] === 'write') notes.push('A personal token needs the `write` scope.');
      const [tagName] = (op.tags ?? []) as string[];
      let tag = tagList.find((t) => t.name === tagName);
      if (!tag) {
        tag = { name: tagName ?? 'Other', description: '', operations: [] };
        tagList.push(tag);
      }
      tag.operations.push({
        anchor: String(op.operationId),
        method: method.toUpperCase(),
        path,
        summary: String(op.summary ?? ''),
        description: String(op.description ?? ''),
        who: WHO[String(op['x-access'])] ?? '',
        fields,
        answers: answersOf(document, (op.responses ?? {}) as Json),
        alsoAnswers: sharedStatuses((op.responses ?? {}) as Json),
        curl: curlOf(method, path, op, baseUrl),
        example: exampleOf((op.responses ?? {}) as Json),
        notes,
      });
    }
  }
  const events: EventView[] = [];
  let webhookHeaders: Field[] = [];
  for (const [name, item] of Object.entries((document.webhooks ?? {}) as Record<string, Json>)) {
    const op = item.post as Json;
    const media = (((op.requestBody as Json).content ?? {}) as Record<string, { schema?: Schema; example?: unknown }>)[
      'application/json'
    ];
    webhookHeaders = ((op.parameters ?? []) as Json[]).map((p) => ({
      name: String(p.name),
      where: 'header',
      type: 'string',
      required: true,
      description: String(p.description ?? ''),
    }));
    events.push({
      anchor: `event-${name.replace(/\W/g, '-')}`,
      name,
      summary: String(op.summary ?? ''),
      description: String(op.description ?? ''),
      fields: fieldsOf(document, media?.schema, 'payload'),
      example: media?.example === undefined ? undefined : JSON.stringify(media.example, null, 2),
    });
  }
  // Each shared refusal once, with the status operations give it under.
  const shared = new Map<string, Answer>();
  for (const item of Object.values((document.paths ?? {}) as Record<string, Json>)) {
    for (const op of Object.values(item) as Json[]) {
      for (const [status, raw] of Object.entries((op.responses ?? {}) as Json)) {
        const ref = (raw as Json).$ref;
        if (typeof ref !== 'string' || shared.has(status)) continue;
        const r = resolve(document, raw as Schema) as Json;
        shared.set(status, { status, description: String(r.description ?? ''), type: 'Error' });
      }
    }
  }
  return {
    title: String(info.title ?? 'API'),
    description: String(info.description ?? ''),
    version: String(info.version ?? ''),
    shared: [...shared.values()].sort((a, b) => a.status.localeCompare(b.status)),
    tags: tagList.filter((t) => t.operations.length),
    events,
    webhookHeaders,
  };
}
