import { DAY_MS } from '../read-model/zoned-time.js';
import type { ChurnLevel, CustomerValueRecord, RfmModelRecord } from './customer-value.model.js';

/** A customer's raw RFM figures in one currency. */
export interface RfmRaw {
  recencyDays: number;
  frequency: number;
  monetaryMinor: number;
}

export function rfmRawOf(value: CustomerValueRecord, currency: string, now: Date): RfmRaw | null {
  if (!value.orders || !value.lastOrderAt) return null;
  return { recencyDays: Math.max(0, Math.floor((now.getTime() - value.lastOrderAt.getTime()) / DAY_MS)), frequency: value.orders, monetaryMinor: value.amount?.[currency] ?? 0 };
}

/** The 20th, 40th, 60th and 80th percentile of a list (nearest rank). */
export function quintileBounds(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return [];
  return [0.2, 0.4, 0.6, 0.8].map((q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!);
}

/** 1–5: how many bounds a value is above (higher is better), or below for recency (fewer days is better). */
function scoreAgainst(value: number, bounds: number[], lowerIsBetter: boolean): number {
  if (bounds.length !== 4) return 3;
  return 1 + bounds.filter((b) => (lowerIsBetter ? value < b : value > b)).length;
}

export interface RfmScore {
  recency: number;
  frequency: number;
  monetary: number;
  score: number;
  code: string;
  segment: string;
}

/** Segments by R and the mean of F and M, as in the common RFM grid. */
function segmentOf(r: number, fm: number): string {
  if (r >= 4 && fm >= 4) return 'Champions';
  if (r >= 3 && fm >= 3) return 'Loyal';
  if (r >= 4 && fm < 2) return 'New';
  if (r >= 3) return 'Promising';
  if (r <= 2 && fm >= 4) return 'Cannot lose';
  if (r <= 2 && fm >= 3) return 'At risk';
  if (r === 2) return 'Hibernating';
  return 'Lost';
}

export function rfmScore(raw: RfmRaw, model: Pick<RfmModelRecord, 'recencyDays' | 'frequency' | 'monetaryMinor'>): RfmScore {
  const recency = scoreAgainst(raw.recencyDays, model.recencyDays, true);
  const frequency = scoreAgainst(raw.frequency, model.frequency, false);
  const monetary = scoreAgainst(raw.monetaryMinor, model.monetaryMinor, false);
  return { recency, frequency, monetary, score: recency + frequency + monetary, code: `${recency}${frequency}${monetary}`, segment: segmentOf(recency, (frequency + monetary) / 2) };
}

/**
 * Customer lifetime value, in minor units of one currency:
 *   CLV = annual spend × expected lifespan in years,
 *   annual spend = spend to date ÷ max(1, years since the first order).
 * (= average order value × orders per year × lifespan.) Integer arithmetic on days, rounded half up;
 * a customer younger than a year is not extrapolated beyond what they spent.
 */
export function lifetimeValueMinor(value: CustomerValueRecord, currency: string, now: Date, lifespanYears: number): number {
  const spent = value.amount?.[currency] ?? 0;
  if (!spent || !value.firstOrderAt) return 0;
  const tenureDays = Math.max(365, Math.floor((now.getTime() - value.firstOrderAt.getTime()) / DAY_MS));
  const numerator = BigInt(spent) * BigInt(Math.round(lifespanYears * 365));
  const result = (numerator * 2n + BigInt(tenureDays)) / (2n * BigInt(tenureDays));
  return Number(result);
}

export interface ChurnInput {
  value: CustomerValueRecord | null;
  openComplaints: number;
  ratings: number;
  ratingSum: number;
}

export interface ChurnRisk {
  score: number;
  level: ChurnLevel;
  reasons: string[];
}

/** Months `YYYYMM` going back from `now`'s month (UTC), newest first. */
function monthsBack(now: Date, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    out.push(`${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

export const CHURN_LEVELS: Record<ChurnLevel, number> = { LOW: 0, MEDIUM: 40, HIGH: 70 };

/**
 * Churn risk 0–100 with its reasons (ANA-6), the sum of four capped parts:
 * - recency (≤ 40): days since the last order against the customer's own rhythm (the mean gap between
 *   orders; 90 days with a single order): nothing at 1× the gap, full at 3×;
 * - frequency trend (≤ 25): orders in the last 3 months against the 3 before, by the fall in share;
 * - open complaints (≤ 20): 10 each;
 * - satisfaction (≤ 15): an average rating below 3, full at 1.
 * HIGH from 70, MEDIUM from 40. Customers without orders score on complaints and satisfaction only.
 */
export function churnRisk(input: ChurnInput, now: Date): ChurnRisk {
  const reasons: string[] = [];
  let score = 0;
  const value = input.value;
  if (value?.orders && value.lastOrderAt && value.firstOrderAt) {
    const recencyDays = Math.floor((now.getTime() - value.lastOrderAt.getTime()) / DAY_MS);
    const gapDays = value.orders > 1 ? Math.max(1, (value.lastOrderAt.getTime() - value.firstOrderAt.getTime()) / DAY_MS / (value.orders - 1)) : 90;
    const ratio = recencyDays / gapDays;
    const part = Math.round(Math.min(1, Math.max(0, (ratio - 1) / 2)) * 40);
    if (part > 0) {
      score += part;
      reasons.push(`No order for ${recencyDays} days (usually one every ${Math.round(gapDays)} days)`);
    }
    const months = monthsBack(now, 6);
    const count = (keys: string[]) => keys.reduce((s, k) => s + (value.m?.[k]?.n ?? 0), 0);
    const recent = count(months.slice(0, 3));
    const before = count(months.slice(3));
    if (before > 0 && recent < before) {
      const fallPart = Math.round((1 - recent / before) * 25);
      score += fallPart;
      reasons.push(`Orders fell from ${before} to ${recent} (last 3 months against the 3 before)`);
    }
  }
  if (input.openComplaints > 0) {
    score += Math.min(20, input.openComplaints * 10);
    reasons.push(`${input.openComplaints} open complaint${input.openComplaints === 1 ? '' : 's'}`);
  }
  if (input.ratings > 0) {
    const average = input.ratingSum / input.ratings;
    if (average < 3) {
      score += Math.round(Math.min(1, (3 - average) / 2) * 15);
      reasons.push(`Average satisfaction ${average.toFixed(1)} from ${input.ratings} rating${input.ratings === 1 ? '' : 's'}`);
    }
  }
  score = Math.min(100, score);
  const level: ChurnLevel = score >= CHURN_LEVELS.HIGH ? 'HIGH' : score >= CHURN_LEVELS.MEDIUM ? 'MEDIUM' : 'LOW';
  return { score, level, reasons };
}
