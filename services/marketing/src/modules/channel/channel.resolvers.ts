import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { totalCost } from './channel.service.js';

export const channelResolvers: Resolvers = {
  Query: {
    channel: (_parent, { id }, { services, user }) => services.channels.get(id, user),
    channels: (_parent, { includeInactive }, { services, user }) => services.channels.list(includeInactive ?? false, user),
  },
  Mutation: {
    createChannel: (_parent, { input }, { services, user }) => services.channels.create(input, user),
    updateChannel: (_parent, { id, expectedVersion, input }, { services, user }) => services.channels.update(id, expectedVersion, input, user),
    recordChannelCost: (_parent, { id, input }, { services, user }) => services.channels.recordCost(id, input, user),
  },
  Channel: {
    __resolveReference: (reference, { services, user }) => services.channels.get(reference.id, user),
    id: (channel) => channel._id.toHexString(),
    totalCost: (channel) => totalCost(channel),
  },
};
