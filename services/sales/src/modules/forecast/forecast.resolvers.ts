import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const forecastResolvers: Resolvers = {
  Query: {
    salesForecast: (_parent, args, { services, user }) => services.forecast.forecast(args, user),
  },
};
