import { z } from 'zod';

// Control characters never belong in what people type: NUL breaks PostgreSQL, a newline in a
// one-line field breaks email subjects and CSV. Free text (notes, reasons) may keep tabs and newlines.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A required one-line string field with sentences a person can act on. */
export const text = (max: number, min = 1) =>
  requiredString(max, min).refine((v) => !CONTROL.test(v), 'must not contain control characters or line breaks');

/** A required free-text field (a reason, a note): line breaks and tabs allowed. */
export const freeText = (max: number, min = 1) =>
  requiredString(max, min).refine((v) => !CONTROL_BUT_LINES.test(v), 'must not contain control characters');

const requiredString = (max: number, min: number) =>
  z
    .string({ error: (iss) => (iss.input === undefined || iss.input === null ? 'is required' : 'must be text') })
    .trim()
    .min(min, min === 1 ? 'is required' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`);

/** An optional string (free text: line breaks allowed): missing, null or blank becomes undefined. */
export const optionalText = (max: number) =>
  z.preprocess(
    (v) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v),
    z
      .string({ error: 'must be text' })
      .trim()
      .max(max, `must be at most ${max} characters`)
      .refine((v) => !CONTROL_BUT_LINES.test(v), 'must not contain control characters')
      .optional(),
  );

/** Integers from JSON numbers or form strings ("3"), rejecting 1.5, "abc", "1e3" and unsafe sizes. */
export const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a whole number') })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );

/** A parameter that may be left blank (a form's empty select or field): '' or missing is "not given". */
export const optionalParam = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === undefined || v === '' ? undefined : v), schema.optional());

/** The largest id a table holds (a 32-bit serial): ids above it are 400s, not database errors. */
export const MAX_ID = 2_147_483_647;

export const idParam = z.object({ id: integer(1, MAX_ID) });

/**
 * A yes/no query flag (`?include_deleted=true`): true/1 or false/0 (or a JSON boolean), absent or
 * blank for false; anything else is a 400 rather than a silent "no".
 */
export const queryFlag = z.preprocess(
  (v) => {
    if (v === undefined || v === '') return false;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    return v;
  },
  z.boolean({ error: 'must be true or false' }),
);

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/**
 * Item rows from a form (`items[0][cable_type]`) or JSON, as a list: a sparse or large form index
 * makes qs hand us an object keyed by number, and a row left entirely empty on the form (the form
 * always offers one) is not an item. `keys` are the row's fields.
 */
export function formRows(value: unknown, keys: readonly string[]): unknown {
  let rows = value;
  if (rows && typeof rows === 'object' && !Array.isArray(rows)) {
    const entries = Object.entries(rows);
    if (entries.every(([k]) => /^\d+$/.test(k))) rows = entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
  }
  if (!Array.isArray(rows)) return rows;
  return rows.filter((r) => !(r && typeof r === 'object' && keys.every((k) => blank((r as Record<string, unknown>)[k]))));
}
