import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const SURVEY_QUESTION_KINDS = ['RATING', 'SINGLE_CHOICE', 'MULTIPLE_CHOICE', 'TEXT'] as const;
export type SurveyQuestionKind = (typeof SURVEY_QUESTION_KINDS)[number];
export const SURVEY_STATUSES = ['DRAFT', 'OPEN', 'CLOSED'] as const;
export type SurveyStatus = (typeof SURVEY_STATUSES)[number];
export const SURVEY_RESPONSE_CHANNELS = ['INVITATION', 'STAFF'] as const;
export type SurveyResponseChannel = (typeof SURVEY_RESPONSE_CHANNELS)[number];

export interface SurveyQuestion {
  id: string;
  kind: SurveyQuestionKind;
  text: string;
  required: boolean;
  options: string[];
  scaleMax: number | null;
}

/** A survey (the aggregate); also the GraphQL `Survey` parent type. */
export interface SurveyRecord {
  _id: Types.ObjectId;
  title: string;
  description: string | null;
  status: SurveyStatus;
  questions: SurveyQuestion[];
  campaignId: string | null;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  openedAt: Date | null;
  closedAt: Date | null;
}

/**
 * One customer invited to one survey. `_id` is `<surveyId>:<customerId>`: inserting it is the claim
 * that makes "invited once" hold across sends, overlapping segments and replicas.
 */
export interface SurveyInvitationRecord {
  _id: string;
  surveyId: string;
  customerId: string;
  /** The secret of the customer's link (random, 32 bytes base64url); `respondToSurvey` takes it. */
  token: string;
  invitedAt: Date;
  respondedAt: Date | null;
}

export interface SurveyAnswer {
  questionId: string;
  rating: number | null;
  choices: string[];
  text: string | null;
}

/**
 * A customer's answers (its own aggregate, with `survey.responded` in its outbox). `_id` is derived
 * from (survey, customer): a second response of the same customer collides on it.
 */
export interface SurveyResponseRecord {
  _id: Types.ObjectId;
  surveyId: string;
  customerId: string;
  channel: SurveyResponseChannel;
  answers: SurveyAnswer[];
  submittedAt: Date;
  submittedBy: string;
}

const questionSchema = new Schema<SurveyQuestion>(
  {
    id: { type: String, required: true },
    kind: { type: String, enum: SURVEY_QUESTION_KINDS, required: true },
    text: { type: String, required: true },
    required: { type: Boolean, required: true },
    options: { type: [String], default: [] },
    scaleMax: { type: Number, default: null },
  },
  { _id: false },
);

const surveySchema = new Schema<SurveyRecord>(
  {
    title: { type: String, required: true },
    description: { type: String, default: null },
    status: { type: String, enum: SURVEY_STATUSES, required: true },
    questions: { type: [questionSchema], required: true },
    campaignId: { type: String, default: null },
    version: { type: Number, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    openedAt: { type: Date, default: null },
    closedAt: { type: Date, default: null },
  },
  { collection: 'surveys' },
);
surveySchema.plugin(outboxPlugin);
surveySchema.index({ status: 1, createdAt: -1 });

const invitationSchema = new Schema<SurveyInvitationRecord>(
  {
    _id: { type: String, required: true },
    surveyId: { type: String, required: true },
    customerId: { type: String, required: true },
    token: { type: String, required: true },
    invitedAt: { type: Date, required: true },
    respondedAt: { type: Date, default: null },
  },
  { collection: 'survey_invitations' },
);
invitationSchema.index({ token: 1 }, { unique: true });
invitationSchema.index({ surveyId: 1 });

const answerSchema = new Schema<SurveyAnswer>(
  { questionId: { type: String, required: true }, rating: { type: Number, default: null }, choices: { type: [String], default: [] }, text: { type: String, default: null } },
  { _id: false },
);

const responseSchema = new Schema<SurveyResponseRecord>(
  {
    surveyId: { type: String, required: true },
    customerId: { type: String, required: true },
    channel: { type: String, enum: SURVEY_RESPONSE_CHANNELS, required: true },
    answers: { type: [answerSchema], required: true },
    submittedAt: { type: Date, required: true },
    submittedBy: { type: String, required: true },
  },
  { collection: 'survey_responses' },
);
responseSchema.plugin(outboxPlugin);
responseSchema.index({ surveyId: 1, submittedAt: -1 });
responseSchema.index({ customerId: 1 });

export type SurveyModel = Model<SurveyRecord>;
export type SurveyInvitationModel = Model<SurveyInvitationRecord>;
export type SurveyResponseModel = Model<SurveyResponseRecord>;

export interface SurveyModels {
  surveys: SurveyModel;
  invitations: SurveyInvitationModel;
  responses: SurveyResponseModel;
}

export function surveyModels(connection: Connection): SurveyModels {
  return {
    surveys: connection.model<SurveyRecord>('Survey', surveySchema),
    invitations: connection.model<SurveyInvitationRecord>('SurveyInvitation', invitationSchema),
    responses: connection.model<SurveyResponseRecord>('SurveyResponse', responseSchema),
  };
}
