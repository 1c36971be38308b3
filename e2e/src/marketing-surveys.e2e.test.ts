import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@crm/mongo';
import { e2ePlatform, gatewayCalls, loginAll, userIdOf } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('marketing-surveys');
const { raw, asUser } = gatewayCalls(platform);
// The marketing database of this run: the invitation link's token reaches the customer by message,
// which this test reads where the service keeps it.
const marketingDb = await connectMongo({ url: infra.mongoUrl, dbName: platform.subgraphs.marketing!.db });
afterAll(() => marketingDb.close());

describe(`surveys through the gateway (logs: ${logDir})`, () => {
  it('a marketer surveys real customers; one answers by link, one by phone; results and roles hold through the gateway', async () => {
    const tokens = await loginAll(infra, ['marketer', 'sales.rep', 'service.agent', 'customer', 'analyst'] as const);
    const [marketer, rep, agent, customer, analyst] = [asUser(tokens.marketer), asUser(tokens['sales.rep']), asUser(tokens['service.agent']), asUser(tokens.customer), asUser(tokens.analyst)];

    const customerIds: string[] = [];
    for (const name of ['Fudan University', 'Zhejiang University']) {
      customerIds.push((await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name, organization: name } })).createCustomer.id);
    }
    const { createSurvey: draft } = await marketer(`mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { id version } }`, {
      input: {
        title: '2026 年度客户满意度调查',
        questions: [
          { kind: 'RATING', text: '总体满意度', scaleMax: 10 },
          { kind: 'MULTIPLE_CHOICE', text: 'Which products do you use?', options: ['Projectors', 'Whiteboards', 'Cameras'] },
          { kind: 'TEXT', text: 'Suggestions', required: false },
        ],
      },
    });
    const { openSurvey: opened } = await marketer(`mutation($id: ID!) { openSurvey(id: $id, expectedVersion: 1) { status version } }`, { id: draft.id });
    expect(opened).toEqual({ status: 'OPEN', version: 2 });
    const { sendSurvey: sent } = await marketer(`mutation($id: ID!, $c: [ID!]) { sendSurvey(id: $id, audience: { customerIds: $c }) { invited alreadyInvited } }`, { id: draft.id, c: customerIds });
    expect(sent).toEqual({ invited: 2, alreadyInvited: 0 });

    const invitation = await marketingDb.collection<{ _id: string; token: string }>('survey_invitations').findOne({ _id: `${draft.id}:${customerIds[0]}` });
    const { surveyInvitation: shown } = await customer(`query($t: String!) { surveyInvitation(token: $t) { title questions { id kind scaleMax } } }`, { t: invitation!.token });
    expect(shown.title).toBe('2026 年度客户满意度调查');
    expect(shown.questions.map((q: { id: string }) => q.id)).toEqual(['q1', 'q2', 'q3']);
    const { respondToSurvey: answer } = await customer(`mutation($t: String!, $a: [SurveyAnswerInput!]!) { respondToSurvey(token: $t, answers: $a) { customerId submittedBy } }`, {
      t: invitation!.token,
      a: [{ questionId: 'q1', rating: 9 }, { questionId: 'q2', choices: ['Projectors', 'Cameras'] }, { questionId: 'q3', text: '希望增加培训' }],
    });
    expect(answer).toEqual({ customerId: customerIds[0], submittedBy: userIdOf(tokens.customer) });
    await agent(`mutation($s: ID!, $c: ID!) { recordSurveyResponse(surveyId: $s, customerId: $c, answers: [{ questionId: "q1", rating: 7 }, { questionId: "q2", choices: ["Projectors"] }]) { channel } }`, { s: draft.id, c: customerIds[1] });

    const duplicate = await raw(tokens.customer)(`mutation($t: String!) { respondToSurvey(token: $t, answers: [{ questionId: "q1", rating: 1 }, { questionId: "q2", choices: ["Cameras"] }]) { id } }`, { t: invitation!.token });
    expect(duplicate.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    const outOfScale = await raw(tokens['service.agent'])(`mutation($s: ID!, $c: ID!) { recordSurveyResponse(surveyId: $s, customerId: $c, answers: [{ questionId: "q1", rating: 11 }, { questionId: "q2", choices: ["Projectors"] }]) { id } }`, { s: draft.id, c: '0123456789abcdef01234567' });
    expect(outOfScale.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'answers.0.rating', message: 'A whole number from 1 to 10' }] });

    const { survey } = await analyst(`query($id: ID!) { survey(id: $id) { results { invited responses responseRateBasisPoints questions { questionId answered ratingAverage optionCounts { value count } recentTexts } } } }`, { id: draft.id });
    expect(survey.results).toMatchObject({ invited: 2, responses: 2, responseRateBasisPoints: 10_000 });
    expect(survey.results.questions[0]).toMatchObject({ answered: 2, ratingAverage: 8 });
    expect(survey.results.questions[1].optionCounts).toEqual([{ value: 'Projectors', count: 2 }, { value: 'Whiteboards', count: 0 }, { value: 'Cameras', count: 1 }]);
    expect(survey.results.questions[2].recentTexts).toEqual(['希望增加培训']);
    // Customers never read results; a sales rep designs no surveys.
    expect((await raw(tokens.customer)(`query($id: ID!) { survey(id: $id) { id } }`, { id: draft.id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await raw(tokens['sales.rep'])(`mutation { createSurvey(input: { title: "x", questions: [{ kind: TEXT, text: "y" }] }) { id } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
