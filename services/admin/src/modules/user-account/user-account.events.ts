import { createEvent, type CloudEvent } from '@crm/events';

/** Every event of the user-account module (topic `<prefix>.user-account`, key = Keycloak user id). Ids and roles only, no personal data. */
export const UserAccountEventType = {
  CREATED: 'user-account.created',
  DISABLED: 'user-account.disabled',
  ENABLED: 'user-account.enabled',
  ROLES_CHANGED: 'user-account.roles-changed',
  GROUPS_CHANGED: 'user-account.groups-changed',
} as const;

type Type = (typeof UserAccountEventType)[keyof typeof UserAccountEventType];

export interface UserAccountEventData {
  userId: string;
  roles?: string[];
  groups?: string[];
  /** The admin who made the change. */
  by: string;
}

export function userAccountEvent(type: Type, data: UserAccountEventData): CloudEvent<UserAccountEventData> {
  return createEvent({ source: '/crm/admin', type, subject: data.userId, data });
}
