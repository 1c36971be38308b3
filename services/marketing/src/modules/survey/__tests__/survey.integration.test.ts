import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'marketing');
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const [marketer, analyst, agent, customer, rep] = await Promise.all(['marketer', 'analyst', 'service.agent', 'customer', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.survey`);
const invitations = () => running.deps.connection.collection<{ _id: string; token: string; customerId: string; respondedAt: Date | null }>('survey_invitations');

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const SURVEY = 'id title status version campaignId openedAt closedAt questions { id kind text required options scaleMax }';
const RESULTS = 'results { invited responses responseRateBasisPoints questions { questionId kind answered ratingAverage ratingDistribution { value count } optionCounts { value count } recentTexts } }';
const CREATE = `mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { ${SURVEY} } }`;
const OPEN = `mutation($id: ID!, $v: Int!) { openSurvey(id: $id, expectedVersion: $v) { ${SURVEY} } }`;
const CLOSE = `mutation($id: ID!, $v: Int!) { closeSurvey(id: $id, expectedVersion: $v) { ${SURVEY} } }`;
const SEND = `mutation($id: ID!, $a: SurveyAudienceInput!) { sendSurvey(id: $id, audience: $a) { invited alreadyInvited survey { id version } } }`;
const INVITATION = `query($t: String!) { surveyInvitation(token: $t) { surveyId title status respondedAt questions { id kind options } } }`;
const RESPOND = `mutation($t: String!, $a: [SurveyAnswerInput!]!) { respondToSurvey(token: $t, answers: $a) { id surveyId customerId channel submittedBy answers { questionId rating choices text } } }`;
const RECORD = `mutation($s: ID!, $c: ID!, $a: [SurveyAnswerInput!]!) { recordSurveyResponse(surveyId: $s, customerId: $c, answers: $a) { id channel customerId } }`;
const GET = `query($id: ID!) { survey(id: $id) { ${SURVEY} ${RESULTS} } }`;
const RESPONSES = `query($s: ID!) { surveyResponses(surveyId: $s, first: 10) { totalCount edges { node { customerId channel answers { questionId text } } } } }`;

const QUESTIONS = [
  { kind: 'RATING', text: '您对本次服务满意吗？' },
  { kind: 'SINGLE_CHOICE', text: 'Would you buy again?', options: ['Yes', 'No'] },
  { kind: 'TEXT', text: 'Anything else?', required: false },
];
const customerIds = Array.from({ length: 3 }, () => new Types.ObjectId().toHexString());
const subjectOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;

async function openSurvey(extra: Record<string, unknown> = {}) {
  const created = await call(CREATE, { input: { title: 'After-sales satisfaction', questions: QUESTIONS, ...extra } });
  expect(created.errors).toBeUndefined();
  const opened = await call(OPEN, { id: created.data!.createSurvey.id, v: 1 });
  expect(opened.errors).toBeUndefined();
  return opened.data!.openSurvey;
}

const tokenOf = async (surveyId: string, customerId: string) => (await invitations().findOne({ _id: `${surveyId}:${customerId}` }))!.token;

describe('surveys (real Mongo, Kafka, Keycloak)', () => {
  it('a marketer creates a DRAFT survey and opens it; illegal transitions and stale versions are CONFLICT, bad questions BAD_USER_INPUT', async () => {
    const created = await call(CREATE, { input: { title: ' NPS ', questions: QUESTIONS, campaignId: 'AAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(created.errors).toBeUndefined();
    const survey = created.data!.createSurvey;
    expect(survey).toMatchObject({ title: 'NPS', status: 'DRAFT', version: 1, campaignId: 'aaaaaaaaaaaaaaaaaaaaaaaa', openedAt: null });
    expect(survey.questions).toEqual([
      { id: 'q1', kind: 'RATING', text: '您对本次服务满意吗？', required: true, options: [], scaleMax: 5 },
      { id: 'q2', kind: 'SINGLE_CHOICE', text: 'Would you buy again?', required: true, options: ['Yes', 'No'], scaleMax: null },
      { id: 'q3', kind: 'TEXT', text: 'Anything else?', required: false, options: [], scaleMax: null },
    ]);
    const createdEvent = await watcher.find((e) => e.subject === survey.id && e.type === 'survey.created', 30_000);
    expect(createdEvent.event.data).toMatchObject({ surveyId: survey.id, status: 'DRAFT', questionCount: 3, by: subjectOf(marketer!) });

    expect((await call(CLOSE, { id: survey.id, v: 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SURVEY_ILLEGAL_TRANSITION' });
    expect((await call(OPEN, { id: survey.id, v: 7 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SURVEY_VERSION_CONFLICT' });
    const opened = await call(OPEN, { id: survey.id, v: 1 });
    expect(opened.data!.openSurvey).toMatchObject({ status: 'OPEN', version: 2 });
    expect(opened.data!.openSurvey.openedAt).toMatch(/Z$/);

    const bad = await call(CREATE, { input: { title: '', questions: [{ kind: 'SINGLE_CHOICE', text: 'Pick', options: ['Only'] }] } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(bad.errors![0]!.extensions!.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'input.title' }), expect.objectContaining({ field: 'input.questions.0.options' })]));
    expect((await call(CREATE, { input: { title: 'x', questions: QUESTIONS } }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('sends to customers once each, however often it is sent; unknown segments are NOT_FOUND and nothing is invited', async () => {
    const survey = await openSurvey();
    const first = await call(SEND, { id: survey.id, a: { customerIds: [customerIds[0], customerIds[1], customerIds[1]] } });
    expect(first.errors).toBeUndefined();
    expect(first.data!.sendSurvey).toMatchObject({ invited: 2, alreadyInvited: 0, survey: { version: 3 } });
    const again = await call(SEND, { id: survey.id, a: { customerIds: [customerIds[1], customerIds[2]] } });
    expect(again.data!.sendSurvey).toMatchObject({ invited: 1, alreadyInvited: 1 });
    expect(await invitations().countDocuments({ _id: { $regex: `^${survey.id}:` } } as never)).toBe(3);
    const sent = await watcher.find((e) => e.subject === survey.id && e.type === 'survey.sent' && (e.data as { alreadyInvited: number }).alreadyInvited === 1, 30_000);
    expect(sent.event.data).toMatchObject({ invitedCustomerIds: [customerIds[2]] });

    const segment = await call(SEND, { id: survey.id, a: { segmentIds: [new Types.ObjectId().toHexString()] } });
    expect(segment.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await call(SEND, { id: survey.id, a: {} })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const draft = (await call(CREATE, { input: { title: 'Draft', questions: QUESTIONS } })).data!.createSurvey;
    expect((await call(SEND, { id: draft.id, a: { customerIds: [customerIds[0]] } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SURVEY_NOT_OPEN' });
    expect(await invitations().countDocuments({ surveyId: draft.id })).toBe(0);
  });

  it('the customer answers through the link once; bad answers name their path; the event carries no free text', async () => {
    const survey = await openSurvey({ campaignId: new Types.ObjectId().toHexString() });
    await call(SEND, { id: survey.id, a: { customerIds } });
    const token = await tokenOf(survey.id, customerIds[0]!);

    const invitation = await call(INVITATION, { t: token }, customer!);
    expect(invitation.data!.surveyInvitation).toMatchObject({ surveyId: survey.id, status: 'OPEN', respondedAt: null });
    expect((await call(INVITATION, { t: token }, marketer!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await call(INVITATION, { t: 'x'.repeat(43) }, customer!)).data!.surveyInvitation).toBeNull();

    const wrong = await call(RESPOND, { t: token, a: [{ questionId: 'q1', rating: 9 }, { questionId: 'q2', choices: ['Maybe'] }] }, customer!);
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(wrong.errors![0]!.extensions!.fields).toEqual([
      { field: 'answers.0.rating', message: 'A whole number from 1 to 5' },
      { field: 'answers.1.choices', message: 'Not an option: Maybe' },
    ]);
    const answered = await call(RESPOND, { t: token, a: [{ questionId: 'q1', rating: 5 }, { questionId: 'q2', choices: ['Yes'] }, { questionId: 'q3', text: '送货很快' }] }, customer!);
    expect(answered.errors).toBeUndefined();
    expect(answered.data!.respondToSurvey).toMatchObject({ surveyId: survey.id, customerId: customerIds[0], channel: 'INVITATION', submittedBy: subjectOf(customer!) });
    const twice = await call(RESPOND, { t: token, a: [{ questionId: 'q1', rating: 1 }, { questionId: 'q2', choices: ['No'] }] }, customer!);
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SURVEY_ALREADY_ANSWERED' });
    expect((await call(INVITATION, { t: token }, customer!)).data!.surveyInvitation.respondedAt).toMatch(/Z$/);

    const responded = await watcher.find((e) => e.subject === survey.id && e.type === 'survey.responded', 30_000);
    expect(responded.key).toBe(survey.id);
    expect(responded.event.data).toMatchObject({
      surveyId: survey.id,
      customerId: customerIds[0],
      campaignId: survey.campaignId,
      channel: 'INVITATION',
      ratings: [{ questionId: 'q1', rating: 5, scaleMax: 5 }],
      choices: [{ questionId: 'q2', choices: ['Yes'] }],
    });
    expect(JSON.stringify(responded.event)).not.toContain('送货很快');
  });

  it('staff record answers too; results are aggregated from the responses; a closed survey takes no more', async () => {
    const survey = await openSurvey();
    await call(SEND, { id: survey.id, a: { customerIds } });
    const viaLink = await call(RESPOND, { t: await tokenOf(survey.id, customerIds[0]!), a: [{ questionId: 'q1', rating: 4 }, { questionId: 'q2', choices: ['Yes'] }, { questionId: 'q3', text: 'Quick' }] }, customer!);
    expect(viaLink.errors).toBeUndefined();
    const byPhone = await call(RECORD, { s: survey.id, c: customerIds[1], a: [{ questionId: 'q1', rating: 5 }, { questionId: 'q2', choices: ['No'] }] }, agent!);
    expect(byPhone.data!.recordSurveyResponse).toMatchObject({ channel: 'STAFF', customerId: customerIds[1] });
    expect((await call(RECORD, { s: survey.id, c: customerIds[1], a: [{ questionId: 'q1', rating: 1 }, { questionId: 'q2', choices: ['No'] }] }, agent!)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect((await call(RECORD, { s: survey.id, c: customerIds[2], a: [{ questionId: 'q1', rating: 1 }, { questionId: 'q2', choices: ['No'] }] }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const read = await call(GET, { id: survey.id }, analyst!);
    expect(read.errors).toBeUndefined();
    const results = read.data!.survey.results;
    expect(results).toMatchObject({ invited: 3, responses: 2, responseRateBasisPoints: 6667 });
    expect(results.questions[0]).toMatchObject({ questionId: 'q1', answered: 2, ratingAverage: 4.5 });
    expect(results.questions[0].ratingDistribution.map((c: { count: number }) => c.count)).toEqual([0, 0, 0, 1, 1]);
    expect(results.questions[1].optionCounts).toEqual([{ value: 'Yes', count: 1 }, { value: 'No', count: 1 }]);
    expect(results.questions[2]).toMatchObject({ answered: 1, recentTexts: ['Quick'] });
    const listed = await call(RESPONSES, { s: survey.id }, analyst!);
    expect(listed.data!.surveyResponses.totalCount).toBe(2);
    expect((await call(GET, { id: survey.id }, customer!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const closed = await call(CLOSE, { id: survey.id, v: 3 });
    expect(closed.data!.closeSurvey).toMatchObject({ status: 'CLOSED', version: 4 });
    const late = await call(RESPOND, { t: await tokenOf(survey.id, customerIds[2]!), a: [{ questionId: 'q1', rating: 3 }, { questionId: 'q2', choices: ['Yes'] }] }, customer!);
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SURVEY_NOT_OPEN' });
    expect((await call(GET, { id: survey.id }, analyst!)).data!.survey.results.responses).toBe(2);
  });
});
