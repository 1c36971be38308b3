import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './subgraphs.js';

export interface SubgraphSource {
  name: string;
  url: string;
  typeDefs: string;
}

/** Reads each service's `schema.graphql` (the subgraph contract). */
export function readSubgraphs(root: string): SubgraphSource[] {
  return SUBGRAPHS.map(({ name, dir, port }) => ({
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    typeDefs: readFileSync(join(root, dir, 'schema.graphql'), 'utf8'),
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
