import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const stockResolvers: Resolvers = {
  Query: {
    stockMovements: async (_parent, { productId, first, after }, { services, user }) => {
      const page = await services.stock.movements(productId, { first, after }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
      };
    },
  },
  Mutation: {
    receiveStock: (_parent, { input }, { services, user }) => services.stock.receive(input, user),
    adjustStock: (_parent, { input }, { services, user }) => services.stock.adjust(input, user),
    returnStock: (_parent, { input }, { services, user }) => services.stock.returnStock(input, user),
  },
  Product: {
    stock: (product, _args, { services, user }) => services.stock.levelOf(product._id, user),
  },
  StockLevel: {
    productId: (level) => level.productId.toHexString(),
    product: (level, _args, { services, user }) => services.products.get(level.productId.toHexString(), user),
  },
  StockMovement: {
    id: (movement) => movement._id.toHexString(),
    productId: (movement) => movement.productId.toHexString(),
  },
};
