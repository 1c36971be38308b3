import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the subgraph's contract, as in Apollo's TypeScript subgraph template.
const config: CodegenConfig = {
  // The contract: schema.graphql and each module's own .graphql (see @crm/subgraph loadSchema).
  schema: ['./schema.graphql', './src/modules/*/*.graphql'],
  generates: {
    './src/__generated__/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.js#MarketingContext',
        mappers: {
          Campaign: '../modules/campaign/campaign.model.js#CampaignRecord',
          Survey: '../modules/survey/survey.model.js#SurveyRecord',
          SurveyResponse: '../modules/survey/survey.model.js#SurveyResponseRecord',
          SurveyInvitation: '../modules/survey/survey.service.js#SurveyInvitationView',
          Segment: '../modules/segment/segment.model.js#SegmentRecord',
          Customer: '../modules/segment/segment.model.js#CustomerReference',
          Channel: '../modules/channel/channel.model.js#ChannelRecord',
          Competitor: '../modules/competitor/competitor.model.js#CompetitorRecord',
          Referral: '../modules/referral/referral.model.js#ReferralRecord',
          Message: '../modules/message/message.model.js#MessageRecord',
          CarePlan: '../modules/care/care.model.js#CarePlanRecord',
        },
        scalars: { DateTime: 'Date', SafeInt: 'number' },
      },
    },
  },
};

export default config;
