import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../index.js';
import { probeServer } from './probe-server.js';
import { dashboardProblems, expressionProblems, exportedSeries, type ExportedSeries } from './dashboard-check.js';

const dashboardFile = new URL('../../../../infra/grafana/crm-overview.json', import.meta.url);
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string; query?: unknown; includeAll?: boolean; definition?: string }> };
  panels: Array<{ title: string; type: string; datasource?: { type: string; uid: string }; targets?: Array<{ expr: string; datasource?: { uid: string } }> }>;
};

// A real registry, exercised through real Express and Apollo so that every counter and histogram
// has series (a metric that was never touched exports no samples).
const metrics = new ServiceMetrics('dashboard-probe');
metrics.watchConsumerLag(async () => [{ group: 'g', topic: 'crm.order', lag: 1 }]);
metrics.watchOutboxBacklog(async () => [{ aggregate: 'orders', pending: 1 }]);
const probe = await probeServer(metrics);
const base = probe.base;
let series: ExportedSeries;

beforeAll(async () => {
  for (const query of ['query A { ok }', 'query B { fails }']) {
    await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  }
  series = await exportedSeries(metrics.registry);
});

afterAll(() => probe.stop());

describe('infra/grafana/crm-overview.json', () => {
  it('reads only metrics and labels a real ServiceMetrics registry exports', () => {
    // The registry really has what the dashboard is about (else the check below would prove nothing).
    expect(series.get('crm_http_request_duration_seconds_bucket')).toEqual(new Set(['le', 'method', 'route', 'status', 'service']));
    expect(series.get('crm_graphql_errors_total')).toEqual(new Set(['code', 'service']));
    expect(series.get('crm_outbox_backlog')).toEqual(new Set(['aggregate', 'service']));
    expect(dashboardProblems(dashboard, series)).toEqual([]);
  });

  it('covers every metric of the package and the default process metrics it relies on', () => {
    const used = new Set(dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => target.expr.match(/\b(crm|process|nodejs)_\w+/g) ?? [])));
    for (const metric of [
      'crm_http_requests_total',
      'crm_http_request_duration_seconds_bucket',
      'crm_graphql_operations_total',
      'crm_graphql_operation_duration_seconds_bucket',
      'crm_graphql_errors_total',
      'crm_kafka_consumer_lag',
      'crm_outbox_backlog',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(used, metric).toContain(metric);
    }
  });

  it('is a dashboard Grafana imports with a data source, namespace and service variables', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.namespace).toMatchObject({ type: 'query', includeAll: true, definition: expect.stringMatching(/^label_values\(.*, namespace\)$/) });
    expect(variables.service).toMatchObject({ type: 'query', includeAll: true, definition: expect.stringMatching(/^label_values\(.*, service\)$/) });
    const queried = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(queried.length).toBeGreaterThanOrEqual(12);
    for (const panel of queried) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });

  it('the check fails on a metric that does not exist, a label a metric lacks, and broken PromQL', () => {
    const broken = {
      templating: dashboard.templating,
      panels: [
        { title: 'typo', type: 'timeseries', targets: [{ expr: 'sum(rate(crm_http_request_total{service=~"$service"}[$__rate_interval]))' }] },
        { title: 'label', type: 'timeseries', targets: [{ expr: 'sum by (tenant) (rate(crm_graphql_errors_total{code="FORBIDDEN", route="/graphql"}[5m]))' }] },
        { title: 'syntax', type: 'timeseries', targets: [{ expr: 'sum(rate(crm_http_requests_total[5m])' }] },
      ],
    };
    expect(dashboardProblems(broken, series)).toEqual([
      'panel "typo": crm_http_request_total is not exported',
      'panel "label": crm_graphql_errors_total has no label route',
      'panel "label": groups by tenant, which crm_graphql_errors_total does not have',
      'panel "syntax": not valid PromQL: sum(rate(crm_http_requests_total[5m])',
    ]);
    // Histogram samples carry le only as buckets; a name selected by __name__ is checked too.
    expect(expressionProblems('q', 'sum by (le) (rate(crm_http_request_duration_seconds_count[5m]))', series)).toEqual([
      'q: groups by le, which crm_http_request_duration_seconds_count does not have',
    ]);
    expect(expressionProblems('q', '{__name__="crm_nope"}', series)).toEqual(['q: crm_nope is not exported']);
    // Labels Prometheus adds to every scraped target are allowed.
    expect(expressionProblems('q', 'sum by (pod) (crm_outbox_backlog{namespace="crm"})', series)).toEqual([]);
  });
});
