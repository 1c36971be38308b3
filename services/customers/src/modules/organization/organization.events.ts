import { createEvent } from '@crm/events';
import type { OrganizationRecord } from './organization.model.js';

/** Events of the organisation aggregate (topic `<prefix>.organization`, key = organisation id). */
export const OrganizationEventType = { CREATED: 'organization.created' } as const;

export interface OrganizationCreatedData {
  organizationId: string;
  name: string;
  kind: string;
  country: string | null;
  province: string | null;
  city: string | null;
}

export const organizationCreated = (o: OrganizationRecord) =>
  createEvent<OrganizationCreatedData>({
    source: '/crm/customers',
    type: OrganizationEventType.CREATED,
    subject: o._id.toHexString(),
    time: o.createdAt,
    data: { organizationId: o._id.toHexString(), name: o.name, kind: o.kind, country: o.country, province: o.province, city: o.city },
  });
