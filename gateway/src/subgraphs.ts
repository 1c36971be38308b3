/** The six subgraphs: name in the supergraph, schema location, default local URL. */
export const SUBGRAPHS = [
  { name: 'customers', dir: 'services/customers', port: 4001 },
  { name: 'sales', dir: 'services/sales', port: 4002 },
  { name: 'service-desk', dir: 'services/service-desk', port: 4003 },
  { name: 'marketing', dir: 'services/marketing', port: 4004 },
  { name: 'analytics', dir: 'services/analytics', port: 4005 },
  { name: 'admin', dir: 'services/admin', port: 4006 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]['name'];

/** `service-desk` → `SERVICE_DESK`, the env-variable stem of a subgraph. */
export function envStem(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}
