import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { connectionOf } from '@crm/subgraph';

export const surveyResolvers: Resolvers = {
  Query: {
    survey: (_parent, { id }, { services, user }) => services.surveys.get(id, user),
    surveys: async (_parent, { status, first, after }, { services, user }) => connectionOf(await services.surveys.list(status, { first, after }, user)),
    surveyResponses: async (_parent, { surveyId, first, after }, { services, user }) => connectionOf(await services.surveys.responses(surveyId, { first, after }, user)),
    surveyInvitation: (_parent, { token }, { services, user }) => services.surveys.invitation(token, user),
  },
  Mutation: {
    createSurvey: (_parent, { input }, { services, user }) => services.surveys.create(input, user),
    openSurvey: (_parent, { id, expectedVersion }, { services, user }) => services.surveys.open(id, expectedVersion, user),
    closeSurvey: (_parent, { id, expectedVersion }, { services, user }) => services.surveys.close(id, expectedVersion, user),
    sendSurvey: (_parent, { id, audience }, { services, user }) => services.surveys.send(id, audience, user),
    respondToSurvey: (_parent, { token, answers }, { services, user }) => services.surveys.respond(token, answers, user),
    recordSurveyResponse: (_parent, { surveyId, customerId, answers }, { services, user }) => services.surveys.record(surveyId, customerId, answers, user),
  },
  Survey: {
    __resolveReference: (reference, { services, user }) => services.surveys.get(reference.id, user),
    id: (survey) => survey._id.toHexString(),
    results: (survey, _args, { services, user }) => services.surveys.results(survey, user),
  },
  SurveyResponse: {
    id: (response) => response._id.toHexString(),
  },
  SurveyInvitation: {
    surveyId: (view) => view.survey._id.toHexString(),
    title: (view) => view.survey.title,
    description: (view) => view.survey.description,
    status: (view) => view.survey.status,
    questions: (view) => view.survey.questions,
  },
};
