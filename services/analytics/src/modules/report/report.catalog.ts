import type { AuthUser } from '@crm/auth';
import type { Table, TableColumn, TableRow } from '@crm/tabular';
import type { AnalyticsServices } from '../../context.js';
import { ReportException } from './report.errors.js';

/** How a report is drawn (ANA-10): the column on the x axis and the measures on the y axis. */
export interface ChartSpec {
  mark: 'line' | 'bar';
  x: string;
  y: string[];
  /** Rows left out of the chart (totals, "others" when they would dwarf the rest are kept: only totals go). */
  skipRow?: (row: TableRow) => boolean;
}

type ParamKind = 'string' | 'int' | readonly string[];

export interface ReportDefinition {
  title: string;
  /** Query-string parameters and how each is read; the service checks ranges, limits and rights. */
  params: Record<string, ParamKind>;
  required?: string[];
  columns: TableColumn[];
  chart: ChartSpec;
  run(services: AnalyticsServices, user: AuthUser, args: Record<string, string | number | undefined>): Promise<{ rows: readonly object[]; parameters: Record<string, string> }>;
}

const GRANULARITY = ['DAY', 'MONTH', 'YEAR'] as const;
const range = { from: 'string', to: 'string', timeZone: 'string' } as const;
const text = (key: string, label: string): TableColumn => ({ key, label, kind: 'text' });
const integer = (key: string, label: string): TableColumn => ({ key, label, kind: 'integer' });
const money = (key: string, label: string): TableColumn => ({ key, label, kind: 'money' });
const ratio = (key: string, label: string): TableColumn => ({ key, label, kind: 'ratio' });
const number = (key: string, label: string): TableColumn => ({ key, label, kind: 'number' });
const OTHERS = '(others)';

/** The parameters a report was computed for, as strings (XML attributes, the XLSX parameters sheet). */
function describe(result: Record<string, unknown>, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = result[key];
    if (value !== null && value !== undefined) out[key] = value instanceof Date ? value.toISOString() : String(value);
  }
  return out;
}

type Args = Record<string, string | number | undefined>;
const a = (args: Args) => args as never;

/** Every report of the analytics service as a table and a chart: what exports (ANA-8) and charts (ANA-10) serve. */
export const REPORTS: Record<string, ReportDefinition> = {
  'sales-trend': {
    title: 'Sales by period',
    params: { ...range, granularity: GRANULARITY, currency: 'string' },
    required: ['from', 'to'],
    columns: [text('period', 'Period'), integer('orders', 'Orders'), money('amount', 'Amount')],
    chart: { mark: 'line', x: 'period', y: ['amount'] },
    async run(services, user, args) {
      const r = await services.sales.trend(user, a(args));
      return { rows: r.points, parameters: describe(r, ['from', 'to', 'granularity', 'timeZone', 'currency']) };
    },
  },
  'sales-composition': {
    title: 'Sales by customer or product',
    params: { ...range, by: ['CUSTOMER', 'PRODUCT'], currency: 'string', top: 'int' },
    required: ['by', 'from', 'to'],
    columns: [text('key', 'Customer or product'), integer('orders', 'Orders'), integer('quantity', 'Units'), money('amount', 'Amount'), ratio('share', 'Share')],
    chart: { mark: 'bar', x: 'key', y: ['amount'] },
    async run(services, user, args) {
      const r = await services.sales.composition(user, a(args));
      const rows: TableRow[] = r.rows.map((row) => ({ key: row.key, orders: row.orders, quantity: row.quantity, amount: row.amount, share: row.share }));
      if (r.rest.count) rows.push({ key: `${OTHERS} ${r.rest.count}`, orders: null, quantity: null, amount: r.rest.amount, share: r.rest.share });
      return { rows, parameters: describe(r, ['by', 'from', 'to', 'timeZone', 'currency']) };
    },
  },
  'customer-distribution': {
    title: 'Customers by place',
    params: { level: ['COUNTRY', 'PROVINCE', 'CITY'], country: 'string', province: 'string', currency: 'string' },
    required: ['level'],
    columns: [text('key', 'Place'), integer('customers', 'Customers'), integer('orders', 'Orders'), money('amount', 'Amount')],
    chart: { mark: 'bar', x: 'key', y: ['customers'] },
    async run(services, user, args) {
      const r = await services.customerValues.geoDistribution(user, a(args));
      return { rows: r.rows, parameters: { ...describe(r, ['level', 'country', 'province']), currency: String(args.currency ?? r.rows[0]?.amount.currency ?? '') } };
    },
  },
  'customer-value-distribution': {
    title: 'Customers by orders and by spend',
    params: { by: ['ORDERS', 'AMOUNT'], currency: 'string' },
    columns: [text('band', 'Band'), integer('customers', 'Customers'), money('amount', 'Amount')],
    chart: { mark: 'bar', x: 'band', y: ['customers'] },
    async run(services, user, args) {
      const r = await services.customerValues.valueDistribution(user, a(args));
      const by = args.by === 'AMOUNT' ? 'AMOUNT' : 'ORDERS';
      return { rows: by === 'AMOUNT' ? r.byAmount : r.byOrders, parameters: { by, currency: r.currency } };
    },
  },
  'rfm-top': {
    title: 'Best customers by RFM',
    params: { limit: 'int' },
    columns: [text('customerId', 'Customer'), integer('recency', 'R'), integer('frequency', 'F'), integer('monetary', 'M'), integer('score', 'RFM score'), text('segment', 'Segment'), integer('orders', 'Orders'), integer('recencyDays', 'Days since last order'), money('lifetimeValue', 'Lifetime value'), integer('churnScore', 'Churn risk')],
    chart: { mark: 'bar', x: 'customerId', y: ['score'] },
    async run(services, user, args) {
      const list = await services.customerValues.rfmTop(user, a(args));
      const rows = list.map((v) => ({ customerId: v.customerId, recency: v.rfm?.recency ?? null, frequency: v.rfm?.frequency ?? null, monetary: v.rfm?.monetary ?? null, score: v.rfm?.score ?? null, segment: v.rfm?.segment ?? null, orders: v.orders, recencyDays: v.recencyDays, lifetimeValue: v.lifetimeValue, churnScore: v.churnRisk.score }));
      return { rows, parameters: { limit: String(args.limit ?? 100) } };
    },
  },
  'churn-warnings': {
    title: 'Churn warnings',
    params: { minLevel: ['LOW', 'MEDIUM', 'HIGH'], first: 'int' },
    columns: [text('customerId', 'Customer'), integer('score', 'Churn risk'), text('level', 'Level'), text('reasons', 'Reasons'), { key: 'computedAt', label: 'Computed at', kind: 'instant' }],
    chart: { mark: 'bar', x: 'customerId', y: ['score'] },
    async run(services, user, args) {
      const list = await services.customerValues.churnWarnings(user, a(args));
      return { rows: list.map((w) => ({ ...w, reasons: w.reasons.join('; ') })), parameters: { minLevel: String(args.minLevel ?? 'HIGH') } };
    },
  },
  'service-trend': {
    title: 'Tickets by period',
    params: { ...range, granularity: GRANULARITY },
    required: ['from', 'to'],
    columns: [text('period', 'Period'), integer('opened', 'Opened'), integer('resolved', 'Resolved')],
    chart: { mark: 'line', x: 'period', y: ['opened', 'resolved'] },
    async run(services, user, args) {
      const r = await services.serviceReports.trend(user, a(args));
      return { rows: r.points, parameters: describe(r, ['from', 'to', 'granularity', 'timeZone']) };
    },
  },
  'service-composition': {
    title: 'Tickets by product or type',
    params: { ...range, by: ['PRODUCT', 'TYPE'], top: 'int' },
    required: ['by', 'from', 'to'],
    columns: [text('key', 'Product or type'), integer('count', 'Tickets'), ratio('share', 'Share')],
    chart: { mark: 'bar', x: 'key', y: ['count'] },
    async run(services, user, args) {
      const r = await services.serviceReports.composition(user, a(args));
      const rows: TableRow[] = r.rows.map((row) => ({ key: row.key || '(no product)', count: row.count, share: row.share }));
      if (r.rest.count) rows.push({ key: OTHERS, count: r.rest.count, share: r.rest.share });
      return { rows, parameters: describe(r, ['by', 'from', 'to', 'timeZone']) };
    },
  },
  'service-times': {
    title: 'Response and resolution times (minutes)',
    params: range,
    required: ['from', 'to'],
    columns: [text('measure', 'Measure'), integer('count', 'Tickets'), number('averageMinutes', 'Average'), number('medianMinutes', 'Median'), number('p90Minutes', '90th percentile')],
    chart: { mark: 'bar', x: 'measure', y: ['averageMinutes', 'medianMinutes', 'p90Minutes'] },
    async run(services, user, args) {
      const r = await services.serviceReports.times(user, a(args));
      const rows = [
        { measure: 'first response', ...r.firstResponse },
        { measure: 'resolution', ...r.resolution },
      ];
      const s = r.satisfaction;
      return { rows, parameters: { ...describe(r, ['from', 'to', 'timeZone', 'tickets']), ratings: String(s.count), averageRating: s.average === null ? '' : String(s.average), ratingDistribution: s.distribution.join(' ') } };
    },
  },
  'sales-funnel': {
    title: 'Lead to won order',
    params: { ...range, granularity: GRANULARITY, source: 'string', currency: 'string', by: ['PERIOD', 'SOURCE'] },
    required: ['from', 'to'],
    columns: [text('key', 'Period or source'), integer('leads', 'Leads'), integer('opportunities', 'Opportunities'), integer('won', 'Won'), money('wonAmount', 'Won amount'), ratio('leadToOpportunity', 'Lead → opportunity'), ratio('opportunityToWon', 'Opportunity → won'), ratio('leadToWon', 'Lead → won')],
    chart: { mark: 'bar', x: 'key', y: ['leads', 'opportunities', 'won'], skipRow: (row) => row.key === 'TOTAL' },
    async run(services, user, args) {
      const r = await services.funnel.funnel(user, a(args));
      const by = args.by === 'SOURCE' ? 'SOURCE' : 'PERIOD';
      return { rows: [...(by === 'SOURCE' ? r.sources : r.periods), r.total], parameters: { ...describe(r, ['from', 'to', 'granularity', 'timeZone', 'source', 'currency']), by } };
    },
  },
  'campaign-effect': {
    title: 'Campaign effect',
    params: { ...range, currency: 'string' },
    required: ['from', 'to'],
    columns: [text('campaignCode', 'Campaign'), integer('leads', 'Leads'), integer('opportunities', 'Opportunities'), integer('won', 'Won'), integer('orders', 'Orders'), money('revenue', 'Revenue')],
    chart: { mark: 'bar', x: 'campaignCode', y: ['leads', 'opportunities', 'won', 'orders'] },
    async run(services, user, args) {
      const r = await services.funnel.campaignEffect(user, a(args));
      return { rows: r.rows, parameters: describe(r, ['from', 'to', 'timeZone', 'currency']) };
    },
  },
  'product-pairs': {
    title: 'Products bought together',
    params: { productId: 'string', limit: 'int' },
    columns: [text('productId', 'Product'), text('otherProductId', 'Bought with'), integer('orders', 'Orders'), ratio('support', 'Support'), ratio('confidence', 'Confidence'), ratio('reverseConfidence', 'Reverse confidence'), number('lift', 'Lift')],
    chart: { mark: 'bar', x: 'pair', y: ['lift'] },
    async run(services, user, args) {
      const r = await services.patterns.productPairs(user, a(args));
      return { rows: r.pairs.map((p) => ({ ...p, pair: `${p.productId} + ${p.otherProductId}` })), parameters: { ...describe(r, ['computedAt', 'baskets', 'productOrders']), ...(args.productId ? { productId: String(args.productId) } : {}) } };
    },
  },
  'customer-clusters': {
    title: 'Customer clusters (k-means on RFM)',
    params: {},
    columns: [integer('id', 'Cluster'), text('label', 'Label'), integer('customers', 'Customers'), number('recencyDays', 'Days since last order'), number('orders', 'Orders'), money('spend', 'Spend')],
    chart: { mark: 'bar', x: 'label', y: ['customers'] },
    async run(services, user) {
      const r = await services.patterns.customerClusters(user);
      return { rows: r.clusters, parameters: describe(r, ['computedAt', 'currency', 'customers']) };
    },
  },
};

export const REPORT_NAMES = Object.keys(REPORTS);

/** Reads a report's parameters from a query string: unknown, missing and malformed ones all reported at once. */
export function reportArgs(name: string, params: URLSearchParams, ignore: readonly string[] = []): { report: ReportDefinition; args: Args } {
  const report = REPORTS[name];
  if (!report) throw new ReportException('REPORT_NOT_FOUND', `No report "${name}"`, [{ field: 'report', message: `One of ${REPORT_NAMES.join(', ')}` }]);
  const args: Args = {};
  const problems: { field: string; message: string }[] = [];
  for (const [key, value] of params) {
    if (ignore.includes(key)) continue;
    const kind = report.params[key];
    if (!kind) problems.push({ field: key, message: `Unknown parameter; ${name} takes ${Object.keys(report.params).join(', ') || 'none'}` });
    else if (kind === 'int') {
      if (!/^-?\d{1,9}$/.test(value)) problems.push({ field: key, message: 'A whole number' });
      else args[key] = Number(value);
    } else if (Array.isArray(kind)) {
      if (!kind.includes(value)) problems.push({ field: key, message: `One of ${kind.join(', ')}` });
      else args[key] = value;
    } else args[key] = value;
  }
  for (const key of report.required ?? []) if (args[key] === undefined && !problems.some((p) => p.field === key)) problems.push({ field: key, message: 'Required' });
  if (problems.length) throw new ReportException('REPORT_INVALID_INPUT', `Invalid parameters for ${name}`, problems);
  return { report, args };
}

/** Runs a report for a caller and returns it as a table. */
export async function reportTable(services: AnalyticsServices, user: AuthUser, name: string, report: ReportDefinition, args: Args): Promise<Table> {
  const { rows, parameters } = await report.run(services, user, args);
  // Rows are the services' own result objects; the columns pick what a file shows.
  return { name, title: report.title, parameters, columns: report.columns, rows: rows as TableRow[] };
}
