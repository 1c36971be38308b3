import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@crm/testing';
import { composeSupergraph, readSubgraphs } from '../compose.js';

const root = repoRoot(fileURLToPath(new URL('.', import.meta.url)));

describe('supergraph', () => {
  it('is committed and matches what the five subgraph schemas compose to (run `pnpm supergraph` when this fails)', () => {
    const committed = readFileSync(new URL('../../supergraph.graphql', import.meta.url), 'utf8');
    expect(composeSupergraph(readSubgraphs(root))).toBe(committed);
  });

  it('joins the five subgraphs and extends Customer with tickets from the service desk', () => {
    const sdl = composeSupergraph(readSubgraphs(root));
    for (const graph of ['CUSTOMERS', 'SALES', 'SERVICE_DESK', 'MARKETING', 'ANALYTICS']) expect(sdl).toContain(`${graph} @join__graph`);
    expect(sdl).toMatch(/type Customer[^{]*@join__type\(graph: CUSTOMERS, key: "id"\)[^{]*@join__type\(graph: SERVICE_DESK, key: "id"\)/);
    expect(sdl).toMatch(/tickets\(first: Int = 20\): \[Ticket!\]! @join__field\(graph: SERVICE_DESK\)/);
  });

  it('fails loudly when subgraphs conflict', () => {
    const subgraphs = readSubgraphs(root);
    const broken = subgraphs.map((s) =>
      s.name === 'service-desk' ? { ...s, typeDefs: s.typeDefs.replace('type Customer @key(fields: "id") {\n  id: ID!', 'type Customer @key(fields: "id") {\n  id: ID!\n  name: Int!') } : s,
    );
    expect(() => composeSupergraph(broken)).toThrow(/Supergraph composition failed:[\s\S]*name/);
  });
});
