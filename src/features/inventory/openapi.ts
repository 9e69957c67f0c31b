import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import { idParam } from '../../lib/schema.ts';
import { reelOperations } from './reel-openapi.ts';
import {
  adjustmentSchema,
  movementJson,
  movementsQuerySchema,
  onHandJson,
  onHandQuerySchema,
  receiptJson,
  receiptSchema,
  receiptsQuerySchema,
  stockJson,
  thresholdSchema,
} from './schema.ts';

const tag = 'Inventory';
const TIME = '2026-12-07T09:30:00.000Z';
const receipt = {
  id: 5,
  vendor: 'Acme Cable',
  po_number: 'PO-1182',
  notes: null,
  items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 40 }],
  received_by: { id: 1, username: 'boss' },
  created_at: TIME,
  updated_at: TIME,
};
const movement = {
  id: 31,
  movement_type: 'adjustment',
  source_type: 'manual_adjustment',
  source_id: null,
  location_id: 1,
  actor_user_id: 1,
  actor: { id: 1, username: 'boss' },
  cable_type: 'Cat6',
  cable_length: '100ft',
  quantity_delta: -3,
  unit: 'each',
  reel_code: null,
  notes: 'Damaged in the van',
  created_at: TIME,
};
const onHand = {
  cable_type: 'Cat6',
  cable_length: '100ft',
  unit: 'each',
  on_hand: 37,
  reserved: 5,
  available: 32,
  display: null,
};

export const inventoryOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/inventory/on-hand',
    tag,
    access: 'user',
    summary: 'Cable on hand per SKU',
    description:
      'A SKU is a cable type and length, compared case- and space-insensitively. Empty SKUs only with include_zero=true. With location_id, that location’s rows; without, the totals across locations. available = on_hand - reserved (what approved requests hold).',
    query: onHandQuerySchema,
    responses: { 200: { description: 'On hand per SKU.', schema: z.array(onHandJson), example: [onHand] } },
    errors: { 404: 'No location with that id.' },
  },
  {
    method: 'patch',
    path: '/api/inventory/stock/threshold',
    tag,
    access: 'admin',
    summary: 'Set or clear a reorder threshold',
    description: 'At or below it, admins get one email per SKU per 24 hours (and the stock.low webhook).',
    body: thresholdSchema,
    responses: {
      200: {
        description: 'Saved.',
        schema: z.object({ message: z.string(), stock: stockJson }),
        example: {
          message: 'Reorder threshold saved',
          stock: {
            cable_type: 'Cat6',
            cable_length: '100ft',
            on_hand: 37,
            reorder_threshold: 20,
            shortfall: false,
            low_stock: false,
            last_alert_at: null,
          },
        },
      },
    },
    example: { body: { cable_type: 'Cat6', cable_length: '100ft', reorder_threshold: 20 } },
  },
  {
    method: 'post',
    path: '/api/cable-receiving',
    tag,
    access: 'admin',
    summary: 'Receive a delivery',
    description: 'The receipt and one ledger movement per line, in one transaction.',
    body: receiptSchema,
    responses: {
      201: {
        description: 'Received.',
        schema: z.object({ message: z.string(), receipt: receiptJson }),
        headers: { Location: 'The receipt: /api/cable-receiving/{id}.' },
        example: { message: 'Cable received', receipt },
      },
    },
    example: {
      body: { vendor: 'Acme Cable', po_number: 'PO-1182', items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 40 }] },
    },
  },
  {
    method: 'get',
    path: '/api/cable-receiving',
    tag,
    access: 'admin',
    summary: 'Receipts, newest first',
    query: receiptsQuerySchema,
    paginated: true,
    responses: { 200: { description: 'A page of receipts.', schema: z.array(receiptJson), example: [receipt] } },
  },
  {
    method: 'get',
    path: '/api/cable-receiving/:id',
    tag,
    access: 'admin',
    summary: 'One receipt',
    params: idParam,
    responses: { 200: { description: 'The receipt.', schema: receiptJson, example: receipt } },
    example: { params: { id: 5 } },
  },
  {
    method: 'get',
    path: '/api/inventory/movements',
    tag,
    access: 'admin',
    summary: 'The stock ledger, newest first',
    description: 'Append-only: receipts, consumption at fulfilment, adjustments.',
    query: movementsQuerySchema,
    paginated: true,
    responses: { 200: { description: 'A page of movements.', schema: z.array(movementJson), example: [movement] } },
    example: { query: { movement_type: 'adjustment', limit: 50 } },
  },
  {
    method: 'post',
    path: '/api/inventory/adjustments',
    tag,
    access: 'admin',
    summary: 'Correct stock, with a reason',
    description: 'A signed quantity: +5 found in a count, -3 damaged.',
    body: adjustmentSchema,
    responses: {
      201: {
        description: 'Adjusted.',
        schema: z.object({ message: z.string(), movement: movementJson, on_hand: onHandJson }),
        example: { message: 'Stock adjusted', movement, on_hand: onHand },
      },
    },
    example: { body: { cable_type: 'Cat6', cable_length: '100ft', quantity: -3, reason: 'Damaged in the van' } },
  },
  ...reelOperations,
];
