/** Calendar periods in a time zone, from the IANA database that ships with Node (Intl). */
export type PeriodUnit = 'MONTH' | 'QUARTER';

export interface Period {
  /** Months or quarters since year 0: consecutive periods have consecutive indexes. */
  index: number;
  /** `2026-03` or `2026-Q1`. */
  label: string;
  /** Local midnight of the first day, as a UTC instant. */
  start: Date;
  /** Start of the next period (exclusive). */
  end: Date;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** Whether `timeZone` is an IANA zone (or UTC) this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock date and time of `instant` in `timeZone`. */
export function localParts(instant: Date, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .filter((part) => part.type !== 'literal')
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<string, number>;
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in milliseconds. */
function offsetMs(instant: number, timeZone: string): number {
  const p = localParts(new Date(instant), timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant / 1000) * 1000;
}

/** The instant of local midnight starting `year-month-day` in `timeZone` (month 1 to 12). */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  const first = wall - offsetMs(wall, timeZone);
  // Correct once for an offset change between the guess and the answer (daylight saving).
  const second = wall - offsetMs(first, timeZone);
  return new Date(second);
}

const monthsPer = (unit: PeriodUnit) => (unit === 'MONTH' ? 1 : 3);

/** The index of the period holding `instant` in `timeZone`. */
export function periodIndexOf(instant: Date, unit: PeriodUnit, timeZone: string): number {
  const { year, month } = localParts(instant, timeZone);
  return unit === 'MONTH' ? year * 12 + (month - 1) : year * 4 + Math.floor((month - 1) / 3);
}

function startOf(index: number, unit: PeriodUnit, timeZone: string): Date {
  const perYear = 12 / monthsPer(unit);
  const year = Math.floor(index / perYear);
  const month = (index - year * perYear) * monthsPer(unit) + 1;
  return zonedMidnight(year, month, 1, timeZone);
}

export function periodAt(index: number, unit: PeriodUnit, timeZone: string): Period {
  const perYear = 12 / monthsPer(unit);
  const year = Math.floor(index / perYear);
  const within = index - year * perYear;
  const label = unit === 'MONTH' ? `${year}-${String(within + 1).padStart(2, '0')}` : `${year}-Q${within + 1}`;
  return { index, label, start: startOf(index, unit, timeZone), end: startOf(index + 1, unit, timeZone) };
}
