import type { Resolvers } from '../../__generated__/resolvers-types.js';

type Row = { key: string; by?: string };

export const serviceReportResolvers: Resolvers = {
  Query: {
    serviceTrend: (_p, args, { services, user }) => services.serviceReports.trend(user, args),
    serviceComposition: (_p, args, { services, user }) => services.serviceReports.composition(user, args),
    serviceTimes: (_p, args, { services, user }) => services.serviceReports.times(user, args),
  },
  ServiceCompositionRow: {
    product: (row) => ((row as Row).by === 'PRODUCT' && (row as Row).key ? { id: (row as Row).key } : null),
  },
};
