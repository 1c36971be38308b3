import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const customerStatsResolvers: Resolvers = {
  Query: {
    customerStats: (_parent, _args, { services, user }) => services.customerStats.stats(user),
  },
};
