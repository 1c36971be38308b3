import type { FieldProblem } from '@crm/errors';
import { ageOn } from '../customer-profile/customer-profile.service.js';
import type { CustomerProfileRecord } from '../customer-profile/customer-profile.model.js';

export const SEGMENT_FIELDS = ['AGE', 'GENDER', 'COUNTRY', 'PROVINCE', 'CITY', 'TAGS', 'LIFECYCLE_STAGE', 'LEVEL', 'TOTAL_SPEND', 'ORDER_COUNT', 'LAST_ORDER_AT', 'VALUE_TIER', 'OPEN_TICKETS', 'OPEN_COMPLAINTS'] as const;
export type SegmentField = (typeof SEGMENT_FIELDS)[number];
export const SEGMENT_OPERATORS = ['EQ', 'NEQ', 'IN', 'NOT_IN', 'GT', 'GTE', 'LT', 'LTE', 'HAS_ANY', 'HAS_ALL', 'HAS_NONE', 'BEFORE', 'AFTER', 'WITHIN_LAST_DAYS', 'IS_SET', 'IS_NOT_SET'] as const;
export type SegmentOperator = (typeof SEGMENT_OPERATORS)[number];

/** One test of a profile. Which value members are used depends on the field and operator. */
export interface SegmentCondition {
  field: SegmentField;
  op: SegmentOperator;
  text?: string | null;
  texts?: string[] | null;
  number?: number | null;
  date?: Date | null;
  /** TOTAL_SPEND: the currency compared (ISO 4217). */
  currency?: string | null;
}

/** Exactly one of `and`, `or`, `condition`. */
export interface SegmentRule {
  and?: SegmentRule[] | null;
  or?: SegmentRule[] | null;
  condition?: SegmentCondition | null;
}

export const MAX_DEPTH = 5;
export const MAX_CONDITIONS = 50;
const TEXT_FIELDS: SegmentField[] = ['GENDER', 'COUNTRY', 'PROVINCE', 'CITY', 'LIFECYCLE_STAGE', 'LEVEL', 'VALUE_TIER'];
const NUMBER_FIELDS: SegmentField[] = ['AGE', 'TOTAL_SPEND', 'ORDER_COUNT', 'OPEN_TICKETS', 'OPEN_COMPLAINTS'];
const NUMBER_OPS: SegmentOperator[] = ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE'];
const PRESENCE_OPS: SegmentOperator[] = ['IS_SET', 'IS_NOT_SET'];

function allowedOps(field: SegmentField): SegmentOperator[] {
  if (TEXT_FIELDS.includes(field)) return ['EQ', 'NEQ', 'IN', 'NOT_IN', ...PRESENCE_OPS];
  if (field === 'TAGS') return ['HAS_ANY', 'HAS_ALL', 'HAS_NONE'];
  if (field === 'LAST_ORDER_AT') return ['BEFORE', 'AFTER', 'WITHIN_LAST_DAYS', ...PRESENCE_OPS];
  return field === 'AGE' ? [...NUMBER_OPS, ...PRESENCE_OPS] : NUMBER_OPS;
}

/** The value member an operator needs, for the error messages and the check. */
function needs(field: SegmentField, op: SegmentOperator): 'text' | 'texts' | 'number' | 'date' | null {
  if (PRESENCE_OPS.includes(op)) return null;
  if (op === 'IN' || op === 'NOT_IN' || field === 'TAGS') return 'texts';
  if (op === 'BEFORE' || op === 'AFTER') return 'date';
  if (op === 'WITHIN_LAST_DAYS' || NUMBER_FIELDS.includes(field)) return 'number';
  return 'text';
}

/**
 * Validates a rule: one of and/or/condition per node, known field and operator pairs, the value the
 * operator needs (and no other), depth and size limits. Problems carry their path (`rule.and.1.op`).
 */
export function checkRule(rule: SegmentRule | null | undefined, path = 'rule'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  let conditions = 0;
  const visit = (node: SegmentRule | null | undefined, at: string, depth: number) => {
    if (!node) return problems.push({ field: at, message: 'Required' });
    const kinds = (['and', 'or', 'condition'] as const).filter((k) => node[k] != null);
    if (kinds.length !== 1) return problems.push({ field: at, message: 'Exactly one of and, or, condition' });
    if (depth > MAX_DEPTH) return problems.push({ field: at, message: `At most ${MAX_DEPTH} levels of and/or` });
    const kind = kinds[0]!;
    if (kind !== 'condition') {
      const children = node[kind]!;
      if (children.length < 1) return problems.push({ field: `${at}.${kind}`, message: 'At least one rule' });
      children.forEach((child, i) => visit(child, `${at}.${kind}.${i}`, depth + 1));
      return undefined;
    }
    conditions += 1;
    const c = node.condition!;
    const where = `${at}.condition`;
    if (!(SEGMENT_FIELDS as readonly string[]).includes(c.field)) return problems.push({ field: `${where}.field`, message: `Unknown field ${c.field}` });
    if (!allowedOps(c.field).includes(c.op)) return problems.push({ field: `${where}.op`, message: `${c.field} takes ${allowedOps(c.field).join(', ')}` });
    const need = needs(c.field, c.op);
    const given = (['text', 'texts', 'number', 'date'] as const).filter((k) => c[k] != null);
    for (const extra of given.filter((k) => k !== need)) problems.push({ field: `${where}.${extra}`, message: `${c.field} ${c.op} takes ${need ?? 'no value'}` });
    if (need && c[need] == null) return problems.push({ field: `${where}.${need}`, message: `${c.field} ${c.op} needs ${need}` });
    if (need === 'texts' && (c.texts!.length < 1 || c.texts!.length > 100 || c.texts!.some((t) => !t.trim()))) problems.push({ field: `${where}.texts`, message: '1 to 100 non-empty values' });
    if (need === 'text' && !c.text!.trim()) problems.push({ field: `${where}.text`, message: 'Must not be empty' });
    if (need === 'number' && (!Number.isSafeInteger(c.number) || c.number! < 0)) problems.push({ field: `${where}.number`, message: 'A whole number, not negative' });
    if (need === 'date' && Number.isNaN(c.date!.getTime())) problems.push({ field: `${where}.date`, message: 'An ISO 8601 instant' });
    if (c.field === 'TOTAL_SPEND' && !/^[A-Z]{3}$/.test(c.currency ?? '')) problems.push({ field: `${where}.currency`, message: 'TOTAL_SPEND compares one currency: an ISO 4217 code' });
    if (c.field !== 'TOTAL_SPEND' && c.currency != null) problems.push({ field: `${where}.currency`, message: 'Only TOTAL_SPEND takes a currency' });
    return undefined;
  };
  visit(rule, path, 1);
  if (conditions > MAX_CONDITIONS) problems.push({ field: path, message: `At most ${MAX_CONDITIONS} conditions` });
  return problems;
}

/** A rule as stored: only the members in use (absent ones would be stored as nulls otherwise). */
export function normalizeRule(rule: SegmentRule): SegmentRule {
  if (rule.and) return { and: rule.and.map(normalizeRule) };
  if (rule.or) return { or: rule.or.map(normalizeRule) };
  const c = rule.condition!;
  const condition: SegmentCondition = { field: c.field, op: c.op };
  if (c.text != null) condition.text = c.text.trim();
  if (c.texts != null) condition.texts = c.texts.map((t) => t.trim());
  if (c.number != null) condition.number = c.number;
  if (c.date != null) condition.date = c.date;
  if (c.currency != null) condition.currency = c.currency;
  return { condition };
}

function valueOf(field: SegmentField, profile: CustomerProfileRecord, now: Date, currency?: string | null): string | number | Date | null {
  switch (field) {
    case 'AGE':
      return ageOn(profile.birthday, now);
    case 'GENDER':
      return profile.gender;
    case 'COUNTRY':
      return profile.country;
    case 'PROVINCE':
      return profile.province;
    case 'CITY':
      return profile.city;
    case 'LIFECYCLE_STAGE':
      return profile.lifecycleStage;
    case 'LEVEL':
      return profile.level;
    case 'VALUE_TIER':
      return profile.valueTier;
    case 'TOTAL_SPEND':
      return profile.spend.find((s) => s.currency === currency)?.amountMinor ?? 0;
    case 'ORDER_COUNT':
      return profile.paidOrderCount;
    case 'LAST_ORDER_AT':
      return profile.lastOrderAt ? new Date(profile.lastOrderAt) : null;
    case 'OPEN_TICKETS':
      return profile.openTickets ?? 0;
    case 'OPEN_COMPLAINTS':
      return profile.openComplaints ?? 0;
    case 'TAGS':
      return null;
  }
}

const DAY_MS = 86_400_000;

/** Does the customer belong? Deleted and merged-away customers never do. Text compares ignore case. */
export function matches(rule: SegmentRule, profile: CustomerProfileRecord, now: Date): boolean {
  if (profile.deleted || profile.mergedInto) return false;
  if (rule.and) return rule.and.every((r) => matches(r, profile, now));
  if (rule.or) return rule.or.some((r) => matches(r, profile, now));
  const c = rule.condition!;
  if (c.field === 'TAGS') {
    const tags = new Set(profile.tags.map((t) => t.toLowerCase()));
    const wanted = (c.texts ?? []).map((t) => t.toLowerCase());
    if (c.op === 'HAS_ANY') return wanted.some((t) => tags.has(t));
    if (c.op === 'HAS_ALL') return wanted.every((t) => tags.has(t));
    return !wanted.some((t) => tags.has(t));
  }
  const value = valueOf(c.field, profile, now, c.currency);
  if (c.op === 'IS_SET') return value !== null;
  if (c.op === 'IS_NOT_SET') return value === null;
  if (value === null) return c.op === 'NEQ' || c.op === 'NOT_IN';
  if (value instanceof Date) {
    if (c.op === 'BEFORE') return value < new Date(c.date!);
    if (c.op === 'AFTER') return value > new Date(c.date!);
    return value.getTime() >= now.getTime() - c.number! * DAY_MS; // WITHIN_LAST_DAYS
  }
  if (typeof value === 'number') {
    const n = c.number!;
    return { EQ: value === n, NEQ: value !== n, GT: value > n, GTE: value >= n, LT: value < n, LTE: value <= n }[c.op as 'EQ'] ?? false;
  }
  const v = value.toLowerCase();
  if (c.op === 'EQ') return v === c.text!.toLowerCase();
  if (c.op === 'NEQ') return v !== c.text!.toLowerCase();
  const set = (c.texts ?? []).map((t) => t.toLowerCase());
  return c.op === 'IN' ? set.includes(v) : !set.includes(v);
}

/** Fields a rule reads (a change of other fields cannot change membership). */
export function fieldsOf(rule: SegmentRule): Set<SegmentField> {
  const out = new Set<SegmentField>();
  const walk = (r: SegmentRule) => {
    (r.and ?? r.or ?? []).forEach(walk);
    if (r.condition) out.add(r.condition.field);
  };
  walk(rule);
  return out;
}
