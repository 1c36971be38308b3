import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const messageResolvers: Resolvers = {
  Query: {
    messages: (_parent, { customerId, first }, { services, user }) => services.messages.of(customerId, first ?? 20, user),
  },
  Mutation: {
    sendMessage: (_parent, { input }, { services, user }) => services.messages.sendNow(input, user),
  },
  Message: {
    id: (message) => message._id,
  },
};
