// `pnpm schema:check`: would the current subgraph schemas break the clients of the production API?
//   pnpm schema:check                      against gateway/supergraph.graphql as committed at HEAD
//   pnpm schema:check --ref origin/main    … as committed at another git ref
//   pnpm schema:check --against <file>     against a supergraph file (e.g. the cluster's ConfigMap)
// Exit 0: composes and nothing breaks; 1: a composition error or a breaking change (all listed);
// 2: the command was wrong or the production supergraph could not be read.
// Uses the built gateway (dist), as scripts/compose.mjs does.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSubgraphs } from '../dist/compose.js';
import { checkSchema, formatSchemaCheck, schemaCheckPassed } from '../dist/schema-check.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let options;
try {
  ({ values: options } = parseArgs({ options: { against: { type: 'string' }, ref: { type: 'string' } } }));
  if (options.against && options.ref) throw new Error('give --against or --ref, not both');
} catch (error) {
  console.error(`schema:check: ${error.message}\nusage: pnpm schema:check [--ref <git ref> | --against <supergraph file>]`);
  process.exit(2);
}

let production;
let label;
try {
  if (options.against) {
    // pnpm runs root scripts from the root; INIT_CWD is where the operator typed the command.
    const file = resolve(process.env.INIT_CWD ?? process.cwd(), options.against);
    production = readFileSync(file, 'utf8');
    label = file;
  } else {
    const ref = options.ref ?? 'HEAD';
    label = `${ref}:gateway/supergraph.graphql`;
    production = execFileSync('git', ['show', label], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  }
} catch (error) {
  console.error(`schema:check: cannot read the production supergraph: ${String(error.stderr || error.message).trim()}`);
  process.exit(2);
}

const result = await checkSchema(readSubgraphs(root), production);
process.stdout.write(formatSchemaCheck(result, label));
process.exit(schemaCheckPassed(result) ? 0 : 1);
