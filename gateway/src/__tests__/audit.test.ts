import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { auditedFields, SENSITIVE_FIELDS } from '../audit.js';

const schema = buildSchema(`
  type Query { customer(id: ID!): Customer, customers: [Customer!]! }
  type Mutation { createCustomer(name: String!): Customer! }
  type Customer { id: ID!, name: String!, phones: [Phone!]!, identityDocument: IdentityDocument, email: String }
  type Phone { number: String! }
  type IdentityDocument { type: String!, number: String! }
`);
const sensitive = new Set(SENSITIVE_FIELDS);

function fieldsOf(source: string, operationName?: string) {
  const document = parse(source);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const operation = operationName ? operations.find((o) => o.name?.value === operationName)! : operations[0]!;
  return auditedFields(schema, document, operation, sensitive);
}

describe('auditedFields', () => {
  it('names the root fields and the sensitive fields selected, through aliases and fragments', () => {
    expect(fieldsOf('{ a: customer(id: "1") { name ...Id } b: customers { email } } fragment Id on Customer { identityDocument { number } }')).toEqual({
      rootFields: ['customer', 'customers'],
      sensitiveFields: ['Customer.email', 'Customer.identityDocument', 'IdentityDocument.number'],
    });
  });

  it('ignores the operations of the document that are not run, and introspection fields', () => {
    const source = 'query Safe { customers { name __typename } } query Peek { customer(id: "1") { phones { number } } }';
    expect(fieldsOf(source, 'Safe')).toEqual({ rootFields: ['customers'], sensitiveFields: [] });
    expect(fieldsOf(source, 'Peek').sensitiveFields).toEqual(['Customer.phones']);
  });

  it('records what a mutation selects back', () => {
    expect(fieldsOf('mutation { createCustomer(name: "x") { id identityDocument { type } } }')).toEqual({ rootFields: ['createCustomer'], sensitiveFields: ['Customer.identityDocument'] });
  });
});
