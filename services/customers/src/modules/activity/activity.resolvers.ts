import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const activityResolvers: Resolvers = {
  Query: {
    activity: (_parent, { id }, { services, user }) => services.activities.get(id, user),
    myTasks: async (_parent, args, { services, user }, info) => connectionOf(await services.activities.myTasks({ ...args, count: selectsField(info, ['totalCount']) }, user)),
  },
  Mutation: {
    logActivity: (_parent, { input }, { services, user }) => services.activities.log(input, user),
    completeTask: (_parent, { id }, { services, user }) => services.activities.completeTask(id, user),
  },
  Customer: {
    // Counting is a second query: only when the client asks for totalCount.
    timeline: async (customer, args, { services, user }, info) =>
      connectionOf(await services.timeline.forCustomer(customer._id.toHexString(), { ...args, count: selectsField(info, ['totalCount']) }, user)),
    activities: async (customer, args, { services, user }, info) =>
      connectionOf(await services.activities.forCustomer(customer._id.toHexString(), { ...args, count: selectsField(info, ['totalCount']) }, user)),
  },
  Activity: {
    id: (activity) => activity._id.toHexString(),
    customer: (activity, _args, { services, user }) => services.customers.get(activity.customerId, user),
  },
  TimelineEntry: {
    id: (entry) => entry._id.toHexString(),
    ticket: (entry) => (entry.ticketId ? { __typename: 'Ticket', id: entry.ticketId } : null),
  },
};
