import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const campaignResolvers: Resolvers = {
  Query: {
    campaign: (_parent, { id }, { services, user }) => services.campaigns.get(id, user),
    campaigns: async (_parent, { first, after }, { services, user }) => {
      const page = await services.campaigns.list({ first, after }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
      };
    },
  },
  Mutation: {
    createCampaign: (_parent, { input }, { services, user }) => services.campaigns.create(input, user),
  },
  Campaign: {
    __resolveReference: (reference, { services, user }) => services.campaigns.get(reference.id, user),
    id: (campaign) => campaign._id.toHexString(),
  },
};
