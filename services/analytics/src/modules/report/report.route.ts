import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import type { TokenVerifier } from '@crm/auth';
import type { Logger } from '@crm/logger';
import { downloadRoute, type Download } from '@crm/subgraph';
import { CONTENT_TYPES, isTableFormat, writeTable } from '@crm/tabular';
import type { AnalyticsServices } from '../../context.js';
import { reportArgs, reportTable } from './report.catalog.js';
import { renderChart } from './report.chart.js';
import { ReportException } from './report.errors.js';

/** `/reports/<report>.<csv|xlsx|xml|svg>`; the gateway passes this path through. */
export const REPORT_ROUTE = '/reports/:file';

export interface ReportRouteOptions {
  services: AnalyticsServices;
  verifier: TokenVerifier;
  gatewaySecret: string | readonly string[];
  logger: Logger;
}

/**
 * `GET /reports/sales-trend.csv?from=2026-01-01&to=2026-12-31&granularity=MONTH` — any report as a CSV,
 * XLSX or XML file (ANA-8) or an SVG chart (ANA-10), with the report's GraphQL arguments as query
 * parameters. The same service methods as the GraphQL queries run, so the same rights and limits apply.
 */
export function reportHandler({ services, verifier, gatewaySecret, logger }: ReportRouteOptions) {
  return downloadRoute({ verifier, gatewaySecret, logger }, async (req, user, log): Promise<Download> => {
    const url = new URL(req.url ?? '', 'http://localhost');
    const file = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    const match = /^([a-z-]+)\.([a-z]+)$/.exec(file);
    if (!match) throw new ReportException('REPORT_NOT_FOUND', `No report file "${file}"`, [{ field: 'report', message: 'A report name and a format, e.g. sales-trend.csv' }]);
    const [, name, format] = match as unknown as [string, string, string];
    if (format !== 'svg' && !isTableFormat(format)) throw new ReportException('REPORT_INVALID_INPUT', `Unknown format "${format}"`, [{ field: 'format', message: 'csv, xlsx, xml or svg' }]);
    const { report, args } = reportArgs(name, url.searchParams);
    // The report runs before any byte is sent: bad parameters and missing rights are clean errors.
    const table = await reportTable(services, user, name, report, args);
    log.info({ report: name, format, rows: table.rows.length }, 'report served');
    if (format === 'svg') {
      const svg = await renderChart(table, report.chart);
      return { contentType: 'image/svg+xml; charset=utf-8', write: async (res: ServerResponse) => void (await endWith(res, svg)) };
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return { contentType: CONTENT_TYPES[format], fileName: `${name}-${stamp}.${format}`, write: (res) => writeTable(format, table, res) };
  });
}

async function endWith(res: ServerResponse, body: string): Promise<void> {
  const done = finished(res);
  res.end(body);
  await done;
}
