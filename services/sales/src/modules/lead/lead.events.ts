import { createEvent, type CloudEvent } from '@crm/events';
import type { LeadContact, LeadRecord, LeadSource, LeadStatus } from './lead.model.js';

/** Every event the lead aggregate publishes (topic `<prefix>.lead`; key = lead id). */
export const LeadEventType = {
  CREATED: 'lead.created',
  UPDATED: 'lead.updated',
  QUALIFIED: 'lead.qualified',
  DISQUALIFIED: 'lead.disqualified',
  CONVERTED: 'lead.converted',
} as const;
export type LeadEventType = (typeof LeadEventType)[keyof typeof LeadEventType];

export const LEAD_EVENT_SOURCE = '/crm/sales';

/**
 * What other services may know of a lead. Contact details (email, phones) stay in this service, except
 * in `lead.converted`, which hands them to the customers service to create the customer.
 */
export interface LeadSnapshot {
  leadId: string;
  name: string;
  company: string | null;
  source: LeadSource;
  campaignCode: string | null;
  status: LeadStatus;
  ownerId: string;
  department: string | null;
  ownerTeams: string[];
  createdAt: string;
  version: number;
}

export interface LeadUpdatedData extends LeadSnapshot {
  /** Names of the fields this update changed. */
  changed: string[];
}
export interface LeadDisqualifiedData extends LeadSnapshot {
  reason: string;
}
export interface LeadConvertedData extends LeadSnapshot {
  /** The customer: new (its id derived from the lead id; the customers service creates it) or existing. */
  customerId: string;
  newCustomer: boolean;
  /** Contact details for the new customer (null when converted into an existing customer). */
  contact: LeadContact | null;
  notes: string | null;
  opportunityId: string | null;
  convertedBy: string;
  convertedAt: string;
}

export function snapshotOf(lead: LeadRecord): LeadSnapshot {
  return {
    leadId: lead._id.toHexString(),
    name: lead.name,
    company: lead.company,
    source: lead.source,
    campaignCode: lead.campaignCode,
    status: lead.status,
    ownerId: lead.ownerId,
    department: lead.department,
    ownerTeams: lead.ownerTeams,
    createdAt: lead.createdAt.toISOString(),
    version: lead.version,
  };
}

function leadEvent<T>(type: LeadEventType, lead: LeadRecord, data: T): CloudEvent<T> {
  return createEvent({ source: LEAD_EVENT_SOURCE, type, subject: lead._id.toHexString(), time: lead.updatedAt, data });
}

export const leadCreated = (l: LeadRecord) => leadEvent<LeadSnapshot>(LeadEventType.CREATED, l, snapshotOf(l));
export const leadUpdated = (l: LeadRecord, changed: string[]) => leadEvent<LeadUpdatedData>(LeadEventType.UPDATED, l, { ...snapshotOf(l), changed });
export const leadQualified = (l: LeadRecord) => leadEvent<LeadSnapshot>(LeadEventType.QUALIFIED, l, snapshotOf(l));
export const leadDisqualified = (l: LeadRecord) =>
  leadEvent<LeadDisqualifiedData>(LeadEventType.DISQUALIFIED, l, { ...snapshotOf(l), reason: l.disqualifiedReason ?? '' });
export function leadConverted(l: LeadRecord): CloudEvent<LeadConvertedData> {
  const conversion = l.conversion!;
  return leadEvent<LeadConvertedData>(LeadEventType.CONVERTED, l, {
    ...snapshotOf(l),
    customerId: conversion.customerId,
    newCustomer: conversion.newCustomer,
    contact: conversion.contact,
    notes: l.notes,
    opportunityId: conversion.opportunityId,
    convertedBy: conversion.by,
    convertedAt: conversion.at.toISOString(),
  });
}
