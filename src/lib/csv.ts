import { Readable } from 'node:stream';

export type Cell = string | number | null | undefined;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. Text that a
 * spreadsheet would run as a formula (starting with = + - @, or a tab/CR that some programs skip)
 * gets a leading apostrophe, so a vendor named "=HYPERLINK(...)" stays text. Numbers are written as
 * numbers (a -5 delta must stay a number), so the guard applies to text only.
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export const csvLine = (cells: Cell[]): string => `${cells.map(csvCell).join(',')}\r\n`;

/** Lines per chunk of a CSV stream: one chunk per line costs more in stream machinery than the line. */
const LINES_PER_CHUNK = 200;

/** A header line and then one line per row, produced as the rows arrive (nothing is held whole). */
export function csvStream<T>(header: string[], rows: AsyncIterable<T> | Iterable<T>, toCells: (row: T) => Cell[]): Readable {
  async function* chunks() {
    let chunk = csvLine(header);
    let lines = 1;
    for await (const row of rows) {
      chunk += csvLine(toCells(row));
      if (++lines >= LINES_PER_CHUNK) {
        yield chunk;
        chunk = '';
        lines = 0;
      }
    }
    if (chunk) yield chunk;
  }
  return Readable.from(chunks());
}
