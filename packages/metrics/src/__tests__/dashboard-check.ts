/**
 * Checks a Grafana dashboard's PromQL against the series a real registry exports: every metric a
 * selector names must exist, and every label it matches on or groups by must be on that metric.
 * PromQL is parsed with Prometheus' own grammar (@prometheus-io/lezer-promql), not with patterns.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { Registry } from 'prom-client';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Labels Prometheus adds when it scrapes a target (Kubernetes service discovery), not the exporter. */
export const TARGET_LABELS = ['namespace', 'pod', 'instance', 'job'];

/** Sample name (`x_bucket`, `x_count` for histograms) → the label names it carries. */
export type ExportedSeries = Map<string, Set<string>>;

export async function exportedSeries(registry: Registry): Promise<ExportedSeries> {
  const series: ExportedSeries = new Map();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values as Array<{ metricName?: string; labels: Record<string, unknown> }>) {
      const name = value.metricName ?? metric.name;
      const labels = series.get(name) ?? new Set<string>();
      for (const label of Object.keys(value.labels)) labels.add(label);
      series.set(name, labels);
    }
  }
  return series;
}

interface Dashboard {
  templating?: { list?: Array<{ name: string; type: string; definition?: string }> };
  panels?: Array<{ title?: string; targets?: Array<{ expr?: string }>; panels?: Dashboard['panels'] }>;
}

/** Grafana variables replaced by something PromQL parses: intervals by a duration, the rest by a word. */
function withoutVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+(:\w+)?\}?/g, 'x');
}

/** `root` and the nodes below it called `name`, in document order. */
function nodesNamed(root: SyntaxNode, name: string): SyntaxNode[] {
  const found = root.name === name ? [root] : [];
  for (let child = root.firstChild; child; child = child.nextSibling) found.push(...nodesNamed(child, name));
  return found;
}

function childrenNamed(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.name === name) found.push(child);
  return found;
}

interface Selector {
  metric: string | undefined;
  labels: string[];
}

function selectorOf(node: SyntaxNode, text: (n: SyntaxNode) => string): Selector {
  const matchers = nodesNamed(node, 'LabelMatchers').flatMap((m) => nodesNamed(m, 'LabelName'));
  const byName = nodesNamed(node, 'UnquotedLabelMatcher').find((m) => text(childrenNamed(m, 'LabelName')[0]!) === '__name__');
  const identifier = childrenNamed(node, 'Identifier')[0];
  const metric = identifier ? text(identifier) : byName ? JSON.parse(text(childrenNamed(byName, 'StringLiteral')[0]!)) as string : undefined;
  return { metric, labels: matchers.map(text).filter((label) => label !== '__name__') };
}

/** Problems of one PromQL expression: parse errors, unknown metrics, labels a metric does not carry. */
export function expressionProblems(where: string, expr: string, series: ExportedSeries): string[] {
  const source = withoutVariables(expr);
  const tree = parser.parse(source);
  const text = (node: SyntaxNode) => source.slice(node.from, node.to);
  const problems: string[] = [];
  let broken = false;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) broken = true;
    },
  });
  if (broken) return [`${where}: not valid PromQL: ${expr}`];
  const has = (metric: string, label: string) => TARGET_LABELS.includes(label) || (series.get(metric)?.has(label) ?? false);
  for (const node of nodesNamed(tree.topNode, 'VectorSelector')) {
    const { metric, labels } = selectorOf(node, text);
    if (!metric) problems.push(`${where}: a selector without a metric name: ${text(node)}`);
    else if (!series.has(metric)) problems.push(`${where}: ${metric} is not exported`);
    else for (const label of labels) if (!has(metric, label)) problems.push(`${where}: ${metric} has no label ${label}`);
  }
  // by (...), without (...), on (...), ignoring (...), group_left/right (...): each label must be on every metric the expression reads.
  for (const grouping of nodesNamed(tree.topNode, 'GroupingLabels')) {
    const scope = grouping.parent?.name === 'AggregateModifier' ? grouping.parent.parent : grouping.parent?.parent;
    if (!scope) continue;
    const metrics = nodesNamed(scope, 'VectorSelector')
      .map((node) => selectorOf(node, text).metric)
      .filter((metric): metric is string => metric !== undefined && series.has(metric));
    for (const label of childrenNamed(grouping, 'LabelName').map(text)) {
      for (const metric of metrics) if (!has(metric, label)) problems.push(`${where}: groups by ${label}, which ${metric} does not have`);
    }
  }
  return problems;
}

/** Every problem of the dashboard's panel queries and `label_values(...)` variables. */
export function dashboardProblems(dashboard: Dashboard, series: ExportedSeries): string[] {
  const problems: string[] = [];
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.definition ?? '');
    if (!match) {
      problems.push(`variable ${variable.name}: not label_values(selector, label): ${variable.definition}`);
      continue;
    }
    const [, selector, label] = match as unknown as [string, string, string];
    // The label asked for, as one more matcher of the selector.
    const withLabel = selector.endsWith('}') ? `${selector.slice(0, -1)}, ${label}!=""}` : `${selector}{${label}!=""}`;
    problems.push(...expressionProblems(`variable ${variable.name}`, withLabel, series));
  }
  const panels = (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      if (target.expr !== undefined) problems.push(...expressionProblems(`panel "${panel.title}"`, target.expr, series));
    }
  }
  return problems;
}
