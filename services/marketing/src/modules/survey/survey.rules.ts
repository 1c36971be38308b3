import { z } from 'zod';
import type { FieldProblem } from '@crm/errors';
import { SURVEY_QUESTION_KINDS, type SurveyAnswer, type SurveyQuestion, type SurveyResponseRecord } from './survey.model.js';

export const MAX_QUESTIONS = 50;
export const MAX_TEXT_ANSWER = 2000;
export const RECENT_TEXTS = 20;
const RATING_SCALES = [5, 10];
const OBJECT_ID = /^[0-9a-f]{24}$/i;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .nullish()
    .transform((value) => (value ? value : null));

const questionInput = z
  .object({
    kind: z.enum(SURVEY_QUESTION_KINDS),
    text: z.string().trim().min(1, 'Required').max(500, 'At most 500 characters'),
    required: z.boolean().nullish().transform((value) => value ?? true),
    options: z.array(z.string().trim().min(1, 'An option must not be empty').max(200, 'At most 200 characters')).nullish().transform((value) => value ?? []),
    scaleMax: z.number().int().nullish().transform((value) => value ?? null),
  })
  .superRefine((q, ctx) => {
    const choice = q.kind === 'SINGLE_CHOICE' || q.kind === 'MULTIPLE_CHOICE';
    if (choice && (q.options.length < 2 || q.options.length > 20)) ctx.addIssue({ code: 'custom', path: ['options'], message: 'A choice question has 2 to 20 options' });
    if (choice && new Set(q.options).size !== q.options.length) ctx.addIssue({ code: 'custom', path: ['options'], message: 'Options must be distinct' });
    if (!choice && q.options.length > 0) ctx.addIssue({ code: 'custom', path: ['options'], message: `A ${q.kind} question has no options` });
    if (q.kind === 'RATING' && q.scaleMax !== null && !RATING_SCALES.includes(q.scaleMax)) ctx.addIssue({ code: 'custom', path: ['scaleMax'], message: 'A rating scale goes to 5 or 10' });
    if (q.kind !== 'RATING' && q.scaleMax !== null) ctx.addIssue({ code: 'custom', path: ['scaleMax'], message: 'Only a RATING question has a scale' });
  });

export const createSurveyInput = z.object({
  title: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  description: optionalText(2000),
  questions: z.array(questionInput).min(1, 'At least one question').max(MAX_QUESTIONS, `At most ${MAX_QUESTIONS} questions`),
  campaignId: z
    .string()
    .regex(OBJECT_ID, 'Not a campaign id')
    .nullish()
    .transform((value) => value?.toLowerCase() ?? null),
});
export type CreateSurveyInput = z.input<typeof createSurveyInput>;

export const audienceInput = z
  .object({
    customerIds: z.array(z.string().regex(OBJECT_ID, 'Not a customer id')).max(10_000, 'At most 10000 customers per send').nullish().transform((v) => v ?? []),
    segmentIds: z.array(z.string().regex(OBJECT_ID, 'Not a segment id')).max(20, 'At most 20 segments per send').nullish().transform((v) => v ?? []),
  })
  .refine((a) => a.customerIds.length + a.segmentIds.length > 0, { message: 'Name customers or segments', path: ['customerIds'] });
export type AudienceInput = z.input<typeof audienceInput>;

/** Questions as stored: ids q1, q2, ... in the given order; ratings default to a 1–5 scale. */
export function toQuestions(input: z.output<typeof createSurveyInput>['questions']): SurveyQuestion[] {
  return input.map((q, index) => ({ id: `q${index + 1}`, kind: q.kind, text: q.text, required: q.required, options: q.options, scaleMax: q.kind === 'RATING' ? (q.scaleMax ?? 5) : null }));
}

export interface AnswerInput {
  questionId: string;
  rating?: number | null;
  choices?: string[] | null;
  text?: string | null;
}

/**
 * Checks answers against the questions: every required question answered, each answer of the right
 * shape for its question, no question twice, no unknown question. Returns the answers as stored (in
 * the questions' order) or the problems, each with its `answers.<index>` path.
 */
export function checkAnswers(questions: SurveyQuestion[], answers: AnswerInput[]): { answers: SurveyAnswer[] } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const byQuestion = new Map<string, SurveyAnswer>();
  const known = new Map(questions.map((q) => [q.id, q]));
  answers.forEach((answer, index) => {
    const field = `answers.${index}`;
    const question = known.get(answer.questionId);
    if (!question) return problems.push({ field: `${field}.questionId`, message: `No question ${answer.questionId} in this survey` });
    if (byQuestion.has(question.id)) return problems.push({ field: `${field}.questionId`, message: `${question.id} is answered twice` });
    const rating = answer.rating ?? null;
    const choices = answer.choices ?? [];
    const text = answer.text?.trim() ? answer.text.trim() : null;
    const wrong = (name: string) => problems.push({ field: `${field}.${name}`, message: `A ${question.kind} question takes no ${name}` });
    switch (question.kind) {
      case 'RATING':
        if (choices.length) wrong('choices');
        if (text !== null) wrong('text');
        if (rating === null || !Number.isInteger(rating) || rating < 1 || rating > (question.scaleMax ?? 5)) {
          return problems.push({ field: `${field}.rating`, message: `A whole number from 1 to ${question.scaleMax ?? 5}` });
        }
        break;
      case 'SINGLE_CHOICE':
      case 'MULTIPLE_CHOICE': {
        if (rating !== null) wrong('rating');
        if (text !== null) wrong('text');
        const unknown = choices.filter((c) => !question.options.includes(c));
        if (unknown.length) return problems.push({ field: `${field}.choices`, message: `Not an option: ${unknown.join(', ')}` });
        if (new Set(choices).size !== choices.length) return problems.push({ field: `${field}.choices`, message: 'An option is chosen twice' });
        if (question.kind === 'SINGLE_CHOICE' ? choices.length !== 1 : choices.length < 1) {
          return problems.push({ field: `${field}.choices`, message: question.kind === 'SINGLE_CHOICE' ? 'Choose exactly one option' : 'Choose at least one option' });
        }
        break;
      }
      case 'TEXT':
        if (rating !== null) wrong('rating');
        if (choices.length) wrong('choices');
        if (text === null) return problems.push({ field: `${field}.text`, message: 'Required' });
        if (text.length > MAX_TEXT_ANSWER) return problems.push({ field: `${field}.text`, message: `At most ${MAX_TEXT_ANSWER} characters` });
        break;
    }
    byQuestion.set(question.id, { questionId: question.id, rating: question.kind === 'RATING' ? rating : null, choices: question.kind.endsWith('CHOICE') ? choices : [], text: question.kind === 'TEXT' ? text : null });
    return undefined;
  });
  questions.forEach((q) => {
    if (q.required && !byQuestion.has(q.id) && !answers.some((a) => a.questionId === q.id)) problems.push({ field: 'answers', message: `${q.id} (${q.text}) is required` });
  });
  if (problems.length) return { problems };
  return { answers: questions.filter((q) => byQuestion.has(q.id)).map((q) => byQuestion.get(q.id)!) };
}

export interface Count {
  value: string;
  count: number;
}

export interface QuestionResult {
  questionId: string;
  kind: SurveyQuestion['kind'];
  text: string;
  answered: number;
  ratingAverage: number | null;
  ratingDistribution: Count[];
  optionCounts: Count[];
  recentTexts: string[];
}

/** Aggregates responses per question (pure: the same responses give the same results). */
export function tally(questions: SurveyQuestion[], responses: Pick<SurveyResponseRecord, 'answers' | 'submittedAt'>[]): QuestionResult[] {
  const newestFirst = [...responses].sort((a, b) => b.submittedAt.getTime() - a.submittedAt.getTime());
  return questions.map((question) => {
    const answers = newestFirst.flatMap((r) => r.answers.filter((a) => a.questionId === question.id));
    const result: QuestionResult = { questionId: question.id, kind: question.kind, text: question.text, answered: answers.length, ratingAverage: null, ratingDistribution: [], optionCounts: [], recentTexts: [] };
    if (question.kind === 'RATING') {
      const scale = question.scaleMax ?? 5;
      const counts = Array.from({ length: scale }, () => 0);
      let sum = 0;
      for (const a of answers) {
        counts[a.rating! - 1]! += 1;
        sum += a.rating!;
      }
      result.ratingDistribution = counts.map((count, i) => ({ value: String(i + 1), count }));
      // Integer arithmetic to two decimals: no binary-fraction drift in what people read.
      result.ratingAverage = answers.length ? Math.round((sum * 100) / answers.length) / 100 : null;
    } else if (question.kind === 'TEXT') {
      result.recentTexts = answers.slice(0, RECENT_TEXTS).map((a) => a.text!);
    } else {
      result.optionCounts = question.options.map((option) => ({ value: option, count: answers.filter((a) => a.choices.includes(option)).length }));
    }
    return result;
  });
}
