import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const competitorResolvers: Resolvers = {
  Query: {
    competitor: (_parent, { id }, { services, user }) => services.competitors.get(id, user),
    competitors: (_parent, _args, { services, user }) => services.competitors.list(user),
  },
  Mutation: {
    createCompetitor: (_parent, { input }, { services, user }) => services.competitors.create(input, user),
    updateCompetitor: (_parent, { id, expectedVersion, input }, { services, user }) => services.competitors.update(id, expectedVersion, input, user),
  },
  Competitor: {
    __resolveReference: (reference, { services, user }) => services.competitors.get(reference.id, user),
    id: (competitor) => competitor._id.toHexString(),
    stats: (competitor, _args, { services }) => services.competitors.stats(competitor),
    opportunityIds: (competitor, _args, { services }) => services.competitors.opportunityIds(competitor),
    opportunities: async (competitor, _args, { services }) => (await services.competitors.opportunityIds(competitor)).map((id) => ({ id })),
  },
};
