import type { Resolvers } from '../../__generated__/resolvers-types.js';
import type { ProductPairView } from './patterns.service.js';

export const patternResolvers: Resolvers = {
  Query: {
    productPairs: (_p, args, { services, user }) => services.patterns.productPairs(user, args) as never,
    customerClusters: (_p, _a, { services, user }) => services.patterns.customerClusters(user) as never,
  },
  ProductPair: {
    product: (pair) => ({ id: (pair as unknown as ProductPairView).productId }),
    otherProduct: (pair) => ({ id: (pair as unknown as ProductPairView).otherProductId }),
  },
  CustomerValue: {
    cluster: (value, _a, { services }) => services.patterns.clusterOf((value as unknown as { customerId: string }).customerId) as never,
  },
};
