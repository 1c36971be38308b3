import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const queueResolvers: Resolvers = {
  Query: {
    queues: (_parent, _args, { services, user }) => services.queues.list(user),
    queue: (_parent, { id }, { services, user }) => services.queues.get(id, user),
    myQueues: (_parent, _args, { services, user }) => services.queues.mine(user),
  },
  Mutation: {
    createQueue: (_parent, { input }, { services, user }) => services.queues.create(input, user),
    updateQueue: (_parent, { id, input, expectedVersion }, { services, user }) => services.queues.update(id, input, user, expectedVersion),
  },
  Queue: {
    __resolveReference: (reference, { services, user }) => services.queues.get(reference.id, user),
    id: (queue) => queue._id.toHexString(),
  },
};
