import { Schema, type Connection, type Model } from 'mongoose';

/** The stage keys every pipeline has: the two terminal stages. */
export const WON = 'WON';
export const LOST = 'LOST';

export type StageKind = 'OPEN' | 'WON' | 'LOST';

export interface PipelineStageRecord {
  /** Upper-case key stored on opportunities, e.g. `PROPOSAL`. */
  key: string;
  label: string;
  /** Default win probability in whole percent, 0 to 100. */
  probability: number;
}

/** The stored pipeline configuration (one document, `_id: "default"`). */
export interface PipelineRecord {
  _id: string;
  /** In board order: the open stages, then WON, then LOST. */
  stages: PipelineStageRecord[];
  version: number;
  updatedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DEFAULT_PIPELINE_ID = 'default';

/** Seeded on first use. */
export const DEFAULT_STAGES: readonly PipelineStageRecord[] = [
  { key: 'QUALIFICATION', label: 'Qualification', probability: 10 },
  { key: 'NEEDS_ANALYSIS', label: 'Needs analysis', probability: 25 },
  { key: 'PROPOSAL', label: 'Proposal', probability: 50 },
  { key: 'NEGOTIATION', label: 'Negotiation', probability: 75 },
  { key: WON, label: 'Won', probability: 100 },
  { key: LOST, label: 'Lost', probability: 0 },
];

export function kindOf(key: string): StageKind {
  return key === WON ? 'WON' : key === LOST ? 'LOST' : 'OPEN';
}

const stageSchema = new Schema<PipelineStageRecord>(
  {
    key: { type: String, required: true },
    label: { type: String, required: true },
    probability: { type: Number, required: true, min: 0, max: 100 },
  },
  { _id: false },
);

const pipelineSchema = new Schema<PipelineRecord>(
  {
    _id: { type: String, required: true },
    stages: { type: [stageSchema], required: true },
    version: { type: Number, required: true, default: 1 },
    updatedBy: { type: String, default: null },
  },
  { collection: 'pipelines', timestamps: true },
);

export type PipelineModel = Model<PipelineRecord>;

export function pipelineModel(connection: Connection): PipelineModel {
  return connection.model<PipelineRecord>('Pipeline', pipelineSchema);
}
