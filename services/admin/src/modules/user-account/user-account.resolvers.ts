import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const userAccountResolvers: Resolvers = {
  Query: {
    userAccounts: (_parent, { search, first, after }, { services, user }) => services.accounts.list(search, first, after, user),
    userAccount: (_parent, { id }, { services, user }) => services.accounts.get(id, user),
    departments: (_parent, _args, { services, user }) => services.accounts.departments(user),
    identityEvents: (_parent, { kind, userId, first }, { services, user }) => services.accounts.identityEvents(kind ?? 'SIGN_IN', userId, first, user),
  },
  Mutation: {
    createUserAccount: (_parent, { input }, { services, user }) => services.accounts.create(input, user),
    disableUserAccount: (_parent, { id }, { services, user }) => services.accounts.setEnabled(id, false, user),
    enableUserAccount: (_parent, { id }, { services, user }) => services.accounts.setEnabled(id, true, user),
    setUserRoles: (_parent, { id, roles }, { services, user }) => services.accounts.setRoles(id, roles, user),
    setUserGroups: (_parent, { id, groups }, { services, user }) => services.accounts.setGroups(id, groups, user),
    sendSetPasswordEmail: (_parent, { id, lifespanHours }, { services, user }) => services.accounts.sendSetPasswordEmail(id, lifespanHours, user),
    requireTotp: (_parent, { id }, { services, user }) => services.accounts.requireTotp(id, user),
  },
  UserAccount: {
    __resolveReference: async (reference, { services, user }) => services.accounts.get(reference.id, user),
  },
};
