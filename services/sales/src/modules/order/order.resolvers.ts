import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { OrderException } from './order.errors.js';

export const orderResolvers: Resolvers = {
  Query: {
    order: (_parent, { id }, { services, user }) => services.orders.get(id, user),
    orders: async (_parent, args, { services, user }, info) => connectionOf(await services.orders.list({ ...args, count: selectsField(info, ['totalCount']) }, user)),
  },
  Mutation: {
    placeOrder: (_parent, { input }, { services, user }) => services.orders.place(input, user),
    createOrderFromQuote: (_parent, { quoteId }, { services, user }) => services.quotes.orderFor(quoteId, user),
    approveOrder: (_parent, { id, note, expectedVersion }, { services, user }) => services.orders.approve(id, note, user, expectedVersion),
    rejectOrder: (_parent, { id, reason, expectedVersion }, { services, user }) => services.orders.reject(id, reason, user, expectedVersion),
    shipOrder: (_parent, { id, input, expectedVersion }, { services, user }) => services.orders.ship(id, input, user, expectedVersion),
    deliverOrder: (_parent, { id, input, expectedVersion }, { services, user }) => services.orders.deliver(id, input, user, expectedVersion),
    cancelOrder: (_parent, { id, reason, expectedVersion }, { services, user }) => services.orders.cancel(id, reason, user, expectedVersion),
    recordOrderPayment: (_parent, { id, input, expectedVersion }, { services, user }) => services.orders.recordPayment(id, input, user, expectedVersion),
    refundOrder: (_parent, { id, note, expectedVersion }, { services, user }) => services.orders.refund(id, note, user, expectedVersion),
  },
  Customer: {
    orders: async (customer, { first, after }, { services, user }, info) =>
      connectionOf(await services.orders.list({ first, after, filter: { customerId: customer.id }, count: selectsField(info, ['totalCount']) }, user)),
  },
  Order: {
    // Same visibility as `order(id)`: another subgraph cannot widen what a caller sees.
    __resolveReference: async (reference, { services, user }) => {
      const order = await services.orders.get(reference.id, user);
      if (!order) throw new OrderException('ORDER_NOT_FOUND', `No order ${reference.id}`);
      return order;
    },
    id: (order) => order._id.toHexString(),
    customer: (order) => ({ id: order.customerId }),
    outstanding: (order, _args, { services }) => services.orders.outstanding(order),
  },
};
