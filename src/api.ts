import { apiDocsOperations } from './features/apidocs/openapi.ts';
import { approvalOperations } from './features/approvals/openapi.ts';
import { authOperations } from './features/auth/openapi.ts';
import { fieldOperations } from './features/field/openapi.ts';
import { healthOperations } from './features/health/openapi.ts';
import { inventoryOperations } from './features/inventory/openapi.ts';
import { locationOperations } from './features/locations/openapi.ts';
import { notificationOperations } from './features/notifications/openapi.ts';
import { opticsOperations } from './features/optics/openapi.ts';
import { reportOperations } from './features/reports/openapi.ts';
import { ticketOperations } from './features/tickets/openapi.ts';
import { userOperations } from './features/users/openapi.ts';
import { webhookEventDocs, webhookHeaders, webhookOperations } from './features/webhooks/openapi.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './http/openapi.ts';

/**
 * The whole API's description: every feature's operations (each feature's openapi.ts, beside its
 * routes), grouped by feature in this order on /api/docs. A feature with `/api` routes adds its list
 * here, as app.ts mounts its router; test/api-contract.test.ts fails on a route missing from it.
 */
const TAGS = [
  { name: 'Accounts', description: 'Signing in, accounts and personal tokens.' },
  {
    name: 'Tickets',
    description: 'Cable requests and their life: pending approval → approved → in progress → fulfilled → closed.',
  },
  { name: 'Approvals', description: 'Deciding from outside the app: review links and SMS replies.' },
  { name: 'Inventory', description: 'Stock on hand, receiving, the ledger and adjustments.' },
  { name: 'Locations', description: 'Warehouses, vans and sites; transfers between them; reorder rules and suggestions.' },
  { name: 'Optics', description: 'Optics part requests and the parts list.' },
  {
    name: 'Reports',
    description:
      'Turnaround, lead time, requests per week, consumption and days of cover; UTC weeks and months. Inventory figures are for admins.',
  },
  { name: 'Users', description: 'Accounts, roles, and delegates while away.' },
  { name: 'Notifications', description: 'The outbox of emails and SMS (admins).' },
  {
    name: 'Webhooks',
    description:
      'Subscriptions of other systems to events (admins), and their delivery log. Delivery is at least once and not in order: drop repeats by webhook-id, order by the payload’s timestamp.',
  },
  { name: 'Health', description: 'Probes for load balancers and orchestrators.' },
  { name: 'Reference', description: 'This description.' },
];

const DESCRIPTION = [
  'The JSON API of Cable Ticketing. Send `Authorization: Bearer <token>`: a token from `POST /api/login`, or a personal token (scope `read` or `write`) made on the settings page or with `POST /api/tokens`.',
  'Every refusal is `{error, fields?}` with a 4xx status: `error` is a sentence, `fields` names each bad field. Lists are newest first with `limit` and `cursor`; the next page is in the `Link` header.',
  'Unsafe requests may carry an `Idempotency-Key` header, any unique string (a UUID): sent again with the same key within 24 hours, a request gets its first answer (`Idempotent-Replayed: true`) instead of running twice.',
].join('\n\n');

export function describeApi(version: string): OpenApiDocument {
  return buildOpenApiDocument({
    title: 'Cable Ticketing API',
    version,
    description: DESCRIPTION,
    tags: TAGS,
    operations: [
      ...authOperations,
      ...fieldOperations,
      ...ticketOperations,
      ...approvalOperations,
      ...inventoryOperations,
      ...locationOperations,
      ...opticsOperations,
      ...reportOperations,
      ...userOperations,
      ...notificationOperations,
      ...webhookOperations,
      ...healthOperations,
      ...apiDocsOperations,
    ],
    webhooks: webhookEventDocs,
    webhookHeaders,
  });
}
