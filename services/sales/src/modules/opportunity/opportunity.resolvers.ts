import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { toSafeNumber, weightedMinor } from './opportunity.amounts.js';

export const opportunityResolvers: Resolvers = {
  Query: {
    opportunity: (_parent, { id }, { services, user }) => services.opportunities.get(id, user),
    opportunities: async (_parent, args, { services, user }, info) =>
      connectionOf(await services.opportunities.list({ ...args, count: selectsField(info, ['totalCount']) }, user)),
    opportunityBoard: async (_parent, { filter, perStage }, { services, user }) => ({ columns: await services.opportunities.board(filter, perStage ?? 20, user) }),
  },
  Mutation: {
    createOpportunity: (_parent, { input }, { services, user }) => services.opportunities.create(input, user),
    updateOpportunity: (_parent, { id, input, expectedVersion }, { services, user }) => services.opportunities.update(id, input, expectedVersion, user),
    moveOpportunity: (_parent, { id, stage, expectedVersion, reason }, { services, user }) => services.opportunities.move(id, stage, expectedVersion, reason, user),
  },
  Opportunity: {
    // Same visibility as `opportunity(id)`.
    __resolveReference: (reference, { services, user }) => services.opportunities.get(reference.id, user),
    id: (opportunity) => opportunity._id.toHexString(),
    customer: (opportunity) => ({ id: opportunity.customerId }),
    lead: (opportunity, _args, { services, user }) => (opportunity.leadId ? services.leads.get(opportunity.leadId, user) : null),
    probability: (opportunity, _args, { services }) => services.opportunities.probabilityOf(opportunity),
    probabilityOverridden: (opportunity) => opportunity.status === 'OPEN' && opportunity.probabilityOverride != null,
    weightedAmount: async (opportunity, _args, { services }) => ({
      currency: opportunity.amount.currency,
      amountMinor: toSafeNumber(weightedMinor(opportunity.amount.amountMinor, await services.opportunities.probabilityOf(opportunity))),
    }),
    competitors: (opportunity) => opportunity.competitors ?? [],
    ownerTeams: (opportunity) => opportunity.ownerTeams ?? [],
  },
  Customer: {
    opportunities: async (customer, args, { services, user }, info) =>
      connectionOf(await services.opportunities.forCustomer(customer.id, { ...args, count: selectsField(info, ['totalCount']) }, user)),
  },
};
