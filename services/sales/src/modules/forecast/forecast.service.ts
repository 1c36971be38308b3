import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import type { Money } from '@crm/money';
import { ownedReadFilter } from '../../shared/ownership.js';
import { averageMinor, toSafeNumber, weightedMinor } from '../opportunity/opportunity.amounts.js';
import type { OpportunityRecord } from '../opportunity/opportunity.model.js';
import type { OpportunityService } from '../opportunity/opportunity.service.js';
import type { PipelineRecord } from '../pipeline/pipeline.model.js';
import { ForecastException } from './forecast.errors.js';
import { isTimeZone, periodAt, periodIndexOf, type Period, type PeriodUnit } from './forecast.periods.js';

export type ForecastDimension = 'OWNER' | 'TEAM' | 'ALL';
/** Most periods one forecast covers (5 years of months). */
export const MAX_PERIODS = 60;

export const forecastArgs = z
  .object({
    from: z.date(),
    to: z.date(),
    groupBy: z.enum(['MONTH', 'QUARTER']),
    by: z.enum(['OWNER', 'TEAM', 'ALL']),
    timeZone: z.string().refine(isTimeZone, 'An IANA time zone, e.g. Asia/Shanghai'),
    historyPeriods: z.number().int().min(1, '1 to 12').max(12, '1 to 12'),
  })
  .superRefine((args, ctx) => {
    if (args.to <= args.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'Must be after from' });
  });
export type ForecastArgs = z.infer<typeof forecastArgs>;

export interface ForecastLine {
  /** ALL; the owner's user id; the team name (null: owners in no team). */
  key: string | null;
  currency: string;
  weightedPipeline: Money;
  pipelineAmount: Money;
  openCount: number;
  wonAmount: Money;
  wonCount: number;
  projectedWon: Money;
  expected: Money;
}

export interface ForecastPeriod extends Period {
  /** The period ended before now (its won amount is final). */
  complete: boolean;
  lines: ForecastLine[];
}

export interface Forecast {
  from: Date;
  to: Date;
  groupBy: PeriodUnit;
  by: ForecastDimension;
  timeZone: string;
  historyPeriods: number;
  periods: ForecastPeriod[];
}

type ForecastOpportunity = Pick<OpportunityRecord, 'status' | 'stage' | 'probabilityOverride' | 'amount' | 'expectedCloseDate' | 'closedAt' | 'ownerId' | 'ownerTeams'>;

interface Cell {
  weighted: bigint;
  pipeline: bigint;
  openCount: number;
  won: bigint;
  wonCount: number;
}

const money = (currency: string, amount: bigint): Money => ({ currency, amountMinor: toSafeNumber(amount) });

/** The group keys an opportunity counts under: an owner in several teams counts in each team. */
function keysOf(opportunity: ForecastOpportunity, by: ForecastDimension): Array<string | null> {
  if (by === 'ALL') return ['ALL'];
  if (by === 'OWNER') return [opportunity.ownerId];
  return opportunity.ownerTeams?.length ? opportunity.ownerTeams : [null];
}

/**
 * The forecast arithmetic (SAL-8), free of I/O. For every period from the one holding `from` to the one
 * holding the last instant before `to`, in `timeZone`, per group key and per currency (never mixed):
 * - weighted pipeline: Σ over OPEN opportunities expected to close in the period of
 *   round_half_up(amount × probability / 100) — each opportunity rounded once, in integer minor units;
 * - won: Σ amount of WON opportunities closed in the period;
 * - projection from history: the mean of the won amounts of the `historyPeriods` periods before
 *   min(period, current period) — a moving average of the last complete periods, so every future
 *   period gets the average of the last N complete ones — rounded half up;
 * - expected: won + weighted pipeline.
 */
export function computeForecast(opportunities: ForecastOpportunity[], pipeline: PipelineRecord, args: ForecastArgs, now: Date, probabilityIn: (o: ForecastOpportunity, p: PipelineRecord) => number): Forecast {
  const { groupBy, by, timeZone, historyPeriods } = args;
  const first = periodIndexOf(args.from, groupBy, timeZone);
  const last = periodIndexOf(new Date(args.to.getTime() - 1), groupBy, timeZone);
  const current = periodIndexOf(now, groupBy, timeZone);
  const cells = new Map<string, Cell>();
  const groups = new Map<string, { key: string | null; currency: string }>();
  const cell = (period: number, key: string | null, currency: string): Cell => {
    const group = JSON.stringify([key, currency]);
    groups.set(group, { key, currency });
    const id = `${period}|${group}`;
    let found = cells.get(id);
    if (!found) cells.set(id, (found = { weighted: 0n, pipeline: 0n, openCount: 0, won: 0n, wonCount: 0 }));
    return found;
  };
  for (const opportunity of opportunities) {
    const { amountMinor, currency } = opportunity.amount;
    if (opportunity.status === 'OPEN') {
      const period = periodIndexOf(opportunity.expectedCloseDate, groupBy, timeZone);
      if (period < first || period > last) continue;
      const weighted = weightedMinor(amountMinor, probabilityIn(opportunity, pipeline));
      for (const key of keysOf(opportunity, by)) {
        const c = cell(period, key, currency);
        c.weighted += weighted;
        c.pipeline += BigInt(amountMinor);
        c.openCount += 1;
      }
    } else if (opportunity.status === 'WON' && opportunity.closedAt) {
      const period = periodIndexOf(opportunity.closedAt, groupBy, timeZone);
      if (period > last) continue;
      for (const key of keysOf(opportunity, by)) {
        const c = cell(period, key, currency);
        c.won += BigInt(amountMinor);
        c.wonCount += 1;
      }
    }
  }
  const periods: ForecastPeriod[] = [];
  for (let index = first; index <= last; index += 1) {
    const period = periodAt(index, groupBy, timeZone);
    const base = Math.min(index, current);
    const lines: ForecastLine[] = [];
    for (const [group, { key, currency }] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const c = cells.get(`${index}|${group}`);
      let history = 0n;
      for (let h = base - historyPeriods; h < base; h += 1) history += cells.get(`${h}|${group}`)?.won ?? 0n;
      const projected = averageMinor(history, historyPeriods);
      if (!c && projected === 0n) continue;
      const weighted = c?.weighted ?? 0n;
      const won = c?.won ?? 0n;
      lines.push({
        key,
        currency,
        weightedPipeline: money(currency, weighted),
        pipelineAmount: money(currency, c?.pipeline ?? 0n),
        openCount: c?.openCount ?? 0,
        wonAmount: money(currency, won),
        wonCount: c?.wonCount ?? 0,
        projectedWon: money(currency, projected),
        expected: money(currency, won + weighted),
      });
    }
    periods.push({ ...period, complete: period.end <= now, lines });
  }
  return { from: args.from, to: args.to, groupBy, by, timeZone, historyPeriods, periods };
}

/** The sales forecast (SAL-8) over the opportunities the caller may see. */
export class ForecastService {
  constructor(
    private readonly opportunities: OpportunityService,
    private readonly pipeline: { current(): Promise<PipelineRecord> },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async forecast(input: { from: Date; to: Date; groupBy?: string | null; by?: string | null; timeZone?: string | null; historyPeriods?: number | null }, user: AuthUser): Promise<Forecast> {
    // Reps their own and their teams', managers their department's, admins and analysts all.
    const visible = ownedReadFilter(user);
    if (!visible) throw new ForecastException('FORECAST_FORBIDDEN', 'Your role cannot see the sales forecast');
    const parsed = forecastArgs.safeParse({
      from: input.from,
      to: input.to,
      groupBy: input.groupBy ?? 'MONTH',
      by: input.by ?? 'ALL',
      timeZone: input.timeZone ?? 'Asia/Shanghai',
      historyPeriods: input.historyPeriods ?? 3,
    });
    if (!parsed.success) throw new ForecastException('FORECAST_INVALID_INPUT', 'Invalid forecast', fieldProblems(parsed.error.issues, ''));
    const args = parsed.data;
    const now = this.clock();
    const first = periodIndexOf(args.from, args.groupBy, args.timeZone);
    const last = periodIndexOf(new Date(args.to.getTime() - 1), args.groupBy, args.timeZone);
    if (last - first + 1 > MAX_PERIODS) {
      throw new ForecastException('FORECAST_INVALID_INPUT', 'Invalid forecast', [{ field: 'to', message: `At most ${MAX_PERIODS} periods` }]);
    }
    const historyFrom = periodAt(Math.min(first, periodIndexOf(now, args.groupBy, args.timeZone)) - args.historyPeriods, args.groupBy, args.timeZone).start;
    const end = periodAt(last, args.groupBy, args.timeZone).end;
    const start = periodAt(first, args.groupBy, args.timeZone).start;
    const rows = await this.opportunities.model
      .find(
        {
          $and: [
            visible,
            {
              $or: [
                { status: 'OPEN', expectedCloseDate: { $gte: start, $lt: end } },
                { status: 'WON', closedAt: { $gte: historyFrom, $lt: end } },
              ],
            },
          ],
        },
        { status: 1, stage: 1, probabilityOverride: 1, amount: 1, expectedCloseDate: 1, closedAt: 1, ownerId: 1, ownerTeams: 1 },
      )
      .lean<ForecastOpportunity[]>()
      .exec();
    const pipeline = await this.pipeline.current();
    return computeForecast(rows, pipeline, args, now, (o, p) => this.opportunities.probabilityIn(o, p));
  }
}
