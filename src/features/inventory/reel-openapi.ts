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
const answer = (description: string, message: string) => ({
  200: {
    description,
    schema: z.object({ message: z.string(), reel: reelJson }),
    example: { message, reel },
  },
});
const refusals = { 404: 'No reel with that code.', 409: 'The reel is scrapped, empty (move) or changed meanwhile.' };

export const reelOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/cable-receiving/bulk',
    tag,
    access: 'admin',
    summary: 'Receive bulk cable on reels',
    description:
      'One receipt; per line a cable type, its unit (the first receipt of a type sets it) and its reels, each with a length ("1000 ft", "305 m"; a bare number takes the line’s unit) and a lot. One reel (R-000123) and one receipt movement per physical reel, in one transaction.',
    body: bulkReceiptSchema,
    responses: {
      201: {
        description: 'Received.',
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
          reels: [reel],
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
    description: 'Pickable reels (active, with length left) unless all=true; by location and cable type.',
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
    description: 'Admins also get its movements (who, why, how much); the ledger is theirs.',
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
    description: 'A transfer_out and a transfer_in of its remaining length.',
    params: reelCodeParam,
    body: reelMoveSchema,
    responses: answer('Moved.', 'Reel R-000123 moved to Van 1'),
    errors: refusals,
    example: { params: { code: 'R-000123' }, body: { to_location_id: 2 } },
  },
  {
    method: 'post',
    path: '/api/reels/:code/count',
    tag,
    access: 'admin',
    summary: 'Count a reel',
    description: 'The measured remaining length becomes the reel’s, through one adjustment movement with the reason.',
    params: reelCodeParam,
    body: reelCountSchema,
    responses: answer('Counted.', 'Reel R-000123 counted'),
    errors: refusals,
    example: { params: { code: 'R-000123' }, body: { remaining: '640 ft', reason: 'Measured at the yearly count' } },
  },
  {
    method: 'post',
    path: '/api/reels/:code/scrap',
    tag,
    access: 'admin',
    summary: 'Scrap a reel',
    description: 'Its remaining length leaves stock with the reason; it leaves the pickable list.',
    params: reelCodeParam,
    body: reelScrapSchema,
    responses: answer('Scrapped.', 'Reel R-000123 scrapped'),
    errors: refusals,
    example: { params: { code: 'R-000123' }, body: { reason: 'Offcut too short to use' } },
  },
];
