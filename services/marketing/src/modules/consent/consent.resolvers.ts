import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const consentResolvers: Resolvers = {
  Mutation: {
    setContactConsent: (_parent, { customerId, input }, { services, user }) => services.consents.set(customerId, input, user),
  },
  Customer: {
    contactConsents: (customer, _args, { services, user }) => services.consents.of(customer.id, user),
  },
};
