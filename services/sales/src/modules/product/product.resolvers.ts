import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const productResolvers: Resolvers = {
  Query: {
    product: (_parent, { id }, { services, user }) => services.products.get(id, user),
    products: async (_parent, { first, after }, { services, user }) => {
      const page = await services.products.list({ first, after }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
      };
    },
  },
  Mutation: {
    createProduct: (_parent, { input }, { services, user }) => services.products.create(input, user),
  },
  Product: {
    __resolveReference: (reference, { services, user }) => services.products.get(reference.id, user),
    id: (product) => product._id.toHexString(),
    cost: (product, _args, { services, user }) => services.products.costFor(product, user),
  },
};
