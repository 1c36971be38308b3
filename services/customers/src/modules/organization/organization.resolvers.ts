import { connectionOf } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { OrganizationException } from './organization.errors.js';

export const organizationResolvers: Resolvers = {
  Query: {
    organization: (_parent, { id }, { services, user }) => services.organizations.get(id, user),
    organizations: async (_parent, args, { services, user }) => connectionOf(await services.organizations.list(args, user)),
  },
  Mutation: {
    createOrganization: (_parent, { input }, { services, user }) => services.organizations.create(input, user),
  },
  Organization: {
    __resolveReference: async (reference, { services, user }) => {
      const found = await services.organizations.get(reference.id, user);
      if (!found) throw new OrganizationException('ORGANIZATION_NOT_FOUND', `No organisation ${reference.id}`);
      return found;
    },
    id: (organization) => organization._id.toHexString(),
    customers: async (organization, { first, after }, { services, user }) =>
      connectionOf(await services.customers.list({ first, after, filter: { organizationId: organization._id.toHexString() } }, user)),
  },
  Customer: {
    organizationRef: (customer, _args, { services, user }) => (customer.organizationId ? services.organizations.get(customer.organizationId, user) : null),
  },
};
