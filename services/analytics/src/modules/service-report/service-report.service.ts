import { requireRole, Role, type AuthUser } from '@crm/auth';
import { periodOf, periodsBetween } from '../read-model/zoned-time.js';
import { boundedInt, parseRange, type RangeArgs } from '../report/report.range.js';
import type { TicketFactModel, TicketFactRecord } from './service-report.model.js';

export const SERVICE_REPORT_READERS = [Role.ANALYST, Role.SERVICE_MANAGER] as const;

export interface ServicePoint {
  period: string;
  opened: number;
  resolved: number;
}
export interface CountShare {
  key: string;
  count: number;
  share: number;
}
export interface DurationStats {
  count: number;
  averageMinutes: number | null;
  medianMinutes: number | null;
  p90Minutes: number | null;
}
export interface SatisfactionStats {
  count: number;
  average: number | null;
  /** Ratings 1..5, in that order. */
  distribution: number[];
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function durationStats(minutes: number[]): DurationStats {
  const sorted = [...minutes].sort((a, b) => a - b);
  const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
  return { count: sorted.length, averageMinutes: round(sorted.length ? sorted.reduce((s, m) => s + m, 0) / sorted.length : null), medianMinutes: round(quantile(sorted, 0.5)), p90Minutes: round(quantile(sorted, 0.9)) };
}

/** Service reports (ANA-5) over the ticket facts of a range (tickets opened in it, by the local calendar). */
export class ServiceReportService {
  constructor(private readonly tickets: TicketFactModel) {}

  private async openedIn(start: Date, end: Date): Promise<TicketFactRecord[]> {
    return this.tickets.find({ openedAt: { $gte: start, $lt: end } }).lean<TicketFactRecord[]>().exec();
  }

  async trend(user: AuthUser, args: RangeArgs) {
    requireRole(user, SERVICE_REPORT_READERS);
    const range = parseRange(args, 'DAY');
    const points = new Map<string, ServicePoint>(periodsBetween(range.from, range.to, range.granularity).map((period) => [period, { period, opened: 0, resolved: 0 }]));
    for (const ticket of await this.openedIn(range.start, range.end)) {
      const point = points.get(periodOf(ticket.openedAt.getTime(), range.timeZone, range.granularity));
      if (point) point.opened += 1;
    }
    for (const ticket of await this.tickets.find({ resolvedAt: { $gte: range.start, $lt: range.end } }).lean<TicketFactRecord[]>().exec()) {
      const point = points.get(periodOf(ticket.resolvedAt!.getTime(), range.timeZone, range.granularity));
      if (point) point.resolved += 1;
    }
    const list = [...points.values()];
    return { ...range, points: list, opened: list.reduce((s, p) => s + p.opened, 0), resolved: list.reduce((s, p) => s + p.resolved, 0) };
  }

  async composition(user: AuthUser, args: RangeArgs & { by: 'PRODUCT' | 'TYPE'; top?: number | null }) {
    requireRole(user, SERVICE_REPORT_READERS);
    const range = parseRange(args, 'DAY');
    const top = boundedInt('top', args.top, 10, 1, 100);
    const counts = new Map<string, number>();
    const tickets = await this.openedIn(range.start, range.end);
    for (const ticket of tickets) {
      const key = args.by === 'TYPE' ? ticket.type : (ticket.productId ?? '');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const shown = sorted.slice(0, top);
    const rest = sorted.slice(top).reduce((s, [, n]) => s + n, 0);
    const total = tickets.length;
    const share = (n: number) => (total ? Math.round((n / total) * 10_000) / 10_000 : 0);
    return { ...range, by: args.by, total, rows: shown.map(([key, count]) => ({ key, by: args.by, count, share: share(count) })), rest: { count: rest, share: share(rest) } };
  }

  async times(user: AuthUser, args: RangeArgs) {
    requireRole(user, SERVICE_REPORT_READERS);
    const range = parseRange(args, 'DAY');
    const tickets = await this.openedIn(range.start, range.end);
    const minutes = (from: Date, to: Date | null) => (to ? (to.getTime() - from.getTime()) / 60_000 : null);
    const firstResponse = tickets.map((t) => minutes(t.openedAt, t.firstResponseAt)).filter((m): m is number => m !== null);
    const resolution = tickets.map((t) => minutes(t.openedAt, t.resolvedAt)).filter((m): m is number => m !== null);
    const rated = await this.tickets.find({ ratedAt: { $gte: range.start, $lt: range.end } }).lean<TicketFactRecord[]>().exec();
    const distribution = [0, 0, 0, 0, 0];
    for (const t of rated) if (t.rating) distribution[t.rating - 1]! += 1;
    const count = rated.filter((t) => t.rating).length;
    const satisfaction: SatisfactionStats = { count, average: count ? Math.round((rated.reduce((s, t) => s + (t.rating ?? 0), 0) / count) * 100) / 100 : null, distribution };
    return { ...range, tickets: tickets.length, firstResponse: durationStats(firstResponse), resolution: durationStats(resolution), satisfaction };
  }

  /** Open complaints and ratings per customer (churn signals), for the given customers or all. */
  async signals(customerIds?: string[]): Promise<Map<string, { openComplaints: number; ratings: number; ratingSum: number }>> {
    const filter = customerIds ? { customerId: { $in: customerIds } } : {};
    const out = new Map<string, { openComplaints: number; ratings: number; ratingSum: number }>();
    for await (const t of this.tickets.find(filter, { customerId: 1, type: 1, status: 1, rating: 1 }).lean<TicketFactRecord[]>().cursor()) {
      const s = out.get(t.customerId) ?? { openComplaints: 0, ratings: 0, ratingSum: 0 };
      if (t.type === 'COMPLAINT' && t.status !== 'RESOLVED' && t.status !== 'CLOSED') s.openComplaints += 1;
      if (t.rating) {
        s.ratings += 1;
        s.ratingSum += t.rating;
      }
      out.set(t.customerId, s);
    }
    return out;
  }
}
