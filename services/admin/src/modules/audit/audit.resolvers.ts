import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const auditResolvers: Resolvers = {
  Query: {
    auditLog: (_parent, { filter, first, after }, { services, user }) => services.audit.list(filter, { first, after }, user),
  },
  AuditEntry: {
    id: (entry) => entry._id.toHexString(),
  },
};
