import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { hasAnyRole, requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { AggregateWriter, OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs, isDuplicateKey } from '@crm/mongo';
import { SurveyEventType, surveyResponded, surveySent, surveyStateEvent } from './survey.events.js';
import { SurveyException } from './survey.errors.js';
import type { SurveyInvitationRecord, SurveyModels, SurveyRecord, SurveyResponseChannel, SurveyResponseRecord, SurveyStatus } from './survey.model.js';
import { audienceInput, checkAnswers, createSurveyInput, tally, toQuestions, type AnswerInput, type AudienceInput, type CreateSurveyInput, type QuestionResult } from './survey.rules.js';

/** Who designs, opens, closes and sends surveys (admins pass every check). */
const DESIGNERS = [Role.MARKETER] as const;
/** Who reads surveys, their results and responses. */
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.ANALYST] as const;
/** Who records a customer's answers given on the phone or in person. */
const RECORDERS = [Role.MARKETER, Role.SERVICE_MANAGER, Role.SERVICE_AGENT] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Invitation inserts in flight at once during a send. */
const INSERTS_IN_FLIGHT = 20;

/** The segment members a send invites (implemented by the segment module). */
export interface SurveyAudience {
  /** Current members' customer ids; NOT_FOUND (a DomainException) for an unknown segment. */
  membersOf(segmentId: string): Promise<string[]>;
}

/** The audience of a deployment without the segment module: every segment id is unknown. */
export const WITHOUT_SEGMENTS: SurveyAudience = {
  membersOf: (segmentId) => Promise.reject(new SurveyException('SURVEY_NOT_FOUND', `No segment ${segmentId}`, [{ field: 'audience.segmentIds', message: `No segment ${segmentId}` }])),
};

export interface SurveyResults {
  invited: number;
  responses: number;
  responseRateBasisPoints: number | null;
  questions: QuestionResult[];
}

export interface SurveyInvitationView {
  survey: SurveyRecord;
  respondedAt: Date | null;
}

/** A response's id from (survey, customer): the second response of one customer collides on it. */
function responseId(surveyId: string, customerId: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`survey-response:${surveyId}:${customerId}`).digest('hex').slice(0, 24));
}

function invalid(message: string, issues: Parameters<typeof fieldProblems>[0], prefix = 'input'): never {
  throw new SurveyException('SURVEY_INVALID_INPUT', message, fieldProblems(issues, prefix));
}

/** Surveys (MKT-6): the one facade the resolvers call. */
export class SurveyService {
  private readonly writer: AggregateWriter<SurveyRecord>;

  constructor(
    private readonly models: SurveyModels,
    private readonly relay: OutboxRelay,
    private readonly audience: SurveyAudience,
  ) {
    this.writer = new AggregateWriter(models.surveys, relay, {
      notFound: (id) => new SurveyException('SURVEY_NOT_FOUND', `No survey ${id}`),
      conflict: (message) => new SurveyException('SURVEY_VERSION_CONFLICT', message),
    });
  }

  /** The per-survey queue its writes run through (register the surveys model with the relay with it). */
  get serial() {
    return this.writer.serial;
  }

  async create(input: CreateSurveyInput, user: AuthUser): Promise<SurveyRecord> {
    requireRole(user, DESIGNERS);
    const parsed = createSurveyInput.safeParse(input);
    if (!parsed.success) invalid('Invalid survey', parsed.error.issues);
    const now = new Date();
    const survey: SurveyRecord = {
      _id: new Types.ObjectId(),
      title: parsed.data.title,
      description: parsed.data.description,
      status: 'DRAFT',
      questions: toQuestions(parsed.data.questions),
      campaignId: parsed.data.campaignId,
      version: 1,
      createdBy: user.id,
      createdAt: now,
      updatedAt: now,
      openedAt: null,
      closedAt: null,
    };
    return this.writer.insert(survey, [surveyStateEvent(SurveyEventType.CREATED, survey, user.id)]);
  }

  async get(id: string, user: AuthUser): Promise<SurveyRecord | null> {
    requireRole(user, READERS);
    return OBJECT_ID.test(id) ? this.models.surveys.findById(id.toLowerCase()).lean<SurveyRecord>().exec() : null;
  }

  async list(status: SurveyStatus | null | undefined, args: PageArgs, user: AuthUser): Promise<Page<SurveyRecord>> {
    requireRole(user, READERS);
    return paginate(this.models.surveys, status ? { status } : {}, args, { sort: { field: 'createdAt', direction: -1 } });
  }

  open(id: string, expectedVersion: number, user: AuthUser): Promise<SurveyRecord> {
    return this.transition(id, expectedVersion, user, 'DRAFT', 'OPEN');
  }

  close(id: string, expectedVersion: number, user: AuthUser): Promise<SurveyRecord> {
    return this.transition(id, expectedVersion, user, 'OPEN', 'CLOSED');
  }

  private async transition(id: string, expectedVersion: number, user: AuthUser, from: SurveyStatus, to: SurveyStatus): Promise<SurveyRecord> {
    requireRole(user, DESIGNERS);
    return this.writer.mutate(id, expectedVersion, (current) => {
      if (current.status !== from) throw new SurveyException('SURVEY_ILLEGAL_TRANSITION', `A ${current.status} survey cannot become ${to} (only ${from} can)`);
      const now = new Date();
      const changes: Partial<SurveyRecord> = to === 'OPEN' ? { status: to, openedAt: now } : { status: to, closedAt: now };
      return { changes, events: (next) => [surveyStateEvent(to === 'OPEN' ? SurveyEventType.OPENED : SurveyEventType.CLOSED, next, user.id)] };
    });
  }

  /**
   * Invites the audience (customers, and the current members of segments) to an OPEN survey. Each
   * invitation's insert is the claim: a customer in two segments, or sent to twice, is invited once.
   * `survey.sent` names the customers this send invited (the survey's version moves on with it).
   */
  async send(id: string, audience: AudienceInput, user: AuthUser): Promise<{ survey: SurveyRecord; invited: number; alreadyInvited: number }> {
    requireRole(user, DESIGNERS);
    const parsed = audienceInput.safeParse(audience);
    if (!parsed.success) invalid('Invalid audience', parsed.error.issues, 'audience');
    const survey = await this.openSurvey(id);
    const customers = new Set(parsed.data.customerIds.map((c) => c.toLowerCase()));
    for (const segmentId of parsed.data.segmentIds) {
      for (const member of await this.audience.membersOf(segmentId.toLowerCase())) customers.add(member.toLowerCase());
    }
    const surveyId = survey._id.toHexString();
    const invited: string[] = [];
    const all = [...customers];
    const now = new Date();
    for (let start = 0; start < all.length; start += INSERTS_IN_FLIGHT) {
      await Promise.all(
        all.slice(start, start + INSERTS_IN_FLIGHT).map(async (customerId) => {
          const invitation: SurveyInvitationRecord = { _id: `${surveyId}:${customerId}`, surveyId, customerId, token: randomBytes(32).toString('base64url'), invitedAt: now, respondedAt: null };
          try {
            await this.models.invitations.collection.insertOne(invitation as never);
            invited.push(customerId);
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
          }
        }),
      );
    }
    const alreadyInvited = all.length - invited.length;
    const after = await this.writer.mutate(surveyId, null, () => ({ changes: {}, events: (next) => [surveySent(next, invited.sort(), alreadyInvited, user.id, now)] }));
    return { survey: after, invited: invited.length, alreadyInvited };
  }

  /** The survey behind an invitation link, for the customer holding it. */
  async invitation(token: string, user: AuthUser): Promise<SurveyInvitationView | null> {
    requireRole(user, [Role.CUSTOMER]);
    const invitation = await this.byToken(token);
    if (!invitation) return null;
    const survey = await this.models.surveys.findById(invitation.surveyId).lean<SurveyRecord>().exec();
    return survey ? { survey, respondedAt: invitation.respondedAt } : null;
  }

  /** The customer of an invitation answers, once, while the survey is OPEN. */
  async respond(token: string, answers: AnswerInput[], user: AuthUser): Promise<SurveyResponseRecord> {
    requireRole(user, [Role.CUSTOMER]);
    const invitation = await this.byToken(token);
    if (!invitation) throw new SurveyException('SURVEY_INVITATION_NOT_FOUND', 'No invitation with this link');
    return this.store(invitation.surveyId, invitation.customerId, answers, 'INVITATION', user);
  }

  /** Staff record a customer's answers given another way (once per customer and survey). */
  async record(surveyId: string, customerId: string, answers: AnswerInput[], user: AuthUser): Promise<SurveyResponseRecord> {
    requireRole(user, RECORDERS);
    if (!OBJECT_ID.test(customerId)) throw new SurveyException('SURVEY_INVALID_INPUT', 'Invalid customer', [{ field: 'customerId', message: 'Not a customer id' }]);
    return this.store(surveyId, customerId.toLowerCase(), answers, 'STAFF', user);
  }

  private async store(surveyId: string, customerId: string, given: AnswerInput[], channel: SurveyResponseChannel, user: AuthUser): Promise<SurveyResponseRecord> {
    const survey = await this.openSurvey(surveyId);
    const checked = checkAnswers(survey.questions, given);
    if ('problems' in checked) throw new SurveyException('SURVEY_INVALID_INPUT', 'Invalid answers', checked.problems);
    const id = survey._id.toHexString();
    const response: SurveyResponseRecord = { _id: responseId(id, customerId), surveyId: id, customerId, channel, answers: checked.answers, submittedAt: new Date(), submittedBy: user.id };
    try {
      // The response and its survey.responded are one insert.
      await this.models.responses.collection.insertOne({ ...response, [OUTBOX_FIELD]: [surveyResponded(survey, response)] } as never);
    } catch (error) {
      if (isDuplicateKey(error)) throw new SurveyException('SURVEY_ALREADY_ANSWERED', `Customer ${customerId} has already answered this survey`);
      throw error;
    }
    this.relay.notify(this.models.responses, response._id);
    // Informational (results count responses): a crash here leaves the invitation looking unanswered.
    await this.models.invitations.updateOne({ _id: `${id}:${customerId}`, respondedAt: null }, { $set: { respondedAt: response.submittedAt } }).exec();
    return response;
  }

  async responses(surveyId: string, args: PageArgs, user: AuthUser): Promise<Page<SurveyResponseRecord>> {
    requireRole(user, READERS);
    if (!OBJECT_ID.test(surveyId)) throw new SurveyException('SURVEY_NOT_FOUND', `No survey ${surveyId}`);
    return paginate(this.models.responses, { surveyId: surveyId.toLowerCase() }, args, { sort: { field: 'submittedAt', direction: -1 } });
  }

  /** Results aggregated from the stored responses when read: never typed in, never out of date. */
  async results(survey: SurveyRecord, user: AuthUser): Promise<SurveyResults> {
    if (!hasAnyRole(user, READERS)) throw new SurveyException('SURVEY_FORBIDDEN', 'Only staff read survey results');
    const surveyId = survey._id.toHexString();
    const [invited, responses] = await Promise.all([
      this.models.invitations.countDocuments({ surveyId }).exec(),
      this.models.responses.find({ surveyId }, { answers: 1, submittedAt: 1 }).lean<Pick<SurveyResponseRecord, 'answers' | 'submittedAt'>[]>().exec(),
    ]);
    return {
      invited,
      responses: responses.length,
      responseRateBasisPoints: invited > 0 ? Math.round((responses.length * 10_000) / invited) : null,
      questions: tally(survey.questions, responses),
    };
  }

  /** Responses to the surveys of a campaign (for its results; no role check). */
  async responsesForCampaign(campaignId: string): Promise<number> {
    const surveys = await this.models.surveys.find({ campaignId: campaignId.toLowerCase() }, { _id: 1 }).lean().exec();
    if (surveys.length === 0) return 0;
    return this.models.responses.countDocuments({ surveyId: { $in: surveys.map((s) => s._id.toHexString()) } }).exec();
  }

  private async openSurvey(id: string): Promise<SurveyRecord> {
    const survey = OBJECT_ID.test(id) ? await this.models.surveys.findById(id.toLowerCase()).lean<SurveyRecord>().exec() : null;
    if (!survey) throw new SurveyException('SURVEY_NOT_FOUND', `No survey ${id}`);
    if (survey.status !== 'OPEN') throw new SurveyException('SURVEY_NOT_OPEN', `The survey is ${survey.status}: only an OPEN survey is sent and answered`);
    return survey;
  }

  private byToken(token: string): Promise<SurveyInvitationRecord | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return Promise.resolve(null);
    return this.models.invitations.findOne({ token }).lean<SurveyInvitationRecord>().exec();
  }
}
