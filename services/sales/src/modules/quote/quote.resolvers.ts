import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { QuoteException } from './quote.errors.js';

export const quoteResolvers: Resolvers = {
  Query: {
    quote: (_parent, { id }, { services, user }) => services.quotes.get(id, user),
    quotes: async (_parent, args, { services, user }, info) => connectionOf(await services.quotes.list({ ...args, count: selectsField(info, ['totalCount']) }, user)),
    quoteVersions: (_parent, { quoteId }, { services, user }) => services.quotes.versions(quoteId, user),
  },
  Mutation: {
    createQuote: (_parent, { input }, { services, user }) => services.quotes.create(input, user),
    updateQuote: (_parent, { id, input, expectedVersion }, { services, user }) => services.quotes.update(id, input, user, expectedVersion),
    sendQuote: (_parent, { id, expectedVersion }, { services, user }) => services.quotes.send(id, user, expectedVersion),
    acceptQuote: (_parent, { id, createContract, createOrder }, { services, user }) =>
      services.quotes.accept(id, { createContract: createContract ?? false, createOrder: createOrder ?? true }, user),
    rejectQuote: (_parent, { id, reason, expectedVersion }, { services, user }) => services.quotes.reject(id, reason, user, expectedVersion),
  },
  Customer: {
    quotes: async (customer, { first, after }, { services, user }, info) =>
      connectionOf(await services.quotes.list({ first, after, filter: { customerId: customer.id }, count: selectsField(info, ['totalCount']) }, user)),
  },
  Quote: {
    // Same visibility as `quote(id)`: another subgraph cannot widen what a caller sees.
    __resolveReference: async (reference, { services, user }) => {
      const quote = await services.quotes.get(reference.id, user);
      if (!quote) throw new QuoteException('QUOTE_NOT_FOUND', `No quote ${reference.id}`);
      return quote;
    },
    id: (quote) => quote._id.toHexString(),
    customer: (quote) => ({ id: quote.customerId }),
    status: (quote, _args, { services }) => services.quotes.statusOf(quote),
  },
  LineItem: {
    // Reading the catalogue needs a staff role; a caller without one sees the line without its product.
    product: (line, _args, { services, user }) => services.products.get(line.productId, user).catch(() => null),
  },
};
