import { describe, expect, it } from 'vitest';
import type { CustomerProfileRecord } from '../../customer-profile/customer-profile.model.js';
import { ageOn, valueTierOf } from '../../customer-profile/customer-profile.service.js';
import { checkRule, matches, normalizeRule, type SegmentRule } from '../segment.rules.js';

const now = new Date('2026-11-22T08:00:00Z');
const profile = (extra: Partial<CustomerProfileRecord> = {}): CustomerProfileRecord => ({
  _id: '0123456789abcdef01234567',
  name: 'Li Lei',
  gender: 'MALE',
  birthday: '1990-11-23',
  country: 'CN',
  province: 'Jiangsu',
  city: 'Nanjing',
  tags: ['VIP', 'university'],
  lifecycleStage: 'CUSTOMER',
  level: 'A',
  source: null,
  portalUserId: null,
  deleted: false,
  mergedInto: null,
  customerVersion: 3,
  spend: [{ currency: 'CNY', amountMinor: 1_250_000 }],
  paidOrderCount: 3,
  lastOrderAt: new Date('2026-11-01T00:00:00Z'),
  valueTier: 'SILVER',
  openTickets: 2,
  openComplaints: 1,
  updatedAt: now,
  ...extra,
});
const when = (field: string, op: string, value: Record<string, unknown> = {}): SegmentRule => ({ condition: { field, op, ...value } as never });

describe('segment rules', () => {
  it('ages in whole years, the day before a birthday one less', () => {
    expect(ageOn('1990-11-23', now)).toBe(35);
    expect(ageOn('1990-11-22', now)).toBe(36);
    expect(ageOn(null, now)).toBeNull();
  });

  it('tiers by the spend in the tier currency', () => {
    const policy = { currency: 'CNY', tiers: [{ name: 'BRONZE', minMinor: 100_000 }, { name: 'SILVER', minMinor: 1_000_000 }] };
    expect(valueTierOf([{ currency: 'CNY', amountMinor: 1_000_000 }], policy)).toBe('SILVER');
    expect(valueTierOf([{ currency: 'USD', amountMinor: 9_000_000 }], policy)).toBe('NONE');
  });

  it('evaluates nested and/or over who customers are and how they buy', () => {
    const rule = normalizeRule({
      and: [
        when('PROVINCE', 'IN', { texts: ['jiangsu', 'Zhejiang'] }),
        { or: [when('TOTAL_SPEND', 'GTE', { number: 1_000_000, currency: 'CNY' }), when('TAGS', 'HAS_ALL', { texts: ['vip', 'gov'] })] },
        when('AGE', 'LT', { number: 36 }),
        when('LAST_ORDER_AT', 'WITHIN_LAST_DAYS', { number: 30 }),
      ],
    });
    expect(matches(rule, profile(), now)).toBe(true);
    expect(matches(rule, profile({ spend: [{ currency: 'CNY', amountMinor: 999_999 }] }), now)).toBe(false);
    expect(matches(rule, profile({ birthday: '1990-11-22' }), now)).toBe(false);
    expect(matches(rule, profile({ lastOrderAt: new Date('2026-10-01T00:00:00Z') }), now)).toBe(false);
    expect(matches(rule, profile({ deleted: true }), now)).toBe(false);
    expect(matches(rule, profile({ mergedInto: 'abcdefabcdefabcdefabcdef' }), now)).toBe(false);
    expect(matches(when('GENDER', 'IS_NOT_SET'), profile({ gender: null }), now)).toBe(true);
    expect(matches(when('CITY', 'NEQ', { text: 'Nanjing' }), profile({ city: null }), now)).toBe(true);
    expect(matches(when('TAGS', 'HAS_NONE', { texts: ['churned'] }), profile(), now)).toBe(true);
    expect(matches(when('ORDER_COUNT', 'GT', { number: 3 }), profile(), now)).toBe(false);
    expect(matches(when('OPEN_COMPLAINTS', 'GTE', { number: 1 }), profile(), now)).toBe(true);
    expect(matches(when('OPEN_TICKETS', 'EQ', { number: 0 }), profile({ openTickets: 0 }), now)).toBe(true);
    expect(matches(when('LAST_ORDER_AT', 'BEFORE', { date: new Date('2026-11-02T00:00:00Z') }), profile(), now)).toBe(true);
  });

  it('refuses bad rules with the path of each problem', () => {
    const problems = checkRule({
      and: [
        when('AGE', 'HAS_ANY', { texts: ['x'] }),
        when('TOTAL_SPEND', 'GT', { number: 100 }),
        when('CITY', 'EQ', { number: 3 }),
        { and: [], condition: when('CITY', 'EQ', { text: 'x' }).condition },
        { or: [] },
        when('SHOE_SIZE', 'EQ', { text: '42' }),
        when('ORDER_COUNT', 'GTE', { number: -1 }),
      ],
    });
    expect(problems).toEqual([
      { field: 'rule.and.0.condition.op', message: 'AGE takes EQ, NEQ, GT, GTE, LT, LTE, IS_SET, IS_NOT_SET' },
      { field: 'rule.and.1.condition.currency', message: 'TOTAL_SPEND compares one currency: an ISO 4217 code' },
      { field: 'rule.and.2.condition.number', message: 'CITY EQ takes text' },
      { field: 'rule.and.2.condition.text', message: 'CITY EQ needs text' },
      { field: 'rule.and.3', message: 'Exactly one of and, or, condition' },
      { field: 'rule.and.4.or', message: 'At least one rule' },
      { field: 'rule.and.5.condition.field', message: 'Unknown field SHOE_SIZE' },
      { field: 'rule.and.6.condition.number', message: 'A whole number, not negative' },
    ]);
    let deep: SegmentRule = when('CITY', 'EQ', { text: 'x' });
    for (let i = 0; i < 6; i += 1) deep = { and: [deep] };
    expect(checkRule(deep).map((p) => p.message)).toContain('At most 5 levels of and/or');
  });
});
