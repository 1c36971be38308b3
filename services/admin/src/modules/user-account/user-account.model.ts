import { Schema, type Connection } from 'mongoose';
import { outboxPlugin } from '@crm/events';

/**
 * The CRM's own note of an account it administers: Keycloak holds the account; this document holds
 * the account's unpublished events (the outbox lives inside its aggregate's document).
 */
export interface UserAccountRecord {
  _id: string;
  username: string;
  changedAt: Date;
  changedBy: string;
}

const schema = new Schema<UserAccountRecord>(
  {
    _id: { type: String, required: true },
    username: { type: String, required: true },
    changedAt: { type: Date, required: true },
    changedBy: { type: String, required: true },
  },
  { versionKey: false },
);
schema.plugin(outboxPlugin);

export const userAccountModel = (connection: Connection) => connection.model<UserAccountRecord>('UserAccount', schema, 'user_accounts');
