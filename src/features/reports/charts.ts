import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { STATUS_LABELS } from '../tickets/states.ts';
import { cableName, type PresentedReport } from './presenter.ts';

/**
 * The reports' charts, drawn on the server as SVG with Observable Plot (d3's scales, axes and ticks;
 * ~5 ms a chart) on linkedom's DOM: no chart script goes to the browser. Plot's own <style> element is
 * taken out (the CSP allows no inline style) and its rules live in public/reports.css. Text and axes
 * are `currentColor`, so a chart follows the page's colours (and prints in black); the series colours
 * are CSS classes too (reports.css), so a dark theme or print can change them. Each chart is 480 px
 * wide in its own units and scales down to a phone's width (13 px text stays readable at 390 px).
 */

const { document } = parseHTML('<!doctype html><html><body></body></html>');
const WIDTH = 480;
const HEIGHT = 260;
const FONT = 13;

/** Up to this many series get a colour of their own; the rest are summed as "Other". */
export const MAX_SERIES = 6;

export interface Chart {
  /** The <svg> element's markup. */
  svg: string;
  /** Series shown in the chart and their class (reports.css colours), for the legend under it. */
  legend: { label: string; className: string }[];
}

/** What is used of the element Plot returns (linkedom's). */
interface SvgNode {
  querySelector(selector: string): { remove(): void } | null;
  querySelectorAll(selector: string): Iterable<{ removeAttribute(name: string): void }>;
  setAttribute(name: string, value: string): void;
  outerHTML: string;
}

function draw(title: string, options: Plot.PlotOptions): string {
  const svg = Plot.plot({
    document: document as never,
    className: 'chart',
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 52,
    marginBottom: 40,
    ariaLabel: title,
    ...options,
  }) as unknown as SvgNode;
  svg.querySelector('style')?.remove();
  // The chart is one image (role img, its title as label; the figures are in the table under it):
  // Plot's labels on its marks' groups are not allowed inside it, and would be read as noise.
  for (const node of svg.querySelectorAll('g[aria-label], g[aria-description]')) {
    node.removeAttribute('aria-label');
    node.removeAttribute('aria-description');
  }
  svg.setAttribute('role', 'img');
  svg.setAttribute('font-size', String(FONT));
  return svg.outerHTML;
}

const utcDay = (day: string) => new Date(`${day}T00:00:00Z`);
const shortDay = (d: Date) => d.toISOString().slice(5, 10);

/** Median and p90 hours per week: the median a solid line, the p90 dashed (the legend says so). */
function spreadChart(title: string, weeks: { week: string; median_hours: number | null; p90_hours: number | null }[]): Chart {
  const points = weeks.map((w) => ({ week: utcDay(w.week), median: w.median_hours, p90: w.p90_hours }));
  const svg = draw(title, {
    x: { type: 'utc', label: 'Week filed (UTC)', labelAnchor: 'center', labelArrow: 'none', ticks: 5, tickFormat: shortDay },
    y: { label: 'Hours', labelArrow: 'none', grid: true, zero: true, ticks: 5 },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(points, { x: 'week', y: 'p90', className: 'series-1', strokeDasharray: '5 4', strokeWidth: 2 }),
      Plot.lineY(points, { x: 'week', y: 'median', className: 'series-0', strokeWidth: 2.5 }),
      Plot.dot(points, { x: 'week', y: 'median', className: 'series-0', r: 2.5, fill: 'currentColor' }),
    ],
  });
  return {
    svg,
    legend: [
      { label: 'Median (solid)', className: 'series-0' },
      { label: '90th percentile (dashed)', className: 'series-1' },
    ],
  };
}

/** Stacked bars of counts per period, one class per series. */
function stackedChart(
  title: string,
  rows: { period: string; series: string; value: number }[],
  series: string[],
  axes: { x: string; y: string },
  allPeriods?: string[],
): Chart {
  const classOf = new Map(series.map((s, n) => [s, `series-${n}`]));
  // Every period along the bottom (those without a bar too), in order.
  const periods = allPeriods ?? [...new Set(rows.map((r) => r.period))];
  const top = new Map<string, number>();
  const stacked = series.flatMap((s) =>
    rows
      .filter((r) => r.series === s)
      .map((r) => {
        const y1 = top.get(r.period) ?? 0;
        top.set(r.period, y1 + r.value);
        return { ...r, y1, y2: y1 + r.value };
      }),
  );
  // At most ~8 labels along the bottom at 480 px: every n-th period is named.
  const every = Math.max(1, Math.ceil(periods.length / 8));
  const svg = draw(title, {
    x: {
      type: 'band',
      domain: periods,
      label: axes.x,
      labelAnchor: 'center',
      labelArrow: 'none',
      ticks: periods.filter((_, n) => n % every === 0),
      tickFormat: (p: string) => (p.length === 10 ? p.slice(5) : p),
      padding: 0.15,
    },
    y: { label: axes.y, labelArrow: 'none', grid: true, ticks: 5 },
    marks: [
      // Stacked here, not by Plot's stack transform: one mark per series keeps a CSS class per series.
      ...series.map((s) =>
        Plot.rectY(
          stacked.filter((r) => r.series === s),
          { x: 'period', y1: 'y1', y2: 'y2', className: classOf.get(s), fill: 'currentColor' },
        ),
      ),
      Plot.ruleY([0]),
    ],
  });
  return { svg, legend: series.map((s) => ({ label: s, className: classOf.get(s) as string })) };
}

type ConsumptionLine = Extract<PresentedReport, { report: 'consumption' }>['months'][number];

/** Stacked bars per month of one unit's lines, the biggest types a series each, the rest as "Other". */
function consumptionChart(title: string, lines: ConsumptionLine[], months: string[], yLabel: string): Chart | undefined {
  // Months without consumption are lines of 0: on the axis, but no series of their own.
  const used = lines.filter((m) => m.quantity !== 0);
  if (!used.length) return undefined;
  const totals = new Map<string, number>();
  // Bulk series are named as the table names them ("Cat6, on reels").
  const nameOf = (m: ConsumptionLine) => cableName(m.cable_type, m.unit);
  for (const m of used) totals.set(nameOf(m), (totals.get(nameOf(m)) ?? 0) + m.quantity);
  const ranked = [...totals].sort((a, b) => b[1] - a[1]).map(([t]) => t);
  const top = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const series = ranked.length > top.length ? [...top, 'Other'] : top;
  // Locations and the "Other" types summed: one bar segment per month and series.
  const sums = new Map<string, { period: string; series: string; value: number }>();
  for (const m of used) {
    const name = top.includes(nameOf(m)) ? nameOf(m) : 'Other';
    const key = `${m.month}\u0000${name}`;
    const row = sums.get(key) ?? { period: m.month, series: name, value: 0 };
    row.value += m.quantity;
    sums.set(key, row);
  }
  return stackedChart(title, [...sums.values()], series, { x: 'Month (UTC)', y: yLabel }, months);
}

/** A report's charts, none when there is nothing to chart (the consumption report may have several). */
export function chartsOf(report: PresentedReport): Chart[] {
  const one = chartOf(report);
  return Array.isArray(one) ? one : one ? [one] : [];
}

function chartOf(report: PresentedReport): Chart | Chart[] | undefined {
  switch (report.report) {
    case 'turnaround':
      return spreadChart('Approval turnaround per week: hours from request to decision', report.weeks);
    case 'lead-time':
      return spreadChart('Fulfilment lead time per week: hours from approval to fulfilment', report.weeks);
    case 'requests': {
      const shown = report.statuses.filter((s) => report.weeks.some((w) => (w.by_status[s] ?? 0) > 0));
      const rows = report.weeks.flatMap((w) =>
        shown.map((s) => ({
          period: w.week,
          series: STATUS_LABELS[s as keyof typeof STATUS_LABELS] ?? s,
          value: w.by_status[s] ?? 0,
        })),
      );
      const labels = shown.map((s) => STATUS_LABELS[s as keyof typeof STATUS_LABELS] ?? s);
      if (!report.weeks.length) return undefined;
      return statusClasses(
        stackedChart('Requests filed per week, by status now', rows, labels, { x: 'Week filed (UTC)', y: 'Requests' }),
        shown,
      );
    }
    case 'consumption': {
      // Pieces and lengths share no axis: counted pieces in one chart, bulk cable cut from reels in
      // another per unit (ft, m), each only when the range has some.
      const where = report.filters.location === 'all' ? 'all locations' : (report.months[0]?.location ?? '');
      const months = [...new Set(report.months.map((m) => m.month))];
      const charts = [
        consumptionChart(
          `Cable consumed per month, by type: ${where}`,
          report.months.filter((m) => m.unit === 'each'),
          months,
          'Pieces',
        ),
        ...(['ft', 'm'] as const).map((unit) =>
          consumptionChart(
            `Bulk cable cut from reels per month (${unit}), by type: ${where}`,
            report.months.filter((m) => m.unit === unit),
            months,
            unit === 'ft' ? 'Feet' : 'Metres',
          ),
        ),
      ];
      return charts.filter((c): c is Chart => c !== undefined);
    }
    case 'cover': {
      const runOut = report.skus.filter((s) => s.days_of_cover !== null).slice(0, 12);
      if (!runOut.length) return undefined;
      const rows = runOut.map((s) => ({
        sku: s.unit === 'each' ? `${s.cable_type} ${s.cable_length}` : cableName(s.cable_type, s.unit),
        days: s.days_of_cover as number,
      }));
      const svg = draw(`Days of cover at the last 90 days’ rate, ${runOut[0]?.location}: the first to run out on top`, {
        height: 36 + rows.length * 22,
        marginLeft: 130,
        marginBottom: 36,
        x: { label: 'Days of cover', labelAnchor: 'center', labelArrow: 'none', grid: true, ticks: 5 },
        y: { label: null, domain: rows.map((r) => r.sku), tickFormat: (s: string) => (s.length > 20 ? `${s.slice(0, 19)}…` : s) },
        marks: [Plot.barX(rows, { x: 'days', y: 'sku', className: 'series-0', fill: 'currentColor' }), Plot.ruleX([0])],
      });
      return { svg, legend: [] };
    }
  }
}

/** The requests chart colours a status the same whatever else is shown: its class names the status. */
function statusClasses(chart: Chart, statuses: string[]): Chart {
  let svg = chart.svg;
  const legend = chart.legend.map((l, n) => {
    const status = `status-${statuses[n]}`;
    svg = svg.replaceAll(`class="${l.className}"`, `class="${status}"`);
    return { ...l, className: status };
  });
  return { svg, legend };
}
