import { requireRole, Role, type AuthUser } from '@crm/auth';
import { periodOf, periodsBetween } from '../read-model/zoned-time.js';
import { currencyArg, parseRange, type RangeArgs } from '../report/report.range.js';
import type { SalesReportService } from '../sales/sales.service.js';
import type { FunnelModels, LeadFactRecord, OpportunityFactRecord } from './funnel.model.js';

export const FUNNEL_READERS = [Role.ANALYST, Role.SALES_MANAGER, Role.MARKETER] as const;

export interface FunnelRow {
  key: string;
  leads: number;
  opportunities: number;
  won: number;
  wonAmount: { amountMinor: number; currency: string };
  leadToOpportunity: number;
  opportunityToWon: number;
  leadToWon: number;
}

const rate = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : 0);

/** Funnel and campaign effect (ANA-7): leads of a period as a cohort, followed to opportunity and win. */
export class FunnelService {
  constructor(
    private readonly models: FunnelModels,
    private readonly sales: SalesReportService,
    private readonly defaultCurrency: string,
  ) {}

  private row(key: string, currency: string): FunnelRow {
    return { key, leads: 0, opportunities: 0, won: 0, wonAmount: { amountMinor: 0, currency }, leadToOpportunity: 0, opportunityToWon: 0, leadToWon: 0 };
  }

  private static finish(row: FunnelRow): FunnelRow {
    return { ...row, leadToOpportunity: rate(row.opportunities, row.leads), opportunityToWon: rate(row.won, row.opportunities), leadToWon: rate(row.won, row.leads) };
  }

  /**
   * Leads created in the range (optionally of one source), by period and by source: how many became
   * opportunities (converted with one, or named as an opportunity's lead) and how many of those were won.
   */
  async funnel(user: AuthUser, args: RangeArgs & { source?: string | null; currency?: string | null }) {
    requireRole(user, FUNNEL_READERS);
    const range = parseRange(args, 'MONTH');
    const currency = currencyArg(args.currency, this.defaultCurrency);
    const leads = await this.models.leads.find({ createdAt: { $gte: range.start, $lt: range.end }, ...(args.source ? { source: args.source } : {}) }).lean<LeadFactRecord[]>().exec();
    const leadIds = new Set(leads.map((l) => l._id));
    const opportunities = new Map<string, OpportunityFactRecord>();
    for (const o of await this.models.opportunities.find({ leadId: { $ne: null } }).lean<OpportunityFactRecord[]>().exec()) if (o.leadId && leadIds.has(o.leadId)) opportunities.set(o.leadId, o);
    const byPeriod = new Map(periodsBetween(range.from, range.to, range.granularity).map((p) => [p, this.row(p, currency)]));
    const bySource = new Map<string, FunnelRow>();
    const total = this.row('TOTAL', currency);
    for (const lead of leads) {
      const opportunity = opportunities.get(lead._id);
      const hasOpportunity = Boolean(lead.opportunityId || opportunity);
      const won = opportunity?.status === 'WON';
      const period = byPeriod.get(periodOf(lead.createdAt.getTime(), range.timeZone, range.granularity));
      const source = bySource.get(lead.source) ?? this.row(lead.source, currency);
      bySource.set(lead.source, source);
      for (const row of [period, source, total]) {
        if (!row) continue;
        row.leads += 1;
        if (hasOpportunity) row.opportunities += 1;
        if (won) {
          row.won += 1;
          if (opportunity.currency === currency) row.wonAmount.amountMinor += opportunity.amountMinor;
        }
      }
    }
    return {
      ...range,
      source: args.source ?? null,
      currency,
      total: FunnelService.finish(total),
      periods: [...byPeriod.values()].map(FunnelService.finish),
      sources: [...bySource.values()].sort((a, b) => b.leads - a.leads || a.key.localeCompare(b.key)).map(FunnelService.finish),
    };
  }

  /** Per campaign code in a range: leads, opportunities, wins, and the orders placed with the code and their revenue. */
  async campaignEffect(user: AuthUser, args: RangeArgs & { currency?: string | null }) {
    requireRole(user, FUNNEL_READERS);
    const range = parseRange(args, 'DAY');
    const currency = currencyArg(args.currency, this.defaultCurrency);
    const rows = new Map<string, { campaignCode: string; leads: number; opportunities: number; won: number; orders: number; revenue: { amountMinor: number; currency: string } }>();
    const row = (code: string) => {
      let r = rows.get(code);
      if (!r) rows.set(code, (r = { campaignCode: code, leads: 0, opportunities: 0, won: 0, orders: 0, revenue: { amountMinor: 0, currency } }));
      return r;
    };
    for (const l of await this.models.leads.find({ createdAt: { $gte: range.start, $lt: range.end }, campaignCode: { $ne: null } }).lean<LeadFactRecord[]>().exec()) row(l.campaignCode!).leads += 1;
    for (const o of await this.models.opportunities.find({ firstSeenAt: { $gte: range.start, $lt: range.end }, campaignCode: { $ne: null } }).lean<OpportunityFactRecord[]>().exec()) {
      const r = row(o.campaignCode!);
      r.opportunities += 1;
      if (o.status === 'WON') r.won += 1;
    }
    for await (const order of this.sales.countedOrders(range.start, range.end, currency)) {
      if (!order.campaignCode) continue;
      const r = row(order.campaignCode);
      r.orders += 1;
      r.revenue.amountMinor += order.totalMinor;
    }
    return { ...range, currency, rows: [...rows.values()].sort((a, b) => b.revenue.amountMinor - a.revenue.amountMinor || a.campaignCode.localeCompare(b.campaignCode)) };
  }
}
