import type { Resolvers } from '../__generated__/resolvers-types.js';

/**
 * `Customer` is the customers subgraph's entity: here it is only an id, and each module resolves the
 * field it adds (`Customer.orders`, ...) from that id with the caller's visibility rules.
 */
/** The parent of `Customer` fields here (codegen mapper): only the id. */
export interface CustomerReference {
  id: string;
}

export const customerReferenceResolvers: Resolvers = {
  Customer: {
    __resolveReference: (reference) => ({ id: reference.id }),
  },
};
