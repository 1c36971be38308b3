import type { Resolvers } from '../../__generated__/resolvers-types.js';

export const productImportResolvers: Resolvers = {
  Query: {
    productImportJob: (_parent, { id }, { services, user }) => services.productImports.get(id, user),
  },
  Mutation: {
    startProductImport: (_parent, { input }, { services, user }) => services.productImports.start(input, user),
    uploadProductImportChunk: (_parent, { jobId, index, dataBase64 }, { services, user }) => services.productImports.uploadChunk(jobId, index, dataBase64, user),
    runProductImport: (_parent, { jobId }, { services, user }) => services.productImports.run(jobId, user),
  },
  ProductImportJob: {
    id: (job) => job._id.toHexString(),
    createdBy: (job) => job.createdBy.id,
    errors: (job, { first, after }, { services }) => services.productImports.errors(job, { first, after }),
  },
};
