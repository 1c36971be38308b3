import { createEvent, type CloudEvent } from '@crm/events';
import type { CompetitorRecord } from './competitor.model.js';

/** Every event of the competitor module (topic `<prefix>.competitor`, key = competitor id). */
export const CompetitorEventType = {
  CREATED: 'competitor.created',
  UPDATED: 'competitor.updated',
} as const;

export interface CompetitorStateData {
  competitorId: string;
  name: string;
  aliases: string[];
  version: number;
  by: string;
}

export function competitorEvent(type: (typeof CompetitorEventType)[keyof typeof CompetitorEventType], competitor: CompetitorRecord, by: string): CloudEvent<CompetitorStateData> {
  const competitorId = competitor._id.toHexString();
  return createEvent({ source: '/crm/marketing', type, subject: competitorId, time: competitor.updatedAt, data: { competitorId, name: competitor.name, aliases: competitor.aliases, version: competitor.version, by } });
}
