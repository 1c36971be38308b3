import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const funnelResolvers: Resolvers = {
  Query: {
    salesFunnel: (_p, args, { services, user }) => services.funnel.funnel(user, args),
    campaignEffect: (_p, args, { services, user }) => services.funnel.campaignEffect(user, args),
  },
};
