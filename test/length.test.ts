import test from 'ava';
import fc from 'fast-check';
import { formatLength, type LengthUnit, lengthInUnit, MAX_LENGTH_MM, parseLength } from '../src/lib/length.ts';

/** Lengths of bulk cable (DESIGN.md §13): what parses, what is refused and why, no rounding drift. */

const mmOf = (input: string) => {
  const r = parseLength(input);
  return r.ok ? r.mm : r.error;
};

test('the spellings people write parse to whole millimetres', (t) => {
  t.is(mmOf('100ft'), 30_480);
  t.is(mmOf('100 ft'), 30_480);
  t.is(mmOf("100'"), 30_480);
  t.is(mmOf('100 FT'), 30_480);
  t.is(mmOf('  100 feet '), 30_480);
  t.is(mmOf('30m'), 30_000);
  t.is(mmOf('30 m'), 30_000);
  t.is(mmOf('30.5 m'), 30_500);
  t.is(mmOf('1,000 ft'), 304_800);
  t.is(mmOf('1,000,000 m'), 'a length must be at most 100 km');
  t.is(mmOf('0.5 ft'), 152, '152.4 mm rounds to 152');
  t.deepEqual(parseLength('1000 ft'), { ok: true, mm: 304_800, unit: 'ft' });
  t.deepEqual(parseLength('305 m'), { ok: true, mm: 305_000, unit: 'm' });
});

test('anything else is refused with a sentence', (t) => {
  t.is(mmOf('12 parsecs'), '"parsecs" is not a unit: use ft or m');
  t.is(mmOf('-5m'), 'a length must be more than zero');
  t.is(mmOf('0 ft'), 'a length must be more than zero');
  t.is(mmOf('0.000001 m'), 'a length must be at least 1 mm');
  t.is(mmOf(''), 'enter a length such as "100 ft" or "30 m"');
  t.is(mmOf('100'), '"100" is not a length: write it as "100 ft", "100\'" or "30 m"');
  t.is(mmOf('ft'), '"ft" is not a length: write it as "100 ft", "100\'" or "30 m"');
  t.is(mmOf('1,00 ft'), '"1,00 ft" is not a length: write it as "100 ft", "100\'" or "30 m"');
  t.is(mmOf('100.5.5 m'), '"100.5.5 m" is not a length: write it as "100 ft", "100\'" or "30 m"');
  t.is(mmOf('100,001 m'), 'a length must be at most 100 km');
  t.is(mmOf('99999999999999999999999 ft'), 'a length must be at most 100 km');
  t.is(mmOf(`${'9'.repeat(400)} m`), 'a length must be at most 100 km');
  t.is(mmOf('100 km'), '"km" is not a unit: use ft or m');
  t.is(mmOf('1e3 m'), '"1e3 m" is not a length: write it as "100 ft", "100\'" or "30 m"');
});

test('formatting shows the unit with up to three decimals, grouped', (t) => {
  t.is(formatLength(304_800, 'ft'), '1,000 ft');
  t.is(formatLength(30_480, 'ft'), '100 ft');
  t.is(formatLength(30_500, 'm'), '30.5 m');
  t.is(formatLength(1, 'm'), '0.001 m');
  t.is(formatLength(1, 'ft'), '0.003 ft');
  t.is(formatLength(0, 'ft'), '0 ft');
  t.is(formatLength(-12_192, 'ft'), '-40 ft');
  t.is(formatLength(MAX_LENGTH_MM, 'm'), '100,000 m');
});

test('parse(format(x)) == x for every length in 1 mm .. 100 km, in both units', (t) => {
  const unit = fc.constantFrom<LengthUnit>('ft', 'm');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: MAX_LENGTH_MM }), unit, (mm, u) => {
      const back = parseLength(formatLength(mm, u));
      return back.ok && back.mm === mm && back.unit === u;
    }),
    { numRuns: 20_000 },
  );
  // The edges and the values nearest a half millimetre of a foot, where drift would show first.
  for (const mm of [1, 2, 152, 153, 304, 305, MAX_LENGTH_MM - 1, MAX_LENGTH_MM])
    for (const u of ['ft', 'm'] as const) t.is(mmOf(formatLength(mm, u)), mm, `${mm} ${u}`);
});

test('a length typed with up to two decimals shows as it was typed (no "42.001 ft")', (t) => {
  const shownFor = (typed: string) => {
    const r = parseLength(typed);
    if (!r.ok) throw new Error(r.error);
    return formatLength(r.mm, 'ft');
  };
  t.is(shownFor('42 ft'), '42 ft');
  t.is(shownFor('2,042 ft'), '2,042 ft');
  t.is(shownFor('12.5 ft'), '12.5 ft');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom('', '5', '25', '05', '99'), (whole, decimals) => {
      const typed = decimals ? `${whole}.${decimals}` : `${whole}`;
      const expected = decimals ? typed.replace(/0+$/, '') : typed;
      return shownFor(`${typed} ft`).replace(/,/g, '') === `${expected} ft`;
    }),
    { numRuns: 20_000 },
  );
});

test('lengthInUnit is the formatted figure as a plain number (CSV): signed, ungrouped, the same decimals', (t) => {
  t.is(lengthInUnit(3810, 'ft'), 12.5);
  t.is(lengthInUnit(-3810, 'ft'), -12.5);
  t.is(lengthInUnit(304_800_000 / 1000, 'ft'), 1000);
  t.is(lengthInUnit(30_500, 'm'), 30.5);
  t.is(lengthInUnit(0, 'm'), 0);
  fc.assert(
    fc.property(
      fc.integer({ min: -MAX_LENGTH_MM, max: MAX_LENGTH_MM }),
      fc.constantFrom<LengthUnit>('ft', 'm'),
      (mm, unit) => lengthInUnit(mm, unit) === Number(formatLength(mm, unit).replace(/,/g, '').split(' ')[0]),
    ),
  );
  t.pass();
});
