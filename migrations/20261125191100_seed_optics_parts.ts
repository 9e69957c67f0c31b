import type { Knex } from 'knex';

/** Common generic transceivers, slowest first; admins change the list on /optics/parts. */
const DEFAULT_PARTS = [
  'SFP-1G-SX',
  'SFP-1G-LX',
  'SFP-10G-SR',
  'SFP-10G-LR',
  'SFP-25G-SR',
  'QSFP-40G-SR4',
  'QSFP-100G-SR4',
  'QSFP-100G-LR4',
];

export async function up(knex: Knex): Promise<void> {
  const now = new Date().toISOString();
  await knex('optics_parts').insert(
    DEFAULT_PARTS.map((part_number) => ({ part_number, part_key: part_number.toLowerCase(), created_at: now })),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex('optics_parts')
    .whereIn(
      'part_key',
      DEFAULT_PARTS.map((p) => p.toLowerCase()),
    )
    .delete();
}
