import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHART_DIR, REPO_ROOT } from './helm.js';

// gateway/supergraph.graphql is the one source; the chart ships a copy because helm reads files only
// from inside the chart. `pnpm --filter @crm/helm-chart sync-supergraph` refreshes it.
it("the chart's supergraph is gateway/supergraph.graphql", () => {
  const chartCopy = readFileSync(join(CHART_DIR, 'files/supergraph.graphql'), 'utf8');
  const source = readFileSync(join(REPO_ROOT, 'gateway/supergraph.graphql'), 'utf8');
  expect(chartCopy === source, 'infra/helm/crm/files/supergraph.graphql is stale: run pnpm --filter @crm/helm-chart sync-supergraph').toBe(true);
});
