import { createEvent, type CloudEvent } from '@crm/events';
import type { SurveyRecord, SurveyResponseRecord, SurveyStatus } from './survey.model.js';

/** Every event of the survey module (topic `<prefix>.survey`, default `crm.survey`; key = survey id). */
export const SurveyEventType = {
  CREATED: 'survey.created',
  OPENED: 'survey.opened',
  CLOSED: 'survey.closed',
  SENT: 'survey.sent',
  RESPONDED: 'survey.responded',
} as const;

export const SURVEY_EVENT_SOURCE = '/crm/marketing';

export interface SurveyStateData {
  surveyId: string;
  title: string;
  status: SurveyStatus;
  campaignId: string | null;
  questionCount: number;
  version: number;
  by: string;
}

export interface SurveySentData {
  surveyId: string;
  campaignId: string | null;
  /** Customers invited by this send (those invited before are not repeated). */
  invitedCustomerIds: string[];
  alreadyInvited: number;
  by: string;
}

/** No free text: answers to TEXT questions stay in the marketing database (they may hold anything). */
export interface SurveyRespondedData {
  surveyId: string;
  responseId: string;
  customerId: string;
  campaignId: string | null;
  channel: SurveyResponseRecord['channel'];
  ratings: Array<{ questionId: string; rating: number; scaleMax: number }>;
  choices: Array<{ questionId: string; choices: string[] }>;
  submittedAt: string;
}

type StateType = (typeof SurveyEventType)['CREATED' | 'OPENED' | 'CLOSED'];

export function surveyStateEvent(type: StateType, survey: SurveyRecord, by: string): CloudEvent<SurveyStateData> {
  const surveyId = survey._id.toHexString();
  return createEvent({
    source: SURVEY_EVENT_SOURCE,
    type,
    subject: surveyId,
    time: survey.updatedAt,
    data: { surveyId, title: survey.title, status: survey.status, campaignId: survey.campaignId, questionCount: survey.questions.length, version: survey.version, by },
  });
}

export function surveySent(survey: SurveyRecord, invitedCustomerIds: string[], alreadyInvited: number, by: string, at: Date): CloudEvent<SurveySentData> {
  const surveyId = survey._id.toHexString();
  return createEvent({
    source: SURVEY_EVENT_SOURCE,
    type: SurveyEventType.SENT,
    subject: surveyId,
    time: at,
    data: { surveyId, campaignId: survey.campaignId, invitedCustomerIds, alreadyInvited, by },
  });
}

export function surveyResponded(survey: SurveyRecord, response: SurveyResponseRecord): CloudEvent<SurveyRespondedData> {
  const byId = new Map(survey.questions.map((q) => [q.id, q]));
  return createEvent({
    source: SURVEY_EVENT_SOURCE,
    type: SurveyEventType.RESPONDED,
    subject: response.surveyId,
    time: response.submittedAt,
    data: {
      surveyId: response.surveyId,
      responseId: response._id.toHexString(),
      customerId: response.customerId,
      campaignId: survey.campaignId,
      channel: response.channel,
      ratings: response.answers
        .filter((a) => a.rating !== null)
        .map((a) => ({ questionId: a.questionId, rating: a.rating!, scaleMax: byId.get(a.questionId)?.scaleMax ?? 5 })),
      choices: response.answers.filter((a) => a.choices.length > 0).map((a) => ({ questionId: a.questionId, choices: a.choices })),
      submittedAt: response.submittedAt.toISOString(),
    },
  });
}
