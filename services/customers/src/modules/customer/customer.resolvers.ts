import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const customerResolvers: Resolvers = {
  Query: {
    customer: (_parent, { id }, { services, user }) => services.customers.get(id, user),
    customers: async (_parent, { first, after }, { services, user }) => {
      const page = await services.customers.list({ first, after }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
      };
    },
  },
  Mutation: {
    createCustomer: (_parent, { input }, { services, user }) => services.customers.create(input, user),
  },
  Customer: {
    __resolveReference: (reference, { services, user }) => services.customers.get(reference.id, user),
    id: (customer) => customer._id.toHexString(),
    tags: (customer) => customer.tags ?? [],
  },
};
