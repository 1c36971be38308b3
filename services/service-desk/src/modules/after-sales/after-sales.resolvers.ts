import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { AfterSalesException } from './after-sales.errors.js';

export const afterSalesResolvers: Resolvers = {
  Query: {
    afterSalesRecord: (_parent, { id }, { services, user }) => services.afterSales.get(id, user),
    afterSalesRecords: async (_parent, { first, after, filter }, { services, user }, info) =>
      connectionOf(await services.afterSales.list({ first, after, filter, count: selectsField(info, ['totalCount']) }, user)),
  },
  Mutation: {
    requestAfterSales: (_parent, { input }, { services, user }) => services.afterSales.request(input, user),
    approveAfterSales: (_parent, { id, note, expectedVersion }, { services, user }) => services.afterSales.act('approve', id, note, user, expectedVersion),
    rejectAfterSales: (_parent, { id, reason, expectedVersion }, { services, user }) => services.afterSales.act('reject', id, reason, user, expectedVersion),
    startAfterSales: (_parent, { id, note, expectedVersion }, { services, user }) => services.afterSales.act('start', id, note, user, expectedVersion),
    completeAfterSales: (_parent, { id, note, expectedVersion }, { services, user }) => services.afterSales.act('complete', id, note, user, expectedVersion),
    cancelAfterSales: (_parent, { id, reason, expectedVersion }, { services, user }) => services.afterSales.act('cancel', id, reason, user, expectedVersion),
  },
  AfterSalesRecord: {
    __resolveReference: async (reference, { services, user }) => {
      const record = await services.afterSales.get(reference.id, user);
      if (!record) throw new AfterSalesException('AFTER_SALES_NOT_FOUND', `No after-sales record ${reference.id}`);
      return record;
    },
    id: (record) => record._id.toHexString(),
    customer: (record) => ({ id: record.customerId }),
    product: (record) => ({ id: record.productId }),
    order: (record) => ({ id: record.orderId }),
    ticket: (record, _args, { services, user }) => (record.ticketId ? services.tickets.get(record.ticketId, user) : null),
  },
  Customer: {
    afterSalesRecords: (customer, { first }, { services, user }) => services.afterSales.listBy('customerId', customer.id, first, user),
  },
  Order: {
    afterSalesRecords: (order, { first }, { services, user }) => services.afterSales.listBy('orderId', order.id, first, user),
  },
};
