import { describe, expect, it } from 'vitest';
import type { SurveyQuestion } from '../survey.model.js';
import { checkAnswers, createSurveyInput, tally, toQuestions } from '../survey.rules.js';

const questions: SurveyQuestion[] = toQuestions(
  createSurveyInput.parse({
    title: 'After-sales satisfaction',
    questions: [
      { kind: 'RATING', text: 'How satisfied are you?' },
      { kind: 'SINGLE_CHOICE', text: 'Would you buy again?', options: ['Yes', 'No'] },
      { kind: 'MULTIPLE_CHOICE', text: 'What did you like?', options: ['Price', 'Service', 'Speed'], required: false },
      { kind: 'TEXT', text: 'Anything else?', required: false },
      { kind: 'RATING', text: 'Recommend us (0-10)?', scaleMax: 10, required: false },
    ],
  }).questions,
);

describe('survey questions', () => {
  it('numbers the questions q1.. and gives ratings a 1-5 scale unless 10 is asked for', () => {
    expect(questions.map((q) => [q.id, q.kind, q.scaleMax, q.required])).toEqual([
      ['q1', 'RATING', 5, true],
      ['q2', 'SINGLE_CHOICE', null, true],
      ['q3', 'MULTIPLE_CHOICE', null, false],
      ['q4', 'TEXT', null, false],
      ['q5', 'RATING', 10, false],
    ]);
  });

  it('refuses malformed questions with the path of each problem', () => {
    const result = createSurveyInput.safeParse({
      title: ' ',
      questions: [
        { kind: 'SINGLE_CHOICE', text: 'Pick', options: ['Only one'] },
        { kind: 'MULTIPLE_CHOICE', text: 'Pick', options: ['A', 'A'] },
        { kind: 'TEXT', text: 'Say', options: ['x'] },
        { kind: 'RATING', text: 'Rate', scaleMax: 7 },
        { kind: 'TEXT', text: 'Say', scaleMax: 5 },
      ],
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['title', 'questions.0.options', 'questions.1.options', 'questions.2.options', 'questions.3.scaleMax', 'questions.4.scaleMax']));
    expect(createSurveyInput.safeParse({ title: 'Empty', questions: [] }).error!.issues[0]!.path).toEqual(['questions']);
  });
});

describe('checkAnswers', () => {
  it('accepts a complete response and stores it in question order, optional ones left out', () => {
    const result = checkAnswers(questions, [
      { questionId: 'q2', choices: ['Yes'] },
      { questionId: 'q1', rating: 4 },
      { questionId: 'q4', text: '  Fast delivery  ' },
    ]);
    expect(result).toEqual({
      answers: [
        { questionId: 'q1', rating: 4, choices: [], text: null },
        { questionId: 'q2', rating: null, choices: ['Yes'], text: null },
        { questionId: 'q4', rating: null, choices: [], text: 'Fast delivery' },
      ],
    });
  });

  it('reports every problem with its answer path: ranges, unknown options, wrong shapes, duplicates, missing required', () => {
    const result = checkAnswers(questions, [
      { questionId: 'q1', rating: 6 },
      { questionId: 'q2', choices: ['Yes', 'No'] },
      { questionId: 'q3', choices: ['Colour'] },
      { questionId: 'q5', rating: 9, text: 'nine' },
      { questionId: 'q9', text: 'hello' },
      { questionId: 'q5', rating: 1 },
    ]);
    expect('problems' in result).toBe(true);
    const problems = (result as { problems: Array<{ field: string; message: string }> }).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: 'answers.0.rating', message: 'A whole number from 1 to 5' },
        { field: 'answers.1.choices', message: 'Choose exactly one option' },
        { field: 'answers.2.choices', message: 'Not an option: Colour' },
        { field: 'answers.3.text', message: 'A RATING question takes no text' },
        { field: 'answers.4.questionId', message: 'No question q9 in this survey' },
        { field: 'answers.5.questionId', message: 'q5 is answered twice' },
      ]),
    );
    expect(checkAnswers(questions, [{ questionId: 'q2', choices: ['No'] }])).toEqual({ problems: [{ field: 'answers', message: 'q1 (How satisfied are you?) is required' }] });
  });
});

describe('tally', () => {
  it('aggregates ratings (mean, full distribution), option counts and the newest texts', () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 9, minute));
    const results = tally(questions, [
      { submittedAt: at(1), answers: [{ questionId: 'q1', rating: 5, choices: [], text: null }, { questionId: 'q2', rating: null, choices: ['Yes'], text: null }, { questionId: 'q4', rating: null, choices: [], text: 'first' }] },
      { submittedAt: at(3), answers: [{ questionId: 'q1', rating: 4, choices: [], text: null }, { questionId: 'q3', rating: null, choices: ['Price', 'Speed'], text: null }, { questionId: 'q4', rating: null, choices: [], text: 'newest' }] },
      { submittedAt: at(2), answers: [{ questionId: 'q1', rating: 4, choices: [], text: null }, { questionId: 'q2', rating: null, choices: ['No'], text: null }] },
    ]);
    const [rating, single, multiple, text, nps] = results;
    expect(rating).toMatchObject({ answered: 3, ratingAverage: 4.33 });
    expect(rating!.ratingDistribution.map((c) => c.count)).toEqual([0, 0, 0, 2, 1]);
    expect(single!.optionCounts).toEqual([{ value: 'Yes', count: 1 }, { value: 'No', count: 1 }]);
    expect(multiple!.optionCounts).toEqual([{ value: 'Price', count: 1 }, { value: 'Service', count: 0 }, { value: 'Speed', count: 1 }]);
    expect(text).toMatchObject({ answered: 2, recentTexts: ['newest', 'first'] });
    expect(nps).toMatchObject({ answered: 0, ratingAverage: null });
    expect(nps!.ratingDistribution).toHaveLength(10);
  });
});
