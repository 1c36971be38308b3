import { describe, expect, it } from 'vitest';
import {
  addBusinessMinutes,
  businessHoursOn,
  businessMinutesBetween,
  DEFAULT_CALENDAR,
  isBusinessTime,
  validateCalendar,
  type BusinessCalendar,
} from '../sla.calendar.js';

// Asia/Shanghai is UTC+8 all year: local 09:00 is 01:00Z. 2026-11-23 is a Monday.
const sh = (local: string) => new Date(`${local}+08:00`);
const cal = DEFAULT_CALENDAR; // Mon-Fri 09:00-12:00, 13:00-18:00

describe('addBusinessMinutes (Mon-Fri 09-12, 13-18, Asia/Shanghai)', () => {
  it('adds within one interval', () => {
    expect(addBusinessMinutes(sh('2026-11-23T09:30'), 60, cal)).toEqual(sh('2026-11-23T10:30'));
  });

  it('skips the lunch break', () => {
    expect(addBusinessMinutes(sh('2026-11-23T11:30'), 60, cal)).toEqual(sh('2026-11-23T13:30'));
  });

  it('a target used up exactly at closing time is due at closing time', () => {
    expect(addBusinessMinutes(sh('2026-11-23T09:00'), 480, cal)).toEqual(sh('2026-11-23T18:00'));
    expect(addBusinessMinutes(sh('2026-11-23T09:00'), 481, cal)).toEqual(sh('2026-11-24T09:01'));
  });

  it('skips the weekend', () => {
    expect(addBusinessMinutes(sh('2026-11-27T17:00'), 120, cal)).toEqual(sh('2026-11-30T10:00'));
  });

  it('starting outside working time counts from the next opening', () => {
    expect(addBusinessMinutes(sh('2026-11-28T15:00'), 30, cal)).toEqual(sh('2026-11-30T09:30')); // Saturday
    expect(addBusinessMinutes(sh('2026-11-23T12:30'), 30, cal)).toEqual(sh('2026-11-23T13:30')); // lunch
    expect(addBusinessMinutes(sh('2026-11-23T20:00'), 30, cal)).toEqual(sh('2026-11-24T09:30')); // evening
    expect(addBusinessMinutes(sh('2026-11-23T06:00'), 30, cal)).toEqual(sh('2026-11-23T09:30')); // early
  });

  it('adding 0 gives the instant itself in working time and the next opening outside it', () => {
    expect(addBusinessMinutes(sh('2026-11-23T10:15'), 0, cal)).toEqual(sh('2026-11-23T10:15'));
    expect(addBusinessMinutes(sh('2026-11-28T10:00'), 0, cal)).toEqual(sh('2026-11-30T09:00'));
    expect(addBusinessMinutes(sh('2026-11-23T18:00'), 0, cal)).toEqual(sh('2026-11-24T09:00'));
  });

  it('reads the weekday in the calendar zone, not in UTC', () => {
    // 2026-11-22T23:00Z is Sunday in UTC but Monday 07:00 in Shanghai.
    expect(addBusinessMinutes(new Date('2026-11-22T23:00:00Z'), 60, cal)).toEqual(sh('2026-11-23T10:00'));
    // 2026-11-27T17:00Z is Friday in UTC but Saturday 01:00 in Shanghai.
    expect(addBusinessMinutes(new Date('2026-11-27T17:00:00Z'), 60, cal)).toEqual(sh('2026-11-30T10:00'));
  });

  it('skips holidays', () => {
    const withHoliday: BusinessCalendar = { ...cal, holidays: ['2026-11-30', '2026-12-01'] };
    expect(addBusinessMinutes(sh('2026-11-27T17:00'), 120, withHoliday)).toEqual(sh('2026-12-02T10:00'));
  });

  it('works an extra working day (调休) with Monday hours by default', () => {
    const shifted: BusinessCalendar = { ...cal, extraWorkingDays: ['2026-11-28'] };
    expect(addBusinessMinutes(sh('2026-11-27T17:00'), 120, shifted)).toEqual(sh('2026-11-28T10:00'));
    expect(addBusinessMinutes(sh('2026-11-28T11:00'), 120, shifted)).toEqual(sh('2026-11-28T14:00'));
  });

  it('an extra working day may have its own hours', () => {
    const shifted: BusinessCalendar = { ...cal, extraWorkingDays: ['2026-11-28'], extraWorkingDayHours: [{ start: '10:00', end: '11:00' }] };
    expect(addBusinessMinutes(sh('2026-11-27T17:00'), 120, shifted)).toEqual(sh('2026-11-28T11:00'));
    expect(addBusinessMinutes(sh('2026-11-27T17:00'), 121, shifted)).toEqual(sh('2026-11-30T09:01'));
    expect(addBusinessMinutes(sh('2026-11-27T17:00'), 90, shifted)).toEqual(sh('2026-11-28T10:30'));
  });

  it('national holiday week with weekend make-up days (2026-10-01..07 style)', () => {
    const golden: BusinessCalendar = {
      ...cal,
      holidays: ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07'],
      extraWorkingDays: ['2026-09-27', '2026-10-10'], // Sunday before, Saturday after
    };
    // Wednesday 2026-09-30 17:00 + 2h: 1h Wednesday, then nothing until Thursday 2026-10-08.
    expect(addBusinessMinutes(sh('2026-09-30T17:00'), 120, golden)).toEqual(sh('2026-10-08T10:00'));
    // Friday 2026-09-25 17:00 + 2h: the make-up Sunday 2026-09-27 works.
    expect(addBusinessMinutes(sh('2026-09-25T17:00'), 120, golden)).toEqual(sh('2026-09-27T10:00'));
    expect(businessMinutesBetween(sh('2026-09-28T00:00'), sh('2026-10-12T00:00'), golden)).toBe(6 * 480);
  });

  it('keeps millisecond precision and accepts fractional minutes', () => {
    expect(addBusinessMinutes(sh('2026-11-23T11:59:30'), 1, cal)).toEqual(sh('2026-11-23T13:00:30'));
    expect(addBusinessMinutes(sh('2026-11-23T10:00'), 0.5, cal)).toEqual(sh('2026-11-23T10:00:30'));
  });

  it('rejects negative or non-finite minutes and an invalid calendar', () => {
    expect(() => addBusinessMinutes(sh('2026-11-23T10:00'), -1, cal)).toThrow(RangeError);
    expect(() => addBusinessMinutes(sh('2026-11-23T10:00'), Number.NaN, cal)).toThrow(RangeError);
    expect(() => addBusinessMinutes(sh('2026-11-23T10:00'), 1, { ...cal, timeZone: 'Mars/Olympus' })).toThrow(/timeZone/);
  });
});

describe('businessMinutesBetween', () => {
  it('counts only working time', () => {
    expect(businessMinutesBetween(sh('2026-11-23T08:00'), sh('2026-11-23T20:00'), cal)).toBe(480);
    expect(businessMinutesBetween(sh('2026-11-23T11:00'), sh('2026-11-23T14:00'), cal)).toBe(120);
    expect(businessMinutesBetween(sh('2026-11-27T17:00'), sh('2026-11-30T10:00'), cal)).toBe(120);
    expect(businessMinutesBetween(sh('2026-11-28T09:00'), sh('2026-11-29T18:00'), cal)).toBe(0);
  });

  it('is negative when reversed and zero for the same instant', () => {
    expect(businessMinutesBetween(sh('2026-11-30T10:00'), sh('2026-11-27T17:00'), cal)).toBe(-120);
    expect(businessMinutesBetween(sh('2026-11-23T10:00'), sh('2026-11-23T10:00'), cal)).toBe(0);
    expect(Object.is(businessMinutesBetween(sh('2026-11-23T10:00:30'), sh('2026-11-23T10:00'), cal), -0)).toBe(false);
  });

  it('rounds toward zero to whole minutes', () => {
    expect(businessMinutesBetween(sh('2026-11-23T10:00'), sh('2026-11-23T10:01:59'), cal)).toBe(1);
    expect(businessMinutesBetween(sh('2026-11-23T10:01:59'), sh('2026-11-23T10:00'), cal)).toBe(-1);
  });

  it('a week and a year of working time', () => {
    expect(businessMinutesBetween(sh('2026-11-23T00:00'), sh('2026-11-30T00:00'), cal)).toBe(5 * 480);
    // 2027 has 261 weekdays.
    expect(businessMinutesBetween(sh('2027-01-01T00:00'), sh('2028-01-01T00:00'), cal)).toBe(261 * 480);
  });

  it('is the inverse of addBusinessMinutes', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const calendars: BusinessCalendar[] = [
      cal,
      { ...cal, holidays: ['2026-12-25', '2027-01-01'], extraWorkingDays: ['2026-12-26'] },
      { timeZone: 'America/New_York', weeklyHours: { MON: [{ start: '00:00', end: '24:00' }], SUN: [{ start: '01:00', end: '03:30' }] }, holidays: [], extraWorkingDays: [] },
    ];
    for (const calendar of calendars) {
      for (let i = 0; i < 60; i += 1) {
        const from = new Date(Date.UTC(2026, 0, 1) + (next() % (400 * 86_400)) * 1000);
        const minutes = next() % 5000;
        const due = addBusinessMinutes(from, minutes, calendar);
        expect(businessMinutesBetween(from, due, calendar)).toBe(minutes);
        expect(due.getTime()).toBeGreaterThanOrEqual(from.getTime());
        if (minutes > 0) expect(isBusinessTime(new Date(due.getTime() - 1), calendar)).toBe(true);
      }
    }
  });
});

describe('time zones and daylight saving', () => {
  const ny: BusinessCalendar = {
    timeZone: 'America/New_York',
    weeklyHours: { SUN: [{ start: '01:00', end: '04:00' }], MON: [{ start: '09:00', end: '17:00' }] },
    holidays: [],
    extraWorkingDays: [],
  };

  it('a spring-forward day has an hour less (02:00-03:00 never happens)', () => {
    // 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT.
    expect(businessMinutesBetween(new Date('2026-03-08T00:00:00Z'), new Date('2026-03-09T00:00:00Z'), ny)).toBe(120);
    expect(businessHoursOn('2026-03-08', ny)).toEqual([{ start: new Date('2026-03-08T06:00:00Z'), end: new Date('2026-03-08T08:00:00Z') }]);
  });

  it('a fall-back day has an hour more (01:00-02:00 happens twice)', () => {
    // 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST.
    expect(businessMinutesBetween(new Date('2026-11-01T00:00:00Z'), new Date('2026-11-02T00:00:00Z'), ny)).toBe(240);
    expect(businessHoursOn('2026-11-01', ny)).toEqual([{ start: new Date('2026-11-01T05:00:00Z'), end: new Date('2026-11-01T09:00:00Z') }]);
  });

  it('reads wall-clock hours in the zone on either side of the change', () => {
    expect(businessHoursOn('2026-03-02', ny)[0]!.start).toEqual(new Date('2026-03-02T14:00:00Z')); // EST
    expect(businessHoursOn('2026-03-09', ny)[0]!.start).toEqual(new Date('2026-03-09T13:00:00Z')); // EDT
    // Monday 16:30 EST + 60: 30 min Monday, 30 min from Sunday 01:00 EST.
    expect(addBusinessMinutes(new Date('2026-03-02T21:30:00Z'), 60, ny)).toEqual(new Date('2026-03-08T06:30:00Z'));
    // Sunday 01:30 EST + 45: 01:30-02:00 EST, then 03:00-03:15 EDT.
    expect(addBusinessMinutes(new Date('2026-03-08T06:30:00Z'), 45, ny)).toEqual(new Date('2026-03-08T07:15:00Z'));
  });

  it('the same calendar in another zone moves the hours', () => {
    const utc: BusinessCalendar = { ...cal, timeZone: 'UTC' };
    expect(addBusinessMinutes(new Date('2026-11-23T08:00:00Z'), 60, utc)).toEqual(new Date('2026-11-23T10:00:00Z'));
    expect(addBusinessMinutes(new Date('2026-11-23T08:00:00Z'), 60, cal)).toEqual(new Date('2026-11-23T09:00:00Z')); // 17:00 local
  });
});

describe('isBusinessTime', () => {
  it('is true inside intervals, false at closing, lunch, weekends and holidays', () => {
    expect(isBusinessTime(sh('2026-11-23T09:00'), cal)).toBe(true);
    expect(isBusinessTime(sh('2026-11-23T17:59:59'), cal)).toBe(true);
    expect(isBusinessTime(sh('2026-11-23T18:00'), cal)).toBe(false);
    expect(isBusinessTime(sh('2026-11-23T12:00'), cal)).toBe(false);
    expect(isBusinessTime(sh('2026-11-28T10:00'), cal)).toBe(false);
    expect(isBusinessTime(sh('2026-11-23T10:00'), { ...cal, holidays: ['2026-11-23'] })).toBe(false);
    expect(isBusinessTime(sh('2026-11-28T10:00'), { ...cal, extraWorkingDays: ['2026-11-28'] })).toBe(true);
  });
});

describe('validateCalendar', () => {
  it('accepts the default calendar', () => {
    expect(validateCalendar(cal)).toEqual([]);
  });

  it('names every problem by field', () => {
    const problems = validateCalendar({
      timeZone: 'Asia/Nowhere',
      weeklyHours: {
        MON: [{ start: '09:00', end: '12:00' }, { start: '11:00', end: '18:00' }],
        TUE: [{ start: '18:00', end: '09:00' }],
        WED: [{ start: '9:00', end: '24:01' }],
      },
      holidays: ['2026-02-30', '2026-10-01', '2026-10-01'],
      extraWorkingDays: ['2026-10-01', 'tomorrow'],
      extraWorkingDayHours: [{ start: '24:00', end: '24:00' }],
    });
    const fields = problems.map((p) => p.field).sort();
    expect(fields).toEqual(
      [
        'timeZone',
        'weeklyHours.MON.1.start',
        'weeklyHours.TUE.0.end',
        'weeklyHours.WED.0.start',
        'weeklyHours.WED.0.end',
        'holidays.0',
        'holidays.2',
        'extraWorkingDays.0',
        'extraWorkingDays.1',
        'extraWorkingDayHours.0.start',
        'extraWorkingDayHours.0.end',
      ].sort(),
    );
  });

  it('needs working hours on some weekday', () => {
    expect(validateCalendar({ ...cal, weeklyHours: { SAT: [] } }).map((p) => p.field)).toEqual(['weeklyHours']);
  });

  it('rejects a weekday name it does not know', () => {
    expect(validateCalendar({ ...cal, weeklyHours: { ...cal.weeklyHours, FUNDAY: [] } as BusinessCalendar['weeklyHours'] }).map((p) => p.field)).toEqual(['weeklyHours.FUNDAY']);
  });
});
