import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SDL files of one subgraph, in a fixed order: the service's `schema.graphql` (federation link,
 * scalars, shared types, the root types) and then each module's own `src/modules/<m>/<m>.graphql`,
 * which adds to the root types with `extend type Query`. One file per module lets the teams of
 * different modules change the contract without editing one shared file.
 */
export function subgraphSdlFiles(serviceDir: string | URL): string[] {
  const root = typeof serviceDir === 'string' ? serviceDir : fileURLToPath(serviceDir);
  const modulesDir = join(root, 'src', 'modules');
  let modules: string[] = [];
  try {
    modules = readdirSync(modulesDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    // A service without modules has its whole contract in schema.graphql.
  }
  const moduleFiles = modules.flatMap((name) =>
    readdirSync(join(modulesDir, name))
      .filter((file) => file.endsWith('.graphql'))
      .sort()
      .map((file) => join(modulesDir, name, file)),
  );
  return [join(root, 'schema.graphql'), ...moduleFiles];
}

/** The whole contract of one subgraph as one SDL text (see `subgraphSdlFiles`). */
export function readSubgraphSdl(serviceDir: string | URL): string {
  return subgraphSdlFiles(serviceDir)
    .map((file) => `${readFileSync(file, 'utf8').trimEnd()}\n`)
    .join('\n');
}
