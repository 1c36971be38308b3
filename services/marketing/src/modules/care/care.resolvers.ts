import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const careResolvers: Resolvers = {
  Query: {
    carePlans: (_parent, _args, { services, user }) => services.care.list(user),
    holidays: (_parent, _args, { services }) => services.care.holidays(),
  },
  Mutation: {
    createCarePlan: (_parent, { input }, { services, user }) => services.care.create(input, user),
    setCarePlanActive: (_parent, { id, expectedVersion, active }, { services, user }) => services.care.setActive(id, expectedVersion, active, user),
    runCarePlans: (_parent, { day }, { services, user }) => services.care.runByHand(day, user),
  },
  CarePlan: {
    id: (plan) => plan._id.toHexString(),
  },
};
