import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const readModelResolvers: Resolvers = {
  Mutation: {
    rebuildReadModels: (_p, _a, { services, user }) => services.readModels.rebuild(user),
  },
};
