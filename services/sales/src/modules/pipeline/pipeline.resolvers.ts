import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { kindOf } from './pipeline.model.js';

export const pipelineResolvers: Resolvers = {
  Query: {
    pipelineStages: (_parent, _args, { services, user }) => services.pipeline.stages(user),
  },
  Mutation: {
    updatePipelineStages: (_parent, { stages, expectedVersion }, { services, user }) => services.pipeline.update(stages, expectedVersion, user),
  },
  Pipeline: {
    stages: (pipeline) => pipeline.stages.map((stage, position) => ({ ...stage, kind: kindOf(stage.key), position })),
  },
};
