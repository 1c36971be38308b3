import { describe, expect, it } from 'vitest';
import { DEFAULT_CALENDAR, type BusinessCalendar } from '../sla.calendar.js';
import {
  breachedTargets,
  markFirstResponse,
  markResolved,
  pauseClock,
  reopenClock,
  resumeClock,
  slaStatus,
  startClock,
} from '../sla.clock.js';
import { DEFAULT_SLA_POLICY, type SlaPolicy } from '../sla.policy.js';

// Asia/Shanghai (UTC+8), Mon-Fri 09-12 and 13-18. 2026-11-23 is a Monday.
const sh = (local: string) => new Date(`${local}+08:00`);
const cal = DEFAULT_CALENDAR;
const policy = DEFAULT_SLA_POLICY; // URGENT 30 min / 240 min, REASSIGN; at risk from 80 %

describe('startClock', () => {
  it('copies the targets of the priority and computes due dates in business time', () => {
    const clock = startClock(policy, 'URGENT', sh('2026-11-23T09:00'));
    expect(clock).toMatchObject({
      policyVersion: 1,
      priority: 'URGENT',
      startedAt: sh('2026-11-23T09:00'),
      firstResponseTargetMinutes: 30,
      resolutionTargetMinutes: 240,
      firstResponseDueAt: sh('2026-11-23T09:30'),
      resolutionDueAt: sh('2026-11-23T14:00'), // 3 h morning + 1 h after lunch
      firstRespondedAt: null,
      resolvedAt: null,
      pausedAt: null,
      pausedMinutes: 0,
      escalation: 'REASSIGN',
      atRiskRatio: 0.8,
    });
  });

  it('a ticket opened on Friday evening is due on Monday', () => {
    const clock = startClock(policy, 'LOW', sh('2026-11-27T19:00'));
    expect(clock.firstResponseDueAt).toEqual(sh('2026-11-30T18:00')); // 480 min = one working day
    expect(clock.resolutionDueAt).toEqual(sh('2026-12-04T18:00')); // 2400 min = five working days
    expect(clock.escalation).toBe('NOTIFY_MANAGER');
  });

  it('uses the policy it is given (its version, targets and calendar)', () => {
    const custom: SlaPolicy = {
      ...policy,
      version: 7,
      atRiskRatio: 0.5,
      targets: policy.targets.map((t) => (t.priority === 'HIGH' ? { ...t, firstResponseMinutes: 15, escalation: 'NOTIFY_MANAGER' } : t)),
      calendar: { ...cal, holidays: ['2026-11-23'] },
    };
    const clock = startClock(custom, 'HIGH', sh('2026-11-23T09:00'));
    expect(clock).toMatchObject({ policyVersion: 7, atRiskRatio: 0.5, firstResponseTargetMinutes: 15, escalation: 'NOTIFY_MANAGER' });
    expect(clock.firstResponseDueAt).toEqual(sh('2026-11-24T09:15'));
  });

  it('throws for a priority the policy does not know', () => {
    expect(() => startClock(policy, 'CRITICAL', sh('2026-11-23T09:00'))).toThrow(/CRITICAL/);
  });
});

describe('slaStatus while running', () => {
  const clock = startClock(policy, 'URGENT', sh('2026-11-23T09:00'));

  it('ON_TRACK before the at-risk threshold', () => {
    const { firstResponse, resolution } = slaStatus(clock, sh('2026-11-23T09:10'), cal);
    expect(firstResponse).toEqual({ kind: 'FIRST_RESPONSE', dueAt: sh('2026-11-23T09:30'), state: 'ON_TRACK', remainingMinutes: 20, metAt: null });
    expect(resolution).toEqual({ kind: 'RESOLUTION', dueAt: sh('2026-11-23T14:00'), state: 'ON_TRACK', remainingMinutes: 230, metAt: null });
  });

  it('AT_RISK from 80 % of the target used (24 of 30 minutes)', () => {
    expect(slaStatus(clock, sh('2026-11-23T09:23:59'), cal).firstResponse.state).toBe('ON_TRACK');
    expect(slaStatus(clock, sh('2026-11-23T09:24'), cal).firstResponse).toMatchObject({ state: 'AT_RISK', remainingMinutes: 6 });
  });

  it('BREACHED from the due instant, remaining counts how late in business minutes', () => {
    expect(slaStatus(clock, sh('2026-11-23T09:30'), cal).firstResponse).toMatchObject({ state: 'BREACHED', remainingMinutes: 0 });
    expect(slaStatus(clock, sh('2026-11-23T09:30:01'), cal).firstResponse).toMatchObject({ state: 'BREACHED', remainingMinutes: -1 });
    // 09:30-12:00 and 13:00-13:15 → 165 minutes late; the lunch break is not counted.
    expect(slaStatus(clock, sh('2026-11-23T13:15'), cal).firstResponse).toMatchObject({ state: 'BREACHED', remainingMinutes: -165 });
  });

  it('time outside working hours does not count toward the at-risk share', () => {
    const evening = startClock(policy, 'NORMAL', sh('2026-11-23T17:00')); // first response 240 min → Tue 12:00
    expect(evening.firstResponseDueAt).toEqual(sh('2026-11-24T12:00'));
    expect(slaStatus(evening, sh('2026-11-24T08:00'), cal).firstResponse).toMatchObject({ state: 'ON_TRACK', remainingMinutes: 180 });
    expect(slaStatus(evening, sh('2026-11-24T11:12'), cal).firstResponse).toMatchObject({ state: 'AT_RISK', remainingMinutes: 48 });
  });

  it('uses the calendar given at query time (a holiday declared later extends the remaining time)', () => {
    const low = startClock(policy, 'LOW', sh('2026-11-23T09:00')); // resolution Fri 18:00
    expect(slaStatus(low, sh('2026-11-26T09:00'), cal).resolution.remainingMinutes).toBe(960);
    const withHoliday: BusinessCalendar = { ...cal, holidays: ['2026-11-27'] };
    expect(slaStatus(low, sh('2026-11-26T09:00'), withHoliday).resolution.remainingMinutes).toBe(480);
  });
});

describe('markFirstResponse', () => {
  const clock = startClock(policy, 'URGENT', sh('2026-11-23T09:00'));

  it('MET in time, with the minutes that were left', () => {
    const answered = markFirstResponse(clock, sh('2026-11-23T09:20'));
    expect(slaStatus(answered, sh('2026-11-23T17:00'), cal).firstResponse).toEqual({
      kind: 'FIRST_RESPONSE',
      dueAt: sh('2026-11-23T09:30'),
      state: 'MET',
      remainingMinutes: 10,
      metAt: sh('2026-11-23T09:20'),
    });
  });

  it('MET_LATE after the due date, remaining is how late', () => {
    const answered = markFirstResponse(clock, sh('2026-11-23T10:00'));
    expect(slaStatus(answered, sh('2026-11-23T17:00'), cal).firstResponse).toMatchObject({ state: 'MET_LATE', remainingMinutes: -30 });
  });

  it('keeps the first response (idempotent) and does not touch resolution', () => {
    const once = markFirstResponse(clock, sh('2026-11-23T09:20'));
    const twice = markFirstResponse(once, sh('2026-11-23T11:00'));
    expect(twice).toBe(once);
    expect(slaStatus(once, sh('2026-11-23T09:20'), cal).resolution.state).toBe('ON_TRACK');
    expect(clock.firstRespondedAt).toBeNull(); // input not mutated
  });
});

describe('pause and resume (waiting on the customer)', () => {
  const answered = markFirstResponse(startClock(policy, 'URGENT', sh('2026-11-23T09:00')), sh('2026-11-23T09:10'));

  it('PAUSED with the remaining time frozen, whatever the time', () => {
    const paused = pauseClock(answered, sh('2026-11-23T10:00')); // 180 business minutes left until 14:00
    expect(paused.pausedAt).toEqual(sh('2026-11-23T10:00'));
    for (const now of ['2026-11-23T10:30', '2026-11-23T15:00', '2026-11-30T10:00']) {
      expect(slaStatus(paused, sh(now), cal).resolution).toMatchObject({ state: 'PAUSED', remainingMinutes: 180, dueAt: sh('2026-11-23T14:00') });
    }
    expect(slaStatus(paused, sh('2026-11-23T15:00'), cal).firstResponse.state).toBe('MET');
    expect(breachedTargets(paused, sh('2026-11-30T10:00'))).toEqual([]);
  });

  it('resume moves the due date by the paused business time and counts it', () => {
    const paused = pauseClock(answered, sh('2026-11-23T10:00'));
    const resumed = resumeClock(paused, sh('2026-11-24T10:00'), cal);
    expect(resumed.pausedAt).toBeNull();
    expect(resumed.resolutionDueAt).toEqual(sh('2026-11-24T14:00')); // 180 minutes from Tue 10:00
    expect(resumed.pausedMinutes).toBe(480); // Mon 10-12, 13-18, Tue 09-10
    expect(resumed.firstResponseDueAt).toEqual(answered.firstResponseDueAt); // met: not moved
    expect(slaStatus(resumed, sh('2026-11-24T10:00'), cal).resolution).toMatchObject({ state: 'ON_TRACK', remainingMinutes: 180 });
    const again = resumeClock(pauseClock(resumed, sh('2026-11-24T11:00')), sh('2026-11-24T11:00'), cal);
    expect(again.resolutionDueAt).toEqual(sh('2026-11-24T14:00'));
  });

  it('a pause over a weekend and outside working hours costs no working time', () => {
    const fresh = pauseClock(startClock(policy, 'NORMAL', sh('2026-11-27T17:00')), sh('2026-11-27T17:30'));
    const resumed = resumeClock(fresh, sh('2026-11-30T08:00'), cal);
    expect(resumed.pausedMinutes).toBe(30);
    expect(resumed.firstResponseDueAt).toEqual(sh('2026-11-30T13:30')); // 210 minutes left: 09-12 and 13:00-13:30
  });

  it('a target breached before the pause stays breached and keeps its due date', () => {
    const clock = startClock(policy, 'URGENT', sh('2026-11-23T09:00'));
    const paused = pauseClock(clock, sh('2026-11-23T10:00')); // first response was due 09:30
    expect(slaStatus(paused, sh('2026-11-23T17:00'), cal).firstResponse).toMatchObject({ state: 'BREACHED', remainingMinutes: -30 });
    expect(slaStatus(paused, sh('2026-11-23T17:00'), cal).resolution.state).toBe('PAUSED');
    expect(breachedTargets(paused, sh('2026-11-23T17:00'))).toEqual([{ kind: 'FIRST_RESPONSE', dueAt: sh('2026-11-23T09:30') }]);
    const resumed = resumeClock(paused, sh('2026-11-23T11:00'), cal);
    expect(resumed.firstResponseDueAt).toEqual(sh('2026-11-23T09:30'));
    expect(resumed.resolutionDueAt).toEqual(sh('2026-11-23T15:00'));
  });

  it('pause while paused or resolved, and resume while running, change nothing', () => {
    const paused = pauseClock(answered, sh('2026-11-23T10:00'));
    expect(pauseClock(paused, sh('2026-11-23T11:00'))).toBe(paused);
    expect(resumeClock(answered, sh('2026-11-23T11:00'), cal)).toBe(answered);
    const resolved = markResolved(answered, sh('2026-11-23T11:00'));
    expect(pauseClock(resolved, sh('2026-11-23T11:30'))).toBe(resolved);
  });

  it('a resume stamped before the pause counts no paused time', () => {
    const paused = pauseClock(answered, sh('2026-11-23T10:00'));
    const resumed = resumeClock(paused, sh('2026-11-23T09:59'), cal);
    expect(resumed.pausedMinutes).toBe(0);
    expect(resumed.resolutionDueAt).toEqual(answered.resolutionDueAt);
  });
});

describe('markResolved and reopenClock', () => {
  const clock = startClock(policy, 'URGENT', sh('2026-11-23T09:00'));

  it('MET / MET_LATE for the resolution', () => {
    expect(slaStatus(markResolved(clock, sh('2026-11-23T13:30')), sh('2026-11-24T10:00'), cal).resolution).toMatchObject({
      state: 'MET',
      remainingMinutes: 30,
      metAt: sh('2026-11-23T13:30'),
    });
    expect(slaStatus(markResolved(clock, sh('2026-11-23T15:00')), sh('2026-11-24T10:00'), cal).resolution).toMatchObject({ state: 'MET_LATE', remainingMinutes: -60 });
  });

  it('resolving an unanswered ticket is its first response', () => {
    const resolved = markResolved(clock, sh('2026-11-23T09:15'));
    expect(resolved.firstRespondedAt).toEqual(sh('2026-11-23T09:15'));
    expect(slaStatus(resolved, sh('2026-11-23T10:00'), cal).firstResponse.state).toBe('MET');
    expect(breachedTargets(resolved, sh('2026-11-30T10:00'))).toEqual([]);
  });

  it('keeps an earlier first response and is idempotent', () => {
    const answered = markFirstResponse(clock, sh('2026-11-23T09:05'));
    const resolved = markResolved(answered, sh('2026-11-23T11:00'));
    expect(resolved.firstRespondedAt).toEqual(sh('2026-11-23T09:05'));
    expect(markResolved(resolved, sh('2026-11-23T12:00'))).toBe(resolved);
  });

  it('resolved while waiting on the customer: judged at the start of the pause, the pause ends', () => {
    const answered = markFirstResponse(clock, sh('2026-11-23T09:05'));
    const paused = pauseClock(answered, sh('2026-11-23T13:30'));
    const resolved = markResolved(paused, sh('2026-11-25T10:00')); // two days later, long after 14:00
    expect(resolved.pausedAt).toBeNull();
    expect(slaStatus(resolved, sh('2026-11-25T10:00'), cal).resolution).toMatchObject({ state: 'MET', remainingMinutes: 30, metAt: sh('2026-11-25T10:00') });
  });

  it('reopen starts a fresh resolution target from the reopen instant; it can breach again', () => {
    const resolved = markResolved(markFirstResponse(clock, sh('2026-11-23T09:05')), sh('2026-11-23T11:00'));
    const reopened = reopenClock(resolved, sh('2026-11-24T16:00'), cal);
    expect(reopened.resolvedAt).toBeNull();
    expect(reopened.reopenCount).toBe(1);
    expect(reopened.resolutionDueAt).toEqual(sh('2026-11-25T11:00')); // 2 h Tue + 2 h Wed
    expect(reopened.firstRespondedAt).toEqual(sh('2026-11-23T09:05'));
    expect(slaStatus(reopened, sh('2026-11-25T10:30'), cal).resolution).toMatchObject({ state: 'AT_RISK', remainingMinutes: 30 });
    expect(breachedTargets(reopened, sh('2026-11-25T11:00'))).toEqual([{ kind: 'RESOLUTION', dueAt: sh('2026-11-25T11:00') }]);
    const again = reopenClock(markResolved(reopened, sh('2026-11-25T12:00')), sh('2026-11-26T09:00'), cal);
    expect(again.reopenCount).toBe(2);
    expect(again.resolutionDueAt).toEqual(sh('2026-11-26T14:00'));
    expect(slaStatus(again, sh('2026-11-26T09:00'), cal).resolution.state).toBe('ON_TRACK');
  });

  it('reopen of a ticket that is not resolved changes nothing', () => {
    expect(reopenClock(clock, sh('2026-11-23T10:00'), cal)).toBe(clock);
  });
});

describe('breachedTargets', () => {
  it('lists unmet targets at or past their due date', () => {
    const clock = startClock(policy, 'URGENT', sh('2026-11-23T09:00'));
    expect(breachedTargets(clock, sh('2026-11-23T09:29'))).toEqual([]);
    expect(breachedTargets(clock, sh('2026-11-23T09:30'))).toEqual([{ kind: 'FIRST_RESPONSE', dueAt: sh('2026-11-23T09:30') }]);
    expect(breachedTargets(clock, sh('2026-11-23T14:00'))).toEqual([
      { kind: 'FIRST_RESPONSE', dueAt: sh('2026-11-23T09:30') },
      { kind: 'RESOLUTION', dueAt: sh('2026-11-23T14:00') },
    ]);
    expect(breachedTargets(markFirstResponse(clock, sh('2026-11-23T10:00')), sh('2026-11-23T14:00'))).toEqual([
      { kind: 'RESOLUTION', dueAt: sh('2026-11-23T14:00') },
    ]);
  });
});

describe('stored clocks', () => {
  it('work after a round trip through JSON-like storage without the optional fields', () => {
    const clock = markFirstResponse(startClock(policy, 'HIGH', sh('2026-11-23T09:00')), sh('2026-11-23T09:40'));
    const { firstResponseCountedAt: _a, resolvedCountedAt: _b, reopenCount: _c, ...stored } = clock;
    expect(slaStatus(stored, sh('2026-11-23T10:00'), cal).firstResponse).toMatchObject({ state: 'MET', remainingMinutes: 20 });
    expect(reopenClock(markResolved(stored, sh('2026-11-23T11:00')), sh('2026-11-23T11:30'), cal).reopenCount).toBe(1);
  });
});
