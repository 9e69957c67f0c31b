import { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import {
  bulkReceiptSchema,
  reelCodeParam,
  reelCountSchema,
  reelDetailJson,
  reelJson,
  reelMoveSchema,
  reelScrapSchema,
  reelsQuerySchema,
} from './reel-schema.ts';

const tag = 'Inventory';
const TIME = '2026-12-07T09:30:00.000Z';
const reel = {
  id: 123,
  code: 'R-000123',
  cable_type: 'Cat6',
  unit: 'ft',
  location: { id: 1, name: 'Main warehouse' },
  starting_mm: 304_800,
  remaining_mm: 198_120,
  starting: '1,000 ft',
  remaining: '650 ft',
  lot: 'LOT-2291',
  receipt_id: 5,
  status: 'active',
  pickable: true,
  url: 'https://cable.example.com/r/R-000123',
  created_at: TIME,
  updated_at: TIME,
};
// The reel in these answers is the one GET /api/reels/{code} shows: no example repeated on the page.
const answer = (description: string) => ({
  200: { description, schema: z.object({ message: z.string(), reel: reelJson }) },
});
const refusals = { 404: 'No reel with that code.', 409: 'The reel is scrapped, empty (move) or changed meanwhile.' };

export const reelOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/cable-receiving/bulk',
    tag,
    access: 'admin',
    summary: 'Receive bulk cable on reels',
    description: 'One reel (R-000123) and one receipt movement per physical reel, in one transaction.',
    body: bulkReceiptSchema,
    responses: {
      201: {
        description:
          'Received: the receipt, its reels as GET /api/reels shows them (the example leaves them out), and the label sheet.',
        schema: z.object({
          message: z.string(),
          receipt: z.object({ id: z.number().int(), vendor: z.string(), po_number: z.string().nullable() }),
          reels: z.array(reelJson),
          labels: z.string().meta({ description: 'The page printing every label of this receipt.' }),
        }),
        headers: { Location: 'The receipt: /api/cable-receiving/{id}.' },
        example: {
          message: 'Bulk cable received',
          receipt: { id: 5, vendor: 'Anixter', po_number: 'PO-1190' },
          reels: [],
          labels: '/inventory/receiving/5/labels',
        },
      },
    },
    example: {
      body: {
        vendor: 'Anixter',
        po_number: 'PO-1190',
        lines: [{ cable_type: 'Cat6', unit: 'ft', reels: [{ length: '1000 ft', lot: 'LOT-2291' }, { length: '1000 ft' }] }],
      },
    },
  },
  {
    method: 'get',
    path: '/api/reels',
    tag,
    access: 'user',
    summary: 'Reels of bulk cable',
    query: reelsQuerySchema,
    paginated: true,
    responses: { 200: { description: 'A page of reels, oldest first.', schema: z.array(reelJson), example: [reel] } },
    example: { query: { location_id: 1, sku: 'Cat6' } },
  },
  {
    method: 'get',
    path: '/api/reels/:code',
    tag,
    access: 'user',
    summary: 'One reel',
    description: 'Admins also get its movements.',
    params: reelCodeParam,
    responses: {
      200: {
        description: 'The reel.',
        schema: reelDetailJson,
        example: {
          ...reel,
          movements: [
            {
              id: 40,
              movement_type: 'receipt',
              source_type: 'reel_receipt',
              source_id: 123,
              location_id: 1,
              location_name: 'Main warehouse',
              quantity_mm: 304_800,
              quantity: '+1,000 ft',
              actor: { id: 1, username: 'boss' },
              notes: 'Anixter, PO PO-1190',
              created_at: TIME,
            },
          ],
        },
      },
    },
    errors: { 404: 'No reel with that code.' },
    example: { params: { code: 'R-000123' } },
  },
  {
    method: 'post',
    path: '/api/reels/:code/move',
    tag,
    access: 'admin',
    summary: 'Move a reel to another location',
    params: reelCodeParam,
    body: reelMoveSchema,
    responses: answer('Moved:'),
    errors: refusals,
    example: { params: { code: 'R-000123' }, body: { to_location_id: 2 } },
  },
  {
    method: 'post',
    path: '/api/reels/:code/count',
    tag,
    access: 'admin',
    summary: 'Count a reel',
    params: reelCodeParam,
    body: reelCountSchema,
    responses: answer('Counted:'),
    errors: refusals,
    example: { params: { code: 'R-000123' }, body: { remaining: '640 ft', reason: 'Measured at the yearly count' } },
  },
  {
    method: 'post',
    path: '/api/reels/:code/scrap',
    tag,
    access: 'admin',
    summary: 'Scrap a reel',
    params: reelCodeParam,
    body: reelScrapSchema,
    responses: answer('Scrapped:'),
    errors: refusals,
    example: { params: { code: 'R-000123' }, body: { reason: 'Offcut too short to use' } },
  },
];
