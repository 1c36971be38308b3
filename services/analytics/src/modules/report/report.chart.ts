import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { decimalOf, type Table, type TableCell } from '@crm/tabular';
import type { ChartSpec } from './report.catalog.js';

const WIDTH = 640;
const HEIGHT = 320;

/** A chart value: money in major units (the chart is a picture; the table keeps exact minor units). */
function plotted(cell: TableCell | undefined): number | string | null {
  if (cell === null || cell === undefined) return null;
  if (cell instanceof Date) return cell.toISOString();
  if (typeof cell === 'object') return Number(decimalOf(cell));
  return cell;
}

/**
 * The Vega-Lite specification of a report's chart: a line per measure over the periods for trends,
 * bars (grouped when there are several measures) for compositions, places and bands. Categories keep
 * the table's order (already sorted by the report). Labels come from the table's columns.
 */
export function chartSpecOf(table: Table, chart: ChartSpec): TopLevelSpec {
  const label = (key: string) => table.columns.find((c) => c.key === key)?.label ?? key;
  const rows = table.rows.filter((row) => !chart.skipRow?.(row));
  const values = rows.flatMap((row) =>
    chart.y.map((measure) => ({ category: String(plotted(row[chart.x]) ?? ''), measure: label(measure), value: plotted(row[measure]) })).filter((v) => v.value !== null),
  );
  const money = chart.y.find((key) => table.columns.find((c) => c.key === key)?.kind === 'money');
  const currency = money ? (table.parameters.currency ?? '') : '';
  const yTitle = chart.y.length === 1 ? `${label(chart.y[0]!)}${currency ? ` (${currency})` : ''}` : '';
  const subtitle = Object.entries(table.parameters).map(([k, v]) => `${k}: ${v}`).join('  ');
  const order = [...new Set(values.map((v) => v.category))];
  const several = chart.y.length > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: table.title, subtitle },
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values },
    mark: chart.mark === 'line' ? { type: 'line', point: true } : { type: 'bar' },
    encoding: {
      x: { field: 'category', type: chart.mark === 'line' ? 'ordinal' : 'nominal', sort: order, title: label(chart.x), axis: { labelAngle: order.length > 12 ? -60 : 0, labelLimit: 120 } },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      ...(several ? { color: { field: 'measure', type: 'nominal', title: null, sort: chart.y.map(label) } } : {}),
      ...(several && chart.mark === 'bar' ? { xOffset: { field: 'measure', type: 'nominal', sort: chart.y.map(label) } } : {}),
      tooltip: [{ field: 'category', title: label(chart.x) }, { field: 'measure' }, { field: 'value', type: 'quantitative' }],
    },
    config: { font: 'sans-serif', view: { stroke: null } },
  } as TopLevelSpec;
}

/** Renders a report's chart as an SVG document on the server (Vega's SVG renderer: no canvas, no browser). */
export async function renderChart(table: Table, chart: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpecOf(table, chart)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
