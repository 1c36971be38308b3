import { connectionOf } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const campaignResolvers: Resolvers = {
  Query: {
    campaign: (_parent, { id }, { services, user }) => services.campaigns.get(id, user),
    campaigns: async (_parent, { first, after }, { services, user }) => connectionOf(await services.campaigns.list({ first, after }, user)),
  },
  Mutation: {
    createCampaign: (_parent, { input }, { services, user }) => services.campaigns.create(input, user),
    updateCampaign: (_parent, { id, expectedVersion, input }, { services, user }) => services.campaigns.update(id, expectedVersion, input, user),
    activateCampaign: (_parent, { id, expectedVersion }, { services, user }) => services.campaigns.transition(id, expectedVersion, 'ACTIVE', user),
    completeCampaign: (_parent, { id, expectedVersion }, { services, user }) => services.campaigns.transition(id, expectedVersion, 'COMPLETED', user),
    cancelCampaign: (_parent, { id, expectedVersion }, { services, user }) => services.campaigns.transition(id, expectedVersion, 'CANCELLED', user),
    addCampaignMembers: (_parent, { id, members }, { services, user }) => services.campaigns.changeMembers(id, members, true, user),
    removeCampaignMembers: (_parent, { id, members }, { services, user }) => services.campaigns.changeMembers(id, members, false, user),
    recordCampaignCost: (_parent, { id, input }, { services, user }) => services.campaigns.recordCost(id, input, user),
  },
  Campaign: {
    __resolveReference: (reference, { services, user }) => services.campaigns.get(reference.id, user),
    id: (campaign) => campaign._id.toHexString(),
    participantIds: (campaign) => campaign.participantIds ?? [],
    memberCustomerIds: (campaign) => campaign.memberCustomerIds ?? [],
    memberSegmentIds: (campaign) => campaign.memberSegmentIds ?? [],
    costs: (campaign) => campaign.costs ?? [],
    version: (campaign) => campaign.version ?? 1,
    results: (campaign, _args, { services }) => services.campaigns.results(campaign),
  },
  Customer: {
    campaigns: (customer, _args, { services, user }) => services.campaigns.ofCustomer(customer.id, user),
  },
};
