// Composes gateway/supergraph.graphql from the subgraph schemas (run: pnpm supergraph).
// Uses the built gateway (dist) so the logic is the one the staleness test checks.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeSupergraph, readSubgraphs } from '../dist/compose.js';

const gatewayDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const sdl = composeSupergraph(readSubgraphs(join(gatewayDir, '..')));
writeFileSync(join(gatewayDir, 'supergraph.graphql'), sdl);
console.log(`wrote ${join(gatewayDir, 'supergraph.graphql')} (${sdl.length} bytes)`);
