/**
 * A SKU is (cable_type, cable_length) compared case- and whitespace-insensitively (DESIGN.md §7):
 * "cat6 " and "Cat6" are one SKU. The key is what the database compares; the display keeps the
 * first spelling seen.
 */
export const normalise = (value: string): string => value.trim().replace(/\s+/g, ' ').toLowerCase();

/** A `|` inside a part is escaped, so ("a|b", "c") and ("a", "b|c") stay two SKUs. */
const part = (value: string) => normalise(value).replace(/[\\|]/g, (c) => `\\${c}`);

export const skuKey = (cableType: string, cableLength: string): string => `${part(cableType)}|${part(cableLength)}`;

/** "Cat6 100ft": how a SKU is named in messages. */
export const skuLabel = (s: { cable_type: string; cable_length: string }): string => `${s.cable_type} ${s.cable_length}`;
