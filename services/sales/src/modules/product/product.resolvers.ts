import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const productResolvers: Resolvers = {
  Query: {
    product: (_parent, { id }, { services, user }) => services.products.get(id, user),
    products: async (_parent, { first, after, filter }, { services, user }) => {
      const page = await services.products.list({ first, after, filter }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
      };
    },
  },
  Mutation: {
    createProduct: (_parent, { input }, { services, user }) => services.products.create(input, user),
    updateProduct: (_parent, { id, input, expectedVersion }, { services, user }) => services.products.update(id, input, user, expectedVersion),
  },
  Product: {
    __resolveReference: (reference, { services, user }) => services.products.get(reference.id, user),
    id: (product) => product._id.toHexString(),
    productionDate: (product) => (product.productionDate ? product.productionDate.toISOString().slice(0, 10) : null),
    version: (product) => product.version ?? 1,
    cost: (product, _args, { services, user }) => services.products.costFor(product, user),
  },
};
