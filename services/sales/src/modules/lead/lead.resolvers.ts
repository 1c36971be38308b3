import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const leadResolvers: Resolvers = {
  Query: {
    lead: (_parent, { id }, { services, user }) => services.leads.get(id, user),
    leads: async (_parent, args, { services, user }, info) =>
      connectionOf(await services.leads.list({ ...args, count: selectsField(info, ['totalCount']) }, user)),
  },
  Mutation: {
    createLead: (_parent, { input }, { services, user }) => services.leads.create(input, user),
    updateLead: (_parent, { id, input, expectedVersion }, { services, user }) => services.leads.update(id, input, expectedVersion, user),
    changeLeadStatus: (_parent, { id, status, reason, expectedVersion }, { services, user }) => services.leads.changeStatus(id, status, reason, expectedVersion, user),
    convertLead: async (_parent, { id, input, expectedVersion }, { services, user }) => {
      const { lead, opportunity } = await services.leads.convert(id, input, expectedVersion, user);
      return { lead, opportunity, customerId: lead.customerId!, newCustomer: lead.conversion?.newCustomer ?? false };
    },
  },
  Lead: {
    // Same visibility as `lead(id)`: other subgraphs cannot widen what a caller sees.
    __resolveReference: (reference, { services, user }) => services.leads.get(reference.id, user),
    id: (lead) => lead._id.toHexString(),
    phones: (lead) => lead.phones ?? [],
    ownerTeams: (lead) => lead.ownerTeams ?? [],
    customer: (lead) => (lead.customerId ? { id: lead.customerId } : null),
    opportunity: (lead, _args, { services, user }) => (lead.opportunityId ? services.opportunities.get(lead.opportunityId, user) : null),
    convertedAt: (lead) => lead.conversion?.at ?? null,
    convertedBy: (lead) => lead.conversion?.by ?? null,
  },
  Customer: {
    leads: async (customer, args, { services, user }, info) =>
      connectionOf(await services.leads.forCustomer(customer.id, { ...args, count: selectsField(info, ['totalCount']) }, user)),
  },
};
