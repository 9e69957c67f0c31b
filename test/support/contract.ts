import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * The API contract, checked on every call the test suite makes (test/support/client.ts calls
 * `checkReply` for each `/api` answer): the status must be one the app's OpenAPI document lists for
 * that operation, the media type the one it names, and a JSON body must validate (ajv, JSON Schema
 * 2020-12) against the schema it gives. A breach throws, so the test that made the call fails with
 * the operation, the status and what did not match. The document is fetched from the app under test
 * (`/api/openapi.json`), once per server. `API_CONTRACT=off` turns the check off (exploring by hand).
 */

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Json;
}

export interface Contract {
  document: Json;
  operations: Operation[];
  validator(pointer: string): ValidateFunction;
}

const contracts = new Map<string, Promise<Contract | undefined>>();
export const contractChecks = { replies: 0, unmatched: 0 };
export const contractEnabled = process.env.API_CONTRACT !== 'off';

/** JSON pointer segment for a URI fragment: `~` and `/` escaped, then URI-encoded (`{id}`). */
const segment = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));

/** A contract from an OpenAPI 3.1 document. */
export function contractOf(document: Json): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  const validators = new Map<string, ValidateFunction>();
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '[^/]+')}$`);
    for (const [method, op] of Object.entries(item)) {
      operations.push({ method: method.toUpperCase(), template, pattern, responses: ((op as Json).responses ?? {}) as Json });
    }
  }
  return {
    document,
    operations,
    validator(pointer: string) {
      let v = validators.get(pointer);
      if (!v) {
        v = ajv.getSchema(`openapi.json#${pointer}`);
        if (!v) throw new Error(`contract: no schema at ${pointer}`);
        validators.set(pointer, v);
      }
      return v;
    },
  };
}

/** Contracts by the document's ETag: every app in a test process serves the same document. */
const byEtag = new Map<string, Contract>();

async function fetchContract(base: string): Promise<Contract | undefined> {
  const res = await fetch(`${base}/api/openapi.json`);
  // A server that is not this app (a fake provider) has no description: nothing to check against.
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`contract: GET /api/openapi.json answered ${res.status}`);
  const etag = res.headers.get('etag') ?? '';
  const known = byEtag.get(etag);
  if (known) return known;
  const contract = contractOf((await res.json()) as Json);
  if (etag) byEtag.set(etag, contract);
  return contract;
}

export function contractFor(base: string): Promise<Contract | undefined> {
  let contract = contracts.get(base);
  if (!contract) {
    contract = fetchContract(base);
    contracts.set(base, contract);
    // A failed fetch (the server gone before it answered) is forgotten: the next call asks again.
    contract.catch(() => contracts.delete(base));
  }
  return contract;
}

const resolveRef = (document: Json, value: Json): { node: Json; pointer?: string } => {
  const ref = value.$ref;
  if (typeof ref !== 'string') return { node: value };
  const pointer = ref.replace(/^#/, '');
  const node = pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((n, key) => (n as Json)[key.replace(/~1/g, '/').replace(/~0/g, '~')], document) as Json;
  return { node, pointer };
};

export interface Answer {
  status: number;
  contentType: string;
  /** The parsed JSON body (undefined when the body is not JSON or empty). */
  json: unknown;
  text: string;
}

/**
 * Why `answer` to `method path` breaks the contract, or undefined when it keeps it (or no operation
 * has that method and path: the router's 404 and 405 for unknown addresses are not operations).
 */
export function breachOf(contract: Contract, method: string, path: string, answer: Answer): string | undefined {
  const bare = path.split('?')[0] as string;
  const op = contract.operations.find((o) => o.method === method && o.pattern.test(bare));
  if (!op) {
    contractChecks.unmatched += 1;
    return undefined;
  }
  contractChecks.replies += 1;
  const where = `${method} ${op.template} answered ${answer.status}`;
  const listed = op.responses[String(answer.status)] ?? op.responses[`${String(answer.status)[0]}XX`] ?? op.responses.default;
  if (!listed)
    return `${where}, a status the document does not list (${Object.keys(op.responses).join(', ')}): ${answer.text.slice(0, 200)}`;
  const { node: response, pointer: refPointer } = resolveRef(contract.document, listed as Json);
  const base = refPointer ?? `/paths/${segment(op.template)}/${method.toLowerCase()}/responses/${segment(String(answer.status))}`;
  const content = (response.content ?? {}) as Record<string, Json>;
  const types = Object.keys(content);
  if (types.length === 0) {
    if (answer.text.length > 0) return `${where} with a body, where the document lists none`;
    return undefined;
  }
  const type = types.find((t) => answer.contentType.toLowerCase().startsWith(t));
  if (!type) return `${where} as ${answer.contentType || 'no content type'}, where the document says ${types.join(' or ')}`;
  if (!content[type]?.schema || type !== 'application/json') return undefined;
  if (answer.json === undefined) return `${where} with a body that is not JSON: ${answer.text.slice(0, 200)}`;
  const validate = contract.validator(`${base}/content/${segment(type)}/schema`);
  if (validate(answer.json)) return undefined;
  const problems = (validate.errors ?? [])
    .slice(0, 3)
    .map(
      (e) =>
        `${e.instancePath || '(body)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    )
    .join('; ');
  return `${where} with a body the document's schema refuses: ${problems}\n  body: ${answer.text.slice(0, 400)}`;
}

/** Throws when `answer` breaks the contract of the app at `base` (a no-op with API_CONTRACT=off). */
export async function checkReply(base: string, method: string, path: string, answer: Answer): Promise<void> {
  if (!contractEnabled || method === 'HEAD' || !(path === '/api' || path.startsWith('/api/'))) return;
  const contract = await contractFor(base);
  if (!contract) return;
  const breach = breachOf(contract, method, path, answer);
  if (breach) throw new Error(`API contract: ${breach}`);
}
