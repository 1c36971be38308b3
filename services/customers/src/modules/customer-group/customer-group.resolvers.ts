import { connectionOf } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { CustomerGroupException } from './customer-group.errors.js';

export const customerGroupResolvers: Resolvers = {
  Query: {
    customerGroup: (_parent, { id }, { services, user }) => services.groups.get(id, user),
    customerGroups: async (_parent, args, { services, user }) => connectionOf(await services.groups.list(args, user)),
  },
  Mutation: {
    createCustomerGroup: (_parent, { input }, { services, user }) => services.groups.create(input, user),
    addCustomersToGroup: (_parent, { groupId, customerIds }, { services, user }) => services.groups.changeMembers(groupId, customerIds, true, user),
    removeCustomersFromGroup: (_parent, { groupId, customerIds }, { services, user }) => services.groups.changeMembers(groupId, customerIds, false, user),
  },
  CustomerGroup: {
    __resolveReference: async (reference, { services, user }) => {
      const found = await services.groups.get(reference.id, user);
      if (!found) throw new CustomerGroupException('GROUP_NOT_FOUND', `No group ${reference.id}`);
      return found;
    },
    id: (group) => group._id.toHexString(),
    customers: async (group, { first, after }, { services, user }) =>
      connectionOf(await services.customers.list({ first, after, filter: { groupId: group._id.toHexString() } }, user)),
  },
  Customer: {
    groups: (customer, _args, { services }) => services.groups.byIds(customer.groupIds ?? []),
  },
};
