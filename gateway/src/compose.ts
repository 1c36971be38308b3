import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { readSubgraphSdl } from '@crm/subgraph';
import { SUBGRAPHS } from './subgraphs.js';

export interface SubgraphSource {
  name: string;
  url: string;
  typeDefs: string;
}

/** Reads each service's contract: its `schema.graphql` and its modules' `.graphql` files. */
export function readSubgraphs(root: string): SubgraphSource[] {
  return SUBGRAPHS.map(({ name, dir, port }) => ({
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    typeDefs: readSubgraphSdl(join(root, dir)),
  }));
}

/** Composes the supergraph, or lists every reason it cannot be (a subgraph's syntax, composition errors). */
export function composeSubgraphs(subgraphs: SubgraphSource[]): { supergraphSdl: string; errors?: undefined } | { errors: string[] } {
  const services = [];
  const errors: string[] = [];
  for (const { name, url, typeDefs } of subgraphs) {
    try {
      services.push({ name, url, typeDefs: parse(typeDefs) });
    } catch (error) {
      errors.push(`[${name}] ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (errors.length) return { errors };
  const result = composeServices(services);
  if (result.errors?.length || !result.supergraphSdl) return { errors: (result.errors ?? []).map((e) => e.message) };
  return { supergraphSdl: `${result.supergraphSdl.trimEnd()}\n` };
}

/** Composes the supergraph; throws with every composition error listed. */
export function composeSupergraph(subgraphs: SubgraphSource[]): string {
  const result = composeSubgraphs(subgraphs);
  if (result.errors) throw new Error(`Supergraph composition failed:\n${result.errors.map((e) => `  - ${e}`).join('\n')}`);
  return result.supergraphSdl;
}
