import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const referralResolvers: Resolvers = {
  Query: {
    myReferrals: (_parent, _args, { services, user }) => services.referrals.mine(user),
  },
  Mutation: {
    recordReferral: (_parent, { code, refereeId }, { services, user }) => services.referrals.recordByHand(code, refereeId, user),
    claimReferralReward: (_parent, { refereeId, orderId }, { services, user }) => services.referrals.claimByHand(refereeId, orderId, user),
  },
  Referral: {
    refereeId: (referral) => referral._id,
  },
  Customer: {
    referrals: (customer, _args, { services, user }) => services.referrals.forCustomer(customer.id, user),
  },
};
