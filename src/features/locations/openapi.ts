import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import {
  locationJson,
  locationPatchSchema,
  locationSchema,
  locationsQuerySchema,
  reorderRuleJson,
  reorderRuleSchema,
  suggestionJson,
  suggestionsQuerySchema,
  transferJson,
  transferSchema,
} from './schema.ts';

const tag = 'Locations';
const TIME = '2026-12-07T09:30:00.000Z';
const main = { id: 1, name: 'Main warehouse' };
const van = { id: 2, name: 'Van 1' };
const location = {
  id: 2,
  name: 'Van 1',
  kind: 'van',
  holder: { id: 3, username: 'tess' },
  active: true,
  is_default: false,
  created_at: TIME,
  updated_at: TIME,
};
const transfer = {
  id: 4,
  from_location: main,
  to_location: van,
  notes: 'Monday run',
  items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 10 }],
  created_by: { id: 1, username: 'boss' },
  created_at: TIME,
};
const rule = { location: van, cable_type: 'Cat6', cable_length: '100ft', min_quantity: 5, max_quantity: 20, pack_multiple: 10 };
const suggestion = {
  id: 7,
  kind: 'transfer',
  location: van,
  from_location: main,
  cable_type: 'Cat6',
  cable_length: '100ft',
  quantity: 20,
  status: 'open',
  transfer_id: null,
  created_at: TIME,
  closed_at: null,
};
const noLocation = 'No location with that id, or it is inactive (the field is named).';

export const locationOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/locations',
    tag,
    access: 'user',
    summary: 'Warehouses, vans and sites',
    description: 'The default first. Inactive ones only with include_inactive=true.',
    query: locationsQuerySchema,
    responses: { 200: { description: 'The locations.', schema: z.array(locationJson), example: [location] } },
  },
  {
    method: 'post',
    path: '/api/locations',
    tag,
    access: 'admin',
    summary: 'Add a location',
    description: 'Names are unique whatever their case. Only a van has a holder (a user).',
    body: locationSchema,
    responses: {
      201: {
        description: 'Added.',
        schema: z.object({ message: z.string(), location: locationJson }),
        headers: { Location: 'The location: /api/locations/{id}.' },
        example: { message: 'Location created', location },
      },
    },
    errors: { 409: 'Another location already has that name.' },
    example: { body: { name: 'Van 1', kind: 'van', holder_user_id: 3 } },
  },
  {
    method: 'patch',
    path: '/api/locations/:id',
    tag,
    access: 'admin',
    summary: 'Rename, change the holder, deactivate',
    description: 'The default location stays an active warehouse.',
    params: idParam,
    body: locationPatchSchema,
    responses: {
      200: {
        description: 'Saved.',
        schema: z.object({ message: z.string(), location: locationJson }),
        example: { message: 'Location saved', location },
      },
    },
    errors: { 404: 'No location with that id.', 409: 'The name is taken, or the default would stop being an active warehouse.' },
    example: { params: { id: 2 }, body: { active: false } },
  },
  {
    method: 'post',
    path: '/api/inventory/transfers',
    tag,
    access: 'admin',
    summary: 'Move stock between locations',
    description:
      'A transfer_out at the source and a transfer_in at the destination per item, in one transaction. With INVENTORY_ENFORCE_STOCK, past what is available at the source is a 409.',
    body: transferSchema,
    responses: {
      201: {
        description: 'Transferred.',
        schema: z.object({ message: z.string(), transfer: transferJson }),
        example: { message: 'Stock transferred', transfer },
      },
    },
    errors: { 409: `${noLocation} Or not enough available at the source (SKU and location named).` },
    example: {
      body: { from_location_id: 1, to_location_id: 2, items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 10 }] },
    },
  },
  {
    method: 'get',
    path: '/api/inventory/reorder-rules',
    tag,
    access: 'admin',
    summary: 'Reorder rules per location and SKU',
    query: suggestionsQuerySchema,
    responses: { 200: { description: 'The rules.', schema: z.array(reorderRuleJson), example: [rule] } },
  },
  {
    method: 'post',
    path: '/api/inventory/reorder-rules',
    tag,
    access: 'admin',
    summary: 'Set a reorder rule',
    description:
      'Creates or replaces the rule of a (location, SKU). Below min available, one suggestion opens: up to max, rounded up to the pack multiple.',
    body: reorderRuleSchema,
    responses: {
      200: {
        description: 'Saved.',
        schema: z.object({ message: z.string(), rule: reorderRuleJson }),
        example: { message: 'Reorder rule saved', rule },
      },
    },
    errors: { 409: noLocation },
    example: {
      body: { location_id: 2, cable_type: 'Cat6', cable_length: '100ft', min_quantity: 5, max_quantity: 20, pack_multiple: 10 },
    },
  },
  {
    method: 'get',
    path: '/api/inventory/reorder-suggestions',
    tag,
    access: 'admin',
    summary: 'Reorder suggestions, newest first',
    query: suggestionsQuerySchema,
    responses: { 200: { description: 'The suggestions.', schema: z.array(suggestionJson), example: [suggestion] } },
  },
  {
    method: 'post',
    path: '/api/inventory/reorder-suggestions/:id/transfer',
    tag,
    access: 'admin',
    summary: 'Turn a transfer suggestion into the transfer',
    params: idParam,
    bodyRequired: false,
    responses: {
      201: {
        description: 'Transferred; the suggestion is done.',
        schema: z.object({ message: z.string(), transfer: transferJson }),
        example: { message: 'Stock transferred', transfer },
      },
    },
    errors: {
      404: 'No suggestion with that id.',
      409: 'Already acted on or closed, a purchase, or not enough available at the source.',
    },
    example: { params: { id: 7 } },
  },
];
