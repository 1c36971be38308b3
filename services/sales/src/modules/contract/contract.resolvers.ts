import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { ContractException } from './contract.errors.js';

export const contractResolvers: Resolvers = {
  Query: {
    contract: (_parent, { id }, { services, user }) => services.contracts.get(id, user),
    contracts: async (_parent, args, { services, user }, info) =>
      connectionOf(await services.contracts.list({ ...args, count: selectsField(info, ['totalCount']) }, user)),
    contractsDueForRenewal: (_parent, { withinDays }, { services, user }) =>
      services.contracts.dueForRenewal(withinDays ?? services.contracts.renewalLeadDays, user),
  },
  Mutation: {
    createContract: (_parent, { input }, { services, user }) => services.contracts.create(input, user),
    updateContract: (_parent, { id, input, expectedVersion }, { services, user }) => services.contracts.update(id, input, user, expectedVersion),
    activateContract: (_parent, { id, input, expectedVersion }, { services, user }) => services.contracts.activate(id, input, user, expectedVersion),
    terminateContract: (_parent, { id, reason, expectedVersion }, { services, user }) => services.contracts.terminate(id, reason, user, expectedVersion),
  },
  Customer: {
    contracts: async (customer, { first, after }, { services, user }, info) =>
      connectionOf(await services.contracts.list({ first, after, filter: { customerId: customer.id }, count: selectsField(info, ['totalCount']) }, user)),
  },
  Contract: {
    // Same visibility as `contract(id)`: another subgraph cannot widen what a caller sees.
    __resolveReference: async (reference, { services, user }) => {
      const contract = await services.contracts.get(reference.id, user);
      if (!contract) throw new ContractException('CONTRACT_NOT_FOUND', `No contract ${reference.id}`);
      return contract;
    },
    id: (contract) => contract._id.toHexString(),
    customer: (contract) => ({ id: contract.customerId }),
    status: (contract, _args, { services }) => services.contracts.statusOf(contract),
  },
};
