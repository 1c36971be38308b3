import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const ORGANIZATION_KINDS = ['COMPANY', 'SCHOOL', 'GOVERNMENT', 'OTHER'] as const;

/** A company or school customers belong to (CUS-2). */
export interface OrganizationRecord {
  _id: Types.ObjectId;
  name: string;
  /** Lower-case, space-free name: unique, so the same organisation is not entered twice. */
  nameKey: string;
  kind: (typeof ORGANIZATION_KINDS)[number];
  country: string | null;
  province: string | null;
  city: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const organizationSchema = new Schema<OrganizationRecord>(
  {
    name: { type: String, required: true },
    nameKey: { type: String, required: true, unique: true },
    kind: { type: String, enum: ORGANIZATION_KINDS, required: true },
    country: { type: String, default: null },
    province: { type: String, default: null },
    city: { type: String, default: null },
    createdBy: { type: String, required: true },
  },
  { collection: 'organizations', timestamps: true },
);
organizationSchema.plugin(outboxPlugin);

export type OrganizationModel = Model<OrganizationRecord>;
export const organizationModel = (connection: Connection): OrganizationModel => connection.model<OrganizationRecord>('Organization', organizationSchema);
