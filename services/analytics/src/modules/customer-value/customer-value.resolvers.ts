import type { Resolvers } from '../../__generated__/resolvers-types.js';
import type { CustomerValueView } from './customer-value.service.js';

export const customerValueResolvers: Resolvers = {
  Query: {
    customerDistribution: (_p, args, { services, user }) => services.customerValues.geoDistribution(user, args),
    customerValueDistribution: (_p, args, { services, user }) => services.customerValues.valueDistribution(user, args),
    rfmTop: (_p, args, { services, user }) => services.customerValues.rfmTop(user, args) as never,
    churnWarnings: (_p, args, { services, user }) => services.customerValues.churnWarnings(user, args) as never,
  },
  Customer: {
    __resolveReference: (reference) => ({ id: reference.id }),
    value: (customer, _a, { services, user }) => services.customerValues.valueOf(user, customer.id) as never,
  },
  CustomerValue: {
    customer: (value) => ({ id: (value as unknown as CustomerValueView).customerId }),
    rfm: (value) => {
      const rfm = (value as unknown as CustomerValueView).rfm;
      return rfm ? { ...rfm, boundariesComputedAt: rfm.computedAt } : null;
    },
  },
  ChurnWarning: {
    customer: (warning) => ({ id: (warning as { customerId: string }).customerId }),
  },
};
