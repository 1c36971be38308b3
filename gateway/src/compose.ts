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

/** Composes the supergraph; throws with every composition error listed. */
export function composeSupergraph(subgraphs: SubgraphSource[]): string {
  const result = composeServices(subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs: parse(typeDefs) })));
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`Supergraph composition failed:\n${(result.errors ?? []).map((e) => `  - ${e.message}`).join('\n')}`);
  }
  return `${result.supergraphSdl.trimEnd()}\n`;
}
