import type { Resolvers } from '../../__generated__/resolvers-types.js';

type Row = { key: string; by?: string };

export const salesResolvers: Resolvers = {
  Query: {
    salesTrend: (_p, args, { services, user }) => services.sales.trend(user, args),
    salesComposition: (_p, args, { services, user }) => services.sales.composition(user, args),
  },
  SalesCompositionRow: {
    customer: (row) => ((row as Row).by === 'CUSTOMER' ? { id: (row as Row).key } : null),
    product: (row) => ((row as Row).by === 'PRODUCT' ? { id: (row as Row).key } : null),
  },
};
