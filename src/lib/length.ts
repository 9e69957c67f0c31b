/**
 * Lengths of bulk cable (DESIGN.md §13): stored as whole millimetres, typed and shown in feet or
 * metres. Parsing works on the decimal digits as integers (BigInt), so "1,000 ft" is exactly
 * 304,800 mm and formatting then parsing a length gives the same millimetres back.
 */

export type LengthUnit = 'ft' | 'm';
export const LENGTH_UNITS: readonly LengthUnit[] = ['ft', 'm'];
export const MM_PER_FT = 304.8;
/** 100 km: far beyond any reel, far below any integer overflow. */
export const MAX_LENGTH_MM = 100_000_000;

export type ParsedLength = { ok: true; mm: number; unit: LengthUnit } | { ok: false; error: string };

const UNIT_WORDS: Record<string, LengthUnit> = {
  ft: 'ft',
  feet: 'ft',
  foot: 'ft',
  "'": 'ft',
  '’': 'ft',
  m: 'm',
  meter: 'm',
  meters: 'm',
  metre: 'm',
  metres: 'm',
};

// A number (plain digits, or groups of three after commas, with up to 6 decimals) and a unit.
const SHAPE = /^([+-]?)(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d{1,6}))?\s*([a-z'’]+)$/;

const refuse = (error: string): ParsedLength => ({ ok: false, error });

/** Rounds numerator / denominator to the nearest integer, halves up (both positive). */
const roundDiv = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);

/**
 * "100ft", "100 ft", "100'", "30m", "30 m", "1,000 ft", "30.5 m" -> millimetres and the unit typed.
 * Anything else is refused with a sentence fit for a form: no unit, another unit, zero or negative,
 * more than 100 km.
 */
export function parseLength(input: string): ParsedLength {
  const text = String(input ?? '')
    .trim()
    .toLowerCase();
  if (text === '') return refuse('enter a length such as "100 ft" or "30 m"');
  const match = SHAPE.exec(text);
  if (!match) return refuse(`"${clip(input)}" is not a length: write it as "100 ft", "100'" or "30 m"`);
  const [, sign, whole = '', decimals = '', word = ''] = match;
  const unit = UNIT_WORDS[word];
  if (!unit) return refuse(`"${clip(word)}" is not a unit: use ft or m`);
  if (sign === '-') return refuse('a length must be more than zero');
  const digits = BigInt(whole.replace(/,/g, '') + decimals);
  const scale = 10n ** BigInt(decimals.length);
  if (whole.replace(/,/g, '').length > 12) return refuse('a length must be at most 100 km');
  // ft: value * 304.8 = digits * 3048 / (scale * 10); m: value * 1000 = digits * 1000 / scale.
  const mm = unit === 'ft' ? roundDiv(digits * 3048n, scale * 10n) : roundDiv(digits * 1000n, scale);
  if (digits === 0n) return refuse('a length must be more than zero');
  if (mm === 0n) return refuse('a length must be at least 1 mm');
  if (mm > BigInt(MAX_LENGTH_MM)) return refuse('a length must be at most 100 km');
  return { ok: true, mm: Number(mm), unit };
}

const group = (n: bigint): string => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * Thousandths of the unit, rounded: mm * 1000 / 304.8 = mm * 10000 / 3048 for feet; mm itself for
 * metres. For feet the fewest decimals that still read back as the same millimetres are kept, so
 * "42 ft" (12,802 mm) shows as "42 ft", not "42.001 ft".
 */
const thousandthsOf = (mm: number, unit: LengthUnit): bigint => {
  const abs = BigInt(Math.round(Math.abs(mm)));
  if (unit === 'm') return abs;
  for (const step of [1000n, 100n, 10n]) {
    const shorter = roundDiv(abs * 10_000n, 3048n * step) * step;
    if (roundDiv(shorter * 3048n, 10_000n) === abs) return shorter;
  }
  return roundDiv(abs * 10_000n, 3048n);
};

const figure = (thousandths: bigint, negative: boolean, grouped: boolean): string => {
  const whole = thousandths / 1000n;
  const fraction = (thousandths % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
  return `${negative && thousandths > 0n ? '-' : ''}${grouped ? group(whole) : whole.toString()}${fraction ? `.${fraction}` : ''}`;
};

/**
 * Millimetres in a unit with up to three decimals, trailing zeros trimmed and thousands grouped:
 * "1,000 ft", "30.5 m", "-12.5 ft". Three decimals of a foot (0.3 mm) is finer than a millimetre,
 * so parseLength(formatLength(x, u)).mm === x for every whole x; and a length typed with up to two
 * decimals shows as it was typed.
 */
export function formatLength(mm: number, unit: LengthUnit): string {
  return `${figure(thousandthsOf(mm, unit), mm < 0, true)} ${unit}`;
}

/**
 * The same figure as a plain number in the unit (-12.5 for -3810 mm in ft): for CSV, JSON and
 * spreadsheets. A fraction of a millimetre (a rate per day) is converted as it is, not rounded to
 * whole millimetres first.
 */
export function lengthInUnit(mm: number, unit: LengthUnit): number {
  if (!Number.isInteger(mm)) return Math.round((mm * 1000) / (unit === 'ft' ? MM_PER_FT : 1000)) / 1000;
  return Number(figure(thousandthsOf(mm, unit), mm < 0, false));
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}...` : s);
