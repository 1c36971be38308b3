import type { FieldProblem } from '@crm/errors';
import { daysBetween, isCalendarDate, isTimeZone, startOfLocalDay, type Granularity } from '../read-model/zoned-time.js';
import { ReportException } from './report.errors.js';

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The longest range per granularity: a report never has more than a few hundred points. */
export const MAX_RANGE_DAYS: Record<Granularity, number> = { DAY: 366, MONTH: 3660, YEAR: 36600 };

export interface RangeArgs {
  from: string;
  to: string;
  granularity?: Granularity | null;
  timeZone?: string | null;
}

/** A validated report range: local dates `from`..`to` inclusive in `timeZone`, and the instants they span. */
export interface ReportRange {
  from: string;
  to: string;
  granularity: Granularity;
  timeZone: string;
  /** First instant of `from` and first instant after `to`, in the zone. */
  start: Date;
  end: Date;
}

/** Checks a report's range arguments, reporting every problem at once (BAD_USER_INPUT with fields). */
export function parseRange(args: RangeArgs, defaultGranularity: Granularity = 'MONTH'): ReportRange {
  const problems: FieldProblem[] = [];
  const granularity = args.granularity ?? defaultGranularity;
  const timeZone = args.timeZone ?? DEFAULT_TIME_ZONE;
  if (!isTimeZone(timeZone)) problems.push({ field: 'timeZone', message: `Unknown time zone "${timeZone}" (an IANA name such as Asia/Shanghai or UTC)` });
  const fromOk = isCalendarDate(args.from);
  const toOk = isCalendarDate(args.to);
  if (!fromOk) problems.push({ field: 'from', message: 'A calendar date, YYYY-MM-DD' });
  if (!toOk) problems.push({ field: 'to', message: 'A calendar date, YYYY-MM-DD' });
  if (fromOk && toOk) {
    const days = daysBetween(args.from, args.to);
    if (days < 0) problems.push({ field: 'to', message: 'Must not be before from' });
    else if (days + 1 > MAX_RANGE_DAYS[granularity]) problems.push({ field: 'to', message: `At most ${MAX_RANGE_DAYS[granularity]} days with granularity ${granularity}` });
  }
  if (problems.length) throw new ReportException('REPORT_INVALID_INPUT', 'Invalid report range', problems);
  const start = startOfLocalDay(args.from, timeZone);
  const next = new Date(Date.parse(`${args.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from: args.from, to: args.to, granularity, timeZone, start: new Date(start), end: new Date(startOfLocalDay(next, timeZone)) };
}

/** A whole number within bounds, or BAD_USER_INPUT naming the field. */
export function boundedInt(field: string, value: number | null | undefined, fallback: number, min: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) throw new ReportException('REPORT_INVALID_INPUT', `Invalid ${field}`, [{ field, message: `A whole number from ${min} to ${max}` }]);
  return n;
}

/** An ISO 4217 code (three capital letters), or BAD_USER_INPUT. */
export function currencyArg(value: string | null | undefined, fallback: string): string {
  const currency = value ?? fallback;
  if (!/^[A-Z]{3}$/.test(currency)) throw new ReportException('REPORT_INVALID_INPUT', 'Invalid currency', [{ field: 'currency', message: 'An ISO 4217 code such as CNY' }]);
  return currency;
}
