/**
 * Holidays care plans greet on (MKT-3): Chinese festivals move with the lunar calendar, so their
 * dates are data, per year (from the official calendar; extend or override with CARE_HOLIDAYS).
 */
export interface Holiday {
  key: string;
  name: string;
  /** `YYYY-MM-DD` dates, any years. */
  dates: string[];
}

export const BUILT_IN_HOLIDAYS: Holiday[] = [
  { key: 'NEW_YEAR', name: '元旦 New Year', dates: ['2026-01-01', '2027-01-01', '2028-01-01'] },
  { key: 'SPRING_FESTIVAL', name: '春节 Spring Festival', dates: ['2026-02-17', '2027-02-06', '2028-01-26'] },
  { key: 'LANTERN_FESTIVAL', name: '元宵节 Lantern Festival', dates: ['2026-03-03', '2027-02-20', '2028-02-09'] },
  { key: 'QINGMING', name: '清明节 Qingming Festival', dates: ['2026-04-05', '2027-04-05', '2028-04-04'] },
  { key: 'LABOUR_DAY', name: '劳动节 Labour Day', dates: ['2026-05-01', '2027-05-01', '2028-05-01'] },
  { key: 'DRAGON_BOAT', name: '端午节 Dragon Boat Festival', dates: ['2026-06-19', '2027-06-09', '2028-05-28'] },
  { key: 'MID_AUTUMN', name: '中秋节 Mid-Autumn Festival', dates: ['2026-09-25', '2027-09-15', '2028-10-03'] },
  { key: 'NATIONAL_DAY', name: '国庆节 National Day', dates: ['2026-10-01', '2027-10-01', '2028-10-01'] },
  { key: 'TEACHERS_DAY', name: '教师节 Teachers\' Day', dates: ['2026-09-10', '2027-09-10', '2028-09-10'] },
];

/** The built-in calendar with CARE_HOLIDAYS (JSON list of holidays) merged in by key. */
export function holidayCalendar(extra: Holiday[] = []): Map<string, Holiday> {
  const calendar = new Map(BUILT_IN_HOLIDAYS.map((h) => [h.key, h]));
  for (const holiday of extra) calendar.set(holiday.key, holiday);
  return calendar;
}

/** The calendar date (`YYYY-MM-DD`) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
