import { lstatSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { CHART_DIR, REPO_ROOT } from './helm.js';

// gateway/supergraph.graphql is the one source. Helm reads files only from inside the chart, and
// follows a link when it renders or packages one (the packaged chart holds the file itself).
it("the chart's supergraph is a link to gateway/supergraph.graphql, not a copy", () => {
  const file = join(CHART_DIR, 'files/supergraph.graphql');
  expect(lstatSync(file).isSymbolicLink()).toBe(true);
  expect(resolve(join(CHART_DIR, 'files'), readlinkSync(file))).toBe(join(REPO_ROOT, 'gateway/supergraph.graphql'));
});
