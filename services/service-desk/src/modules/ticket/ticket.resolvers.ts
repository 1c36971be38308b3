import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { TicketException } from './ticket.errors.js';
import { isCustomerCaller } from './ticket.service.js';

export const ticketResolvers: Resolvers = {
  Query: {
    ticket: (_parent, { id }, { services, user }) => services.tickets.get(id, user),
    tickets: async (_parent, { first, after, filter }, { services, user }, info) =>
      connectionOf(await services.tickets.list({ first, after, filter, count: selectsField(info, ['totalCount']) }, user)),
  },
  Mutation: {
    createTicket: (_parent, { input }, { services, user }) => services.tickets.create(input, user),
    approveTicket: (_parent, { id, note, expectedVersion }, { services, user }) => services.tickets.approve(id, note, user, expectedVersion),
    rejectTicket: (_parent, { id, reason, expectedVersion }, { services, user }) => services.tickets.reject(id, reason, user, expectedVersion),
    assignTicket: (_parent, { id, input, expectedVersion }, { services, user }) => services.tickets.assign(id, input, user, expectedVersion),
    takeTicket: (_parent, { id, expectedVersion }, { services, user }) => services.tickets.take(id, user, expectedVersion),
    startTicket: (_parent, { id, expectedVersion }, { services, user }) => services.tickets.start(id, user, expectedVersion),
    waitOnCustomer: (_parent, { id, note, expectedVersion }, { services, user }) => services.tickets.waitOnCustomer(id, note, user, expectedVersion),
    resolveTicket: (_parent, { id, resolution, expectedVersion }, { services, user }) => services.tickets.resolve(id, resolution, user, expectedVersion),
    closeTicket: (_parent, { id, note, expectedVersion }, { services, user }) => services.tickets.close(id, note, user, expectedVersion),
    reopenTicket: (_parent, { id, reason, expectedVersion }, { services, user }) => services.tickets.reopen(id, reason, user, expectedVersion),
    addTicketComment: (_parent, { id, input, expectedVersion }, { services, user }) => services.tickets.addComment(id, input, user, expectedVersion),
    rateTicket: (_parent, { id, input, expectedVersion }, { services, user }) => services.tickets.rate(id, input, user, expectedVersion),
  },
  Ticket: {
    // Same visibility as `ticket(id)`: another subgraph cannot widen what a caller sees.
    __resolveReference: async (reference, { services, user }) => {
      const ticket = await services.tickets.get(reference.id, user);
      if (!ticket) throw new TicketException('TICKET_NOT_FOUND', `No ticket ${reference.id}`);
      return ticket;
    },
    id: (ticket) => ticket._id.toHexString(),
    customer: (ticket) => ({ id: ticket.customerId }),
    product: (ticket) => (ticket.productId ? { id: ticket.productId } : null),
    order: (ticket) => (ticket.orderId ? { id: ticket.orderId } : null),
    // Customers do not see how the desk is organised (queues and their members).
    queue: (ticket, _args, { services, user }) => (ticket.queueId && !isCustomerCaller(user) ? services.queues.byId(ticket.queueId) : null),
    comments: (ticket, _args, { services, user }) => services.tickets.visibleComments(ticket, user),
    history: (ticket, _args, { services, user }) => services.tickets.visibleHistory(ticket, user),
    reopenableUntil: (ticket, _args, { services }) => services.tickets.reopenableUntil(ticket),
    conversationIds: (ticket) => ticket.conversationIds ?? [],
    reopenCount: (ticket) => ticket.reopenCount ?? 0,
  },
  Customer: {
    tickets: (customer, { first }, { services, user }) => services.tickets.ofCustomer(customer.id, first, user),
    satisfaction: (customer, _args, { services, user }) => services.tickets.satisfactionOf(customer.id, user),
  },
  Product: {
    tickets: (product, { first }, { services, user }) => services.tickets.ofProduct(product.id, first, user),
  },
};
