/**
 * Business time, pure: which instants are working time in a business calendar, and arithmetic on
 * working minutes. Every input and output instant is a UTC `Date`; wall-clock times, weekdays and
 * dates are read in the calendar's IANA time zone through the platform's `Intl` (no library: Node's
 * ICU data knows every zone and its daylight-saving rules).
 *
 * A day's working time is the weekday's intervals, unless the date is a holiday (no working time)
 * or an extra working day (a weekend day moved to a working day, 调休: it gets `extraWorkingDayHours`,
 * by default Monday's hours).
 */

export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Wall-clock interval `[start, end)` within one day, `HH:MM` (end may be `24:00`). */
export interface BusinessInterval {
  start: string;
  end: string;
}

export interface BusinessCalendar {
  /** IANA zone, e.g. `Asia/Shanghai`. */
  timeZone: string;
  /** Working intervals per weekday; a weekday not listed (or with `[]`) is a day off. */
  weeklyHours: Partial<Record<Weekday, BusinessInterval[]>>;
  /** Dates (`YYYY-MM-DD`, in `timeZone`) with no working time. */
  holidays: string[];
  /** Dates (`YYYY-MM-DD`, in `timeZone`) that are working days whatever their weekday (调休). */
  extraWorkingDays: string[];
  /** The hours of an extra working day; Monday's hours when absent. */
  extraWorkingDayHours?: BusinessInterval[];
}

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

const OFFICE_DAY: BusinessInterval[] = [
  { start: '09:00', end: '12:00' },
  { start: '13:00', end: '18:00' },
];

/** Monday to Friday 09:00-12:00 and 13:00-18:00 (8 working hours) in Asia/Shanghai, no holidays. */
export const DEFAULT_CALENDAR: BusinessCalendar = {
  timeZone: DEFAULT_TIME_ZONE,
  weeklyHours: { MON: OFFICE_DAY, TUE: OFFICE_DAY, WED: OFFICE_DAY, THU: OFFICE_DAY, FRI: OFFICE_DAY },
  holidays: [],
  extraWorkingDays: [],
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Searching further than this for working time means the calendar has none (a guard, not a rule). */
const MAX_SEARCH_DAYS = 3_700;

const TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes since midnight of `HH:MM`, or null when it is not a valid wall-clock time (24:00 allowed). */
export function parseTimeOfDay(value: string): number | null {
  const match = TIME_PATTERN.exec(value);
  if (!match) return null;
  if (value === '24:00') return 1440;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` calendar date, or null when it is not a real date. */
export function parseCivilDate(value: string): number | null {
  const match = DATE_PATTERN.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return ms / DAY_MS;
}

function formatCivilDate(epochDay: number): string {
  return new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday of an epoch day: 1970-01-01 was a Thursday. */
function weekdayOf(epochDay: number): Weekday {
  return WEEKDAYS[(((epochDay + 3) % 7) + 7) % 7]!;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's wall clock at `ms`, as if that wall clock were UTC (ms precision kept). */
function wallClockMs(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wholeSecond = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wholeSecond + (((ms % 1000) + 1000) % 1000);
}

/** UTC offset (ms, east positive) of the zone at the instant `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  return wallClockMs(ms, timeZone) - ms;
}

/**
 * The instant when the zone's wall clock shows `wall` (ms, wall clock read as UTC). A wall time that
 * happens twice (clocks set back) gives the earlier instant; one that never happens (clocks set
 * forward) gives the instant the same distance after the jump, i.e. the gap counts as no time.
 */
function instantOfWallClock(wall: number, timeZone: string): number {
  const before = offsetAt(wall - 43_200_000, timeZone);
  const after = offsetAt(wall + 43_200_000, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => wallClockMs(t, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

/** The local calendar date (epoch day) of an instant in the zone. */
function localEpochDay(ms: number, timeZone: string): number {
  return Math.floor(wallClockMs(ms, timeZone) / DAY_MS);
}

interface CompiledCalendar {
  timeZone: string;
  weekly: Map<Weekday, Array<[number, number]>>;
  extraHours: Array<[number, number]>;
  holidays: Set<number>;
  extraDays: Set<number>;
  /** Working instants per local day, memoised (the zone lookups are the cost); bounded. */
  days: Map<number, Array<[number, number]>>;
}

const MAX_CACHED_DAYS = 50_000;

const compiled = new WeakMap<BusinessCalendar, CompiledCalendar>();

function compileIntervals(intervals: BusinessInterval[] | undefined): Array<[number, number]> {
  return (intervals ?? [])
    .map((interval): [number, number] => [parseTimeOfDay(interval.start) ?? NaN, parseTimeOfDay(interval.end) ?? NaN])
    .filter(([start, end]) => Number.isFinite(start) && Number.isFinite(end) && start < end)
    .sort((a, b) => a[0] - b[0]);
}

function compile(cal: BusinessCalendar): CompiledCalendar {
  let result = compiled.get(cal);
  if (result) return result;
  const problems = validateCalendar(cal);
  if (problems.length > 0) {
    throw new RangeError(`invalid business calendar: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
  const weekly = new Map<Weekday, Array<[number, number]>>();
  for (const day of WEEKDAYS) weekly.set(day, compileIntervals(cal.weeklyHours[day]));
  result = {
    timeZone: cal.timeZone,
    weekly,
    extraHours: cal.extraWorkingDayHours ? compileIntervals(cal.extraWorkingDayHours) : weekly.get('MON')!,
    holidays: new Set(cal.holidays.map((d) => parseCivilDate(d)!)),
    extraDays: new Set(cal.extraWorkingDays.map((d) => parseCivilDate(d)!)),
    days: new Map(),
  };
  compiled.set(cal, result);
  return result;
}

export interface CalendarProblem {
  /** Dotted path inside the calendar, e.g. `weeklyHours.MON.0.end`. */
  field: string;
  message: string;
}

function checkIntervals(intervals: BusinessInterval[], path: string, problems: CalendarProblem[]): void {
  const parsed: Array<[number, number, number]> = [];
  intervals.forEach((interval, index) => {
    const start = parseTimeOfDay(interval.start);
    const end = parseTimeOfDay(interval.end);
    if (start === null || start === 1440) problems.push({ field: `${path}.${index}.start`, message: 'must be a time HH:MM between 00:00 and 23:59' });
    if (end === null) problems.push({ field: `${path}.${index}.end`, message: 'must be a time HH:MM between 00:01 and 24:00' });
    if (start !== null && end !== null) {
      if (start >= end) problems.push({ field: `${path}.${index}.end`, message: 'must be after start' });
      else parsed.push([start, end, index]);
    }
  });
  parsed.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < parsed.length; i += 1) {
    if (parsed[i]![0] < parsed[i - 1]![1]) problems.push({ field: `${path}.${parsed[i]![2]}.start`, message: 'overlaps another interval of the same day' });
  }
}

/** Everything wrong with a calendar (empty when it is usable). */
export function validateCalendar(cal: BusinessCalendar): CalendarProblem[] {
  const problems: CalendarProblem[] = [];
  if (!isValidTimeZone(cal.timeZone)) problems.push({ field: 'timeZone', message: 'must be an IANA time zone such as Asia/Shanghai' });
  let anyHours = false;
  for (const [day, intervals] of Object.entries(cal.weeklyHours)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      problems.push({ field: `weeklyHours.${day}`, message: 'is not a weekday (MON..SUN)' });
      continue;
    }
    checkIntervals(intervals ?? [], `weeklyHours.${day}`, problems);
    if ((intervals ?? []).length > 0) anyHours = true;
  }
  if (!anyHours) problems.push({ field: 'weeklyHours', message: 'needs working hours on at least one weekday' });
  if (cal.extraWorkingDayHours) {
    checkIntervals(cal.extraWorkingDayHours, 'extraWorkingDayHours', problems);
  }
  const holidays = new Set<string>();
  cal.holidays.forEach((date, index) => {
    if (parseCivilDate(date) === null) problems.push({ field: `holidays.${index}`, message: 'must be a date YYYY-MM-DD' });
    else if (holidays.has(date)) problems.push({ field: `holidays.${index}`, message: 'is listed twice' });
    holidays.add(date);
  });
  const extra = new Set<string>();
  cal.extraWorkingDays.forEach((date, index) => {
    if (parseCivilDate(date) === null) problems.push({ field: `extraWorkingDays.${index}`, message: 'must be a date YYYY-MM-DD' });
    else if (holidays.has(date)) problems.push({ field: `extraWorkingDays.${index}`, message: 'is also a holiday' });
    else if (extra.has(date)) problems.push({ field: `extraWorkingDays.${index}`, message: 'is listed twice' });
    extra.add(date);
  });
  return problems;
}

/** Working wall-clock intervals (minutes of the day) of a local date. */
function intervalsOn(cal: CompiledCalendar, epochDay: number): Array<[number, number]> {
  if (cal.holidays.has(epochDay)) return [];
  if (cal.extraDays.has(epochDay)) return cal.extraHours;
  return cal.weekly.get(weekdayOf(epochDay))!;
}

/** Working intervals of a local date as UTC instants `[start, end)` in ms. */
function instantsOn(cal: CompiledCalendar, epochDay: number): Array<[number, number]> {
  let instants = cal.days.get(epochDay);
  if (!instants) {
    instants = intervalsOn(cal, epochDay).map(([start, end]): [number, number] => [
      instantOfWallClock(epochDay * DAY_MS + start * MINUTE_MS, cal.timeZone),
      instantOfWallClock(epochDay * DAY_MS + end * MINUTE_MS, cal.timeZone),
    ]);
    if (cal.days.size >= MAX_CACHED_DAYS) cal.days.clear();
    cal.days.set(epochDay, instants);
  }
  return instants;
}

/** Whether the calendar counts `at` as working time. */
export function isBusinessTime(at: Date, cal: BusinessCalendar): boolean {
  const c = compile(cal);
  const ms = at.getTime();
  const day = localEpochDay(ms, c.timeZone);
  return instantsOn(c, day).some(([start, end]) => ms >= start && ms < end);
}

/** The working intervals (UTC) of the local date `date` (`YYYY-MM-DD`), for display and tests. */
export function businessHoursOn(date: string, cal: BusinessCalendar): Array<{ start: Date; end: Date }> {
  const day = parseCivilDate(date);
  if (day === null) throw new RangeError(`not a date: ${date}`);
  return instantsOn(compile(cal), day).map(([start, end]) => ({ start: new Date(start), end: new Date(end) }));
}

/** The instant `ms` of business time after `from` (exact to the millisecond). */
export function addBusinessMs(from: Date, ms: number, cal: BusinessCalendar): Date {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`business time to add must be a finite number >= 0, got ${ms}`);
  const c = compile(cal);
  const cursor = from.getTime();
  let remaining = ms;
  const firstDay = localEpochDay(cursor, c.timeZone);
  for (let day = firstDay; day <= firstDay + MAX_SEARCH_DAYS; day += 1) {
    for (const [start, end] of instantsOn(c, day)) {
      const begin = Math.max(start, cursor);
      if (begin >= end) continue;
      if (end - begin >= remaining) return new Date(begin + remaining);
      remaining -= end - begin;
    }
  }
  throw new RangeError(`no working time in the calendar within ${MAX_SEARCH_DAYS} days after ${formatCivilDate(firstDay)}`);
}

/**
 * The instant `minutes` business minutes after `from`. Starting outside working time counts from the
 * next working instant; a target used up exactly at closing time is due at closing time (8 h from
 * Monday 09:00 with a 09:00-18:00 day and a lunch hour → Monday 18:00), and adding 0 outside working
 * time gives the next opening.
 */
export function addBusinessMinutes(from: Date, minutes: number, cal: BusinessCalendar): Date {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`business minutes to add must be a finite number >= 0, got ${minutes}`);
  return addBusinessMs(from, minutes * MINUTE_MS, cal);
}

/** Business time (ms) in `[from, to)`; negative when `to` is before `from`. */
export function businessMsBetween(from: Date, to: Date, cal: BusinessCalendar): number {
  const a = from.getTime();
  const b = to.getTime();
  if (b < a) return -businessMsBetween(to, from, cal);
  const c = compile(cal);
  let total = 0;
  const lastDay = localEpochDay(b, c.timeZone);
  for (let day = localEpochDay(a, c.timeZone); day <= lastDay; day += 1) {
    for (const [start, end] of instantsOn(c, day)) {
      const overlap = Math.min(end, b) - Math.max(start, a);
      if (overlap > 0) total += overlap;
    }
  }
  return total;
}

/**
 * Whole business minutes in `[from, to)` (rounded toward zero; negative when `to` is before `from`).
 * Sums by the day, so years apart costs a few thousand `Intl` calls.
 */
export function businessMinutesBetween(from: Date, to: Date, cal: BusinessCalendar): number {
  const ms = businessMsBetween(from, to, cal);
  return Math.trunc(ms / MINUTE_MS) + 0;
}
