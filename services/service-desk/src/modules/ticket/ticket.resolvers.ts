import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const ticketResolvers: Resolvers = {
  Query: {
    ticket: (_parent, { id }, { services, user }) => services.tickets.get(id, user),
    tickets: async (_parent, { first, after, customerId }, { services, user }) => {
      const page = await services.tickets.list({ first, after, customerId }, user);
      return {
        edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        totalCount: page.totalCount,
      };
    },
  },
  Mutation: {
    createTicket: (_parent, { input }, { services, user }) => services.tickets.create(input, user),
  },
  Ticket: {
    __resolveReference: (reference, { services, user }) => services.tickets.get(reference.id, user),
    id: (ticket) => ticket._id.toHexString(),
    customer: (ticket) => ({ id: ticket.customerId }),
  },
  Customer: {
    // Only the key is known here; every other Customer field comes from the customers subgraph.
    __resolveReference: (reference) => ({ id: reference.id }),
    tickets: (customer, { first }, { services, user }) => services.tickets.ofCustomer(customer.id, first, user),
  },
};
