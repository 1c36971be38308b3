import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';

export interface CompetitorRecord {
  _id: Types.ObjectId;
  name: string;
  aliases: string[];
  /** Lower-case name and aliases: what opportunities' competitor names are matched against (each unique). */
  keys: string[];
  website: string | null;
  strengths: string | null;
  weaknesses: string | null;
  notes: string | null;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One sales opportunity as far as competitors go (`_id` = opportunity id); newest version wins. */
export interface CompetitorOpportunityRecord {
  _id: string;
  /** The opportunity's competitor names, lower-case. */
  competitorKeys: string[];
  status: 'OPEN' | 'WON' | 'LOST';
  amount: Money;
  version: number;
  updatedAt: Date;
}

const competitorSchema = new Schema<CompetitorRecord>(
  {
    name: { type: String, required: true },
    aliases: { type: [String], default: [] },
    keys: { type: [String], default: [] },
    website: { type: String, default: null },
    strengths: { type: String, default: null },
    weaknesses: { type: String, default: null },
    notes: { type: String, default: null },
    version: { type: Number, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'competitors' },
);
competitorSchema.plugin(outboxPlugin);
competitorSchema.index({ keys: 1 });

const factSchema = new Schema<CompetitorOpportunityRecord>(
  {
    _id: { type: String, required: true },
    competitorKeys: { type: [String], default: [] },
    status: { type: String, required: true },
    amount: { type: Schema.Types.Mixed, required: true },
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'competitor_opportunities' },
);
factSchema.index({ competitorKeys: 1 });

export type CompetitorModel = Model<CompetitorRecord>;
export type CompetitorOpportunityModel = Model<CompetitorOpportunityRecord>;

export function competitorModels(connection: Connection): { competitors: CompetitorModel; opportunities: CompetitorOpportunityModel } {
  return {
    competitors: connection.model<CompetitorRecord>('Competitor', competitorSchema),
    opportunities: connection.model<CompetitorOpportunityRecord>('CompetitorOpportunity', factSchema),
  };
}
