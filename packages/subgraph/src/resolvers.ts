import { GraphQLScalarType } from 'graphql';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- module maps are typed by codegen; Apollo's map is looser
export type ResolverMap = Record<string, any>;

/**
 * Several modules add fields to the same types (Query, Mutation, Customer): merges their resolver maps
 * type by type. Scalars are kept as they are (a copied GraphQLScalarType is no longer one).
 */
export function mergeResolvers(...maps: object[]): ResolverMap {
  const merged: ResolverMap = {};
  for (const map of maps as ResolverMap[]) {
    for (const [type, fields] of Object.entries(map)) {
      merged[type] = fields instanceof GraphQLScalarType ? fields : { ...merged[type], ...fields };
    }
  }
  return merged;
}
