/**
 * Builds a well-typed request for every root field of the supergraph's API schema: required
 * arguments filled with plain values of their types, the smallest selection (`__typename`). Used by
 * the authorization matrix (every operation × role) and by the hostile-request corpus.
 */
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { graphql } from '@crm/testing';

export interface GeneratedOperation {
  /** `Query.customer`, `Mutation.createCustomer`. */
  coordinate: string;
  kind: 'query' | 'mutation';
  field: string;
  query: string;
  variables: Record<string, unknown>;
  /** The field's arguments, for corpora that vary them. */
  args: readonly GraphQLArgument[];
}

/** The API schema as clients see it (introspection is on outside production mode). */
export async function fetchApiSchema(gatewayUrl: string, token: string): Promise<GraphQLSchema> {
  const result = await graphql<IntrospectionQuery>(gatewayUrl, getIntrospectionQuery(), {}, { authorization: `Bearer ${token}` });
  if (!result.data) throw new Error(`introspection failed: ${JSON.stringify(result.errors)}`);
  return buildClientSchema(result.data);
}

/** An id of the right shape that names nothing. */
export const ABSENT_ID = '0000000000000000000000ff';

const SCALAR_VALUES: Record<string, unknown> = {
  ID: ABSENT_ID,
  String: 'x',
  Int: 1,
  Float: 1,
  Boolean: false,
  DateTime: '2026-01-01T00:00:00.000Z',
  Date: '2026-01-01',
  SafeInt: 1,
};

/** A plain value of `type`: required input fields only, one-element lists. */
export function sampleValue(type: GraphQLInputType, depth = 0): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType, depth);
  if (isListType(type)) return [sampleValue(type.ofType, depth)];
  if (isScalarType(type)) {
    if (!(type.name in SCALAR_VALUES)) throw new Error(`no sample value for scalar ${type.name}`);
    return SCALAR_VALUES[type.name];
  }
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    if (depth > 6) throw new Error(`input ${type.name} nests too deep`);
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
        .map((f) => [f.name, sampleValue(f.type, depth + 1)]),
    );
  }
  throw new Error(`unexpected input type ${String(type)}`);
}

function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): GeneratedOperation {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const declarations = required.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const call = required.length > 0 ? `(${required.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const named = getNamedType(field.type);
  const selection = isScalarType(named) || isEnumType(named) ? '' : ' { __typename }';
  const name = `${kind === 'query' ? 'Q' : 'M'}_${field.name}`;
  return {
    coordinate: `${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`,
    kind,
    field: field.name,
    query: `${kind} ${name}${declarations ? `(${declarations})` : ''} { ${field.name}${call}${selection} }`,
    variables: Object.fromEntries(required.map((a) => [a.name, sampleValue(a.type)])),
    args: field.args,
  };
}

/** One operation per root field, queries first, each list sorted by name. */
export function generateOperations(schema: GraphQLSchema): GeneratedOperation[] {
  const sorted = (fields: Record<string, GraphQLField<unknown, unknown>> | undefined) => Object.values(fields ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...sorted(schema.getQueryType()?.getFields()).map((f) => operationFor('query', f)),
    ...sorted(schema.getMutationType()?.getFields()).map((f) => operationFor('mutation', f)),
  ];
}
