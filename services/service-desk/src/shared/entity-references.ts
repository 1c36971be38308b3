import type { Resolvers } from '../__generated__/resolvers-types.js';

/** An entity owned by another subgraph (Customer, Product, Order), as this subgraph knows it: only the key. */
export interface EntityReference {
  id: string;
}

/**
 * The one `__resolveReference` of each foreign entity in this subgraph: only the key is known here,
 * every other field comes from its own subgraph or from the modules' `extend type` fields.
 */
export const entityReferenceResolvers: Resolvers = {
  Customer: { __resolveReference: (reference) => ({ id: reference.id }) },
  Product: { __resolveReference: (reference) => ({ id: reference.id }) },
  Order: { __resolveReference: (reference) => ({ id: reference.id }) },
};
