import { connectionOf } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const feedbackResolvers: Resolvers = {
  Query: {
    myCustomerProfile: (_parent, _args, { services, user }) => services.feedback.myProfile(user),
  },
  Mutation: {
    linkCustomerAccount: (_parent, { customerId, userId }, { services, user }) => services.customers.linkAccount(customerId, userId ?? null, user),
    submitFeedback: (_parent, { input }, { services, user }) => services.feedback.submit(input, user),
    followProduct: (_parent, { productId }, { services, user }) => services.feedback.follow(productId, true, user),
    unfollowProduct: (_parent, { productId }, { services, user }) => services.feedback.follow(productId, false, user),
  },
  Feedback: {
    id: (feedback) => feedback._id.toHexString(),
    product: (feedback) => ({ id: feedback.productId }),
  },
  Customer: {
    feedback: async (customer, { first, after }, { services }) => connectionOf(await services.feedback.ofCustomer(customer, { first, after })),
    followedProducts: (customer) => (customer.followedProductIds ?? []).map((id) => ({ id })),
    hasPortalAccount: (customer) => Boolean(customer.portalUserId),
  },
};
