import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const customerImportResolvers: Resolvers = {
  Query: {
    customerImportJob: (_parent, { id }, { services, user }) => services.customerImports.get(id, user),
  },
  Mutation: {
    startCustomerImport: (_parent, { input }, { services, user }) => services.customerImports.start(input, user),
    uploadCustomerImportChunk: (_parent, { jobId, index, dataBase64 }, { services, user }) => services.customerImports.uploadChunk(jobId, index, dataBase64, user),
    runCustomerImport: (_parent, { jobId }, { services, user }) => services.customerImports.run(jobId, user),
  },
  CustomerImportJob: {
    id: (job) => job._id.toHexString(),
    createdBy: (job) => job.createdBy.id,
    errors: (job, { first, after }, { services }) => services.customerImports.errors(job, { first, after }),
  },
};
