import { Supergraph } from '@apollo/federation-internals';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';
import { composeSubgraphs, type SubgraphSource } from './compose.js';

export interface SchemaCheckResult {
  /** Why no comparison could be made: composition errors, or a production supergraph that does not build. */
  errors: string[];
  /** Changes that break clients of the production API: removed types and fields, incompatible types, new required arguments… */
  breaking: Change[];
  /** Changes clients may notice though their operations stay valid (a new enum value, a changed default…). */
  dangerous: Change[];
  safe: Change[];
  /** The supergraph the subgraphs compose to, when they do. */
  supergraphSdl?: string;
}

/**
 * The API schema of a supergraph: what clients can query, without the federation directives and
 * without @inaccessible elements, which are the supergraph's business and not its clients'.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/**
 * Composes `subgraphs` and compares the API schema they give with the one of `productionSupergraph`,
 * the supergraph clients use today. A check passes when there are no errors and nothing breaking.
 */
export async function checkSchema(subgraphs: SubgraphSource[], productionSupergraph: string): Promise<SchemaCheckResult> {
  const composed = composeSubgraphs(subgraphs);
  if (composed.errors) return { errors: composed.errors.map((e) => `composition: ${e}`), breaking: [], dangerous: [], safe: [] };
  let production: GraphQLSchema;
  try {
    production = apiSchemaOf(productionSupergraph);
  } catch (error) {
    return { errors: [`the production supergraph is not a valid supergraph: ${error instanceof Error ? error.message : String(error)}`], breaking: [], dangerous: [], safe: [], supergraphSdl: composed.supergraphSdl };
  }
  const changes = await diff(production, apiSchemaOf(composed.supergraphSdl));
  const at = (level: CriticalityLevel) => changes.filter((change) => change.criticality.level === level);
  return { errors: [], breaking: at(CriticalityLevel.Breaking), dangerous: at(CriticalityLevel.Dangerous), safe: at(CriticalityLevel.NonBreaking), supergraphSdl: composed.supergraphSdl };
}

export function schemaCheckPassed(result: SchemaCheckResult): boolean {
  return result.errors.length === 0 && result.breaking.length === 0;
}

/** The check as an operator reads it: every problem, each warning, and a one-line verdict. */
export function formatSchemaCheck(result: SchemaCheckResult, against: string): string {
  const describe = (change: Change) => `  - ${change.message}${change.path ? ` (${change.path})` : ''}`;
  const lines = [`Schema check: the subgraph schemas against ${against}`];
  if (result.errors.length) lines.push(`ERROR: ${result.errors.length} problem(s):`, ...result.errors.map((e) => `  - ${e.replace(/\n/g, '\n    ')}`));
  if (result.breaking.length) lines.push(`BREAKING: ${result.breaking.length} change(s) that break clients:`, ...result.breaking.map(describe));
  if (result.dangerous.length) lines.push(`WARNING: ${result.dangerous.length} dangerous change(s):`, ...result.dangerous.map(describe));
  if (result.safe.length) lines.push(`${result.safe.length} safe change(s):`, ...result.safe.map(describe));
  lines.push(schemaCheckPassed(result) ? 'PASSED' : 'FAILED');
  return `${lines.join('\n')}\n`;
}
