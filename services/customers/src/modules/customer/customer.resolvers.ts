import { selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { CustomerException } from './customer.errors.js';

export const customerResolvers: Resolvers = {
  Query: {
    customer: (_parent, { id }, { services, user }) => services.customers.get(id, user),
    customers: async (_parent, args, { services, user }, info) => {
      const page = await services.customers.list({ ...args, count: selectsField(info, ['totalCount', 'totalCountIsExact']) }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
        totalCountIsExact: page.totalCountIsExact,
      };
    },
    duplicateCandidates: async (_parent, { customerId }, { services, user }) => {
      const customer = await services.customers.get(customerId, user);
      if (!customer) throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${customerId}`);
      return services.customers.duplicatesOf(customer, user);
    },
  },
  Mutation: {
    createCustomer: (_parent, { input }, { services, user }) => services.customers.create(input, user),
    updateCustomer: (_parent, { id, input, expectedVersion }, { services, user }) => services.customers.update(id, input, user, expectedVersion),
    deleteCustomer: (_parent, { id }, { services, user }) => services.customers.delete(id, user),
    restoreCustomer: (_parent, { id }, { services, user }) => services.customers.restore(id, user),
    eraseCustomer: (_parent, { id, reason }, { services, user }) => services.customers.erase(id, reason, user),
    reencryptIdentityDocuments: (_parent, { batchSize }, { services, user }) => services.customers.reencryptIdentities(batchSize ?? 500, user),
    mergeCustomers: (_parent, { survivorId, mergedId, choose }, { services, user }) => {
      const { identityDocument, ...rest } = choose ?? {};
      const choices = Object.fromEntries(Object.entries({ ...rest, identity: identityDocument }).filter(([, v]) => v)) as Record<string, 'SURVIVOR' | 'MERGED'>;
      return services.customers.merge(survivorId, mergedId, choices, user);
    },
  },
  Customer: {
    // Same visibility as `customer(id)`: other subgraphs cannot widen what a caller sees.
    __resolveReference: async (reference, { services, user }) => {
      const customer = await services.customers.get(reference.id, user);
      if (!customer) throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${reference.id}`);
      return customer;
    },
    id: (customer) => customer._id.toHexString(),
    tags: (customer) => customer.tags ?? [],
    phones: (customer) => customer.phones ?? [],
    identityDocument: (customer, _args, { services, user }) => services.customers.identityOf(customer, user),
    possibleDuplicates: (customer, _args, { services, user }) => services.customers.duplicatesOf(customer, user),
  },
};
