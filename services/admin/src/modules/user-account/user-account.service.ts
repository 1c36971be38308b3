import type { Model } from 'mongoose';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { appendEvents, type CloudEvent, type OutboxRelay } from '@crm/events';
import { KeycloakAdminError, type KeycloakAdmin, type KeycloakGroup, type KeycloakUser } from './keycloak-admin.client.js';
import { UserAccountException } from './user-account.errors.js';
import { UserAccountEventType, userAccountEvent } from './user-account.events.js';
import type { UserAccountRecord } from './user-account.model.js';

/** GraphQL enum value (SALES_REP) ↔ realm role (sales-rep). */
export type CrmRoleValue = 'ADMIN' | 'SALES_MANAGER' | 'SALES_REP' | 'SERVICE_AGENT' | 'SERVICE_MANAGER' | 'MARKETER' | 'ANALYST' | 'CUSTOMER';
const CRM_ROLES = Object.values(Role) as string[];
const toRealmRole = (value: CrmRoleValue) => value.toLowerCase().replace(/_/g, '-');
const toCrmRole = (role: string) => role.toUpperCase().replace(/-/g, '_') as CrmRoleValue;

export interface UserAccountView {
  id: string;
  username: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  enabled: boolean;
  roles: CrmRoleValue[];
  groups: string[];
  requiredActions: string[];
  totpConfigured: boolean;
  createdAt?: Date;
}

export interface CreateUserAccountInput {
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: CrmRoleValue[];
  groups?: string[] | null;
  requireTotp?: boolean | null;
}

export interface UserAccountPage {
  edges: Array<{ cursor: string; node: UserAccountView }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,63}$/;
const MAX_PAGE = 100;
const invalid = (field: string, message: string) => new UserAccountException('USER_ACCOUNT_INVALID_INPUT', 'Invalid account', [{ field, message }]);
const notFound = () => new UserAccountException('USER_ACCOUNT_NOT_FOUND', 'No such user account');
/** Keycloak user ids are UUIDs; anything else cannot name an account (and must not reach its URL path). */
const USER_ID = /^[0-9a-f-]{36}$/;

function pageSize(first: number | null | undefined, fallback: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw invalid('first', `Must be 1 to ${MAX_PAGE}`);
  return size;
}

const cursorOf = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');
function offsetOf(after: string | null | undefined): number {
  if (!after) return 0;
  const match = /^o:(\d{1,7})$/.exec(Buffer.from(after, 'base64url').toString());
  if (!match) throw invalid('after', 'Not a cursor of this list');
  return Number(match[1]);
}

/** Account administration (SYS-1, SYS-2): the one facade the resolvers call. Admins only, every method. */
export class UserAccountService {
  constructor(
    private readonly keycloak: KeycloakAdmin,
    private readonly records: Model<UserAccountRecord>,
    private readonly relay: OutboxRelay,
    private readonly options: { setPasswordClientId: string },
  ) {}

  private async view(user: KeycloakUser): Promise<UserAccountView> {
    const [roles, groups] = await Promise.all([this.keycloak.realmRoleNames(user.id), this.keycloak.groupsOf(user.id)]);
    return {
      id: user.id,
      username: user.username,
      ...(user.email ? { email: user.email } : {}),
      ...(user.firstName ? { firstName: user.firstName } : {}),
      ...(user.lastName ? { lastName: user.lastName } : {}),
      enabled: user.enabled,
      roles: roles.filter((r) => CRM_ROLES.includes(r)).map(toCrmRole).sort(),
      groups: groups.map((g) => g.name).sort(),
      requiredActions: user.requiredActions,
      totpConfigured: user.totp,
      ...(user.createdAt ? { createdAt: user.createdAt } : {}),
    };
  }

  private async existing(id: string): Promise<KeycloakUser> {
    if (!USER_ID.test(id)) throw notFound();
    const found = await this.keycloak.getUser(id);
    if (!found) throw notFound();
    return found;
  }

  /** Records the change and its event in the account's own document, then lets the relay publish it. */
  private async recordChange(account: KeycloakUser, by: AuthUser, event: CloudEvent): Promise<void> {
    // In step with the relay's removal of published events (FerretDB v1: see OutboxRelay.writing).
    await this.relay.writing(this.records, account.id, () =>
      this.records.updateOne(
        { _id: account.id },
        { $set: { username: account.username, changedAt: new Date(), changedBy: by.id }, ...appendEvents([event]) },
        { upsert: true },
      ),
    );
    this.relay.notify(this.records, account.id);
  }

  async list(search: string | null | undefined, first: number | null | undefined, after: string | null | undefined, caller: AuthUser): Promise<UserAccountPage> {
    requireRole(caller, [Role.ADMIN]);
    const size = pageSize(first, 20);
    // Keycloak refuses control characters in query parameters; say so instead of failing.
    if (search && (search.length > 100 || [...search].some((c) => c < ' '))) throw invalid('search', 'At most 100 characters, no control characters');
    const offset = offsetOf(after);
    const found = await this.keycloak.findUsers(search ?? undefined, offset, size + 1);
    const people = found.slice(0, size);
    const nodes = await Promise.all(people.map((u) => this.view(u)));
    const edges = nodes.map((node, i) => ({ cursor: cursorOf(offset + i + 1), node }));
    return { edges, pageInfo: { hasNextPage: found.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  async get(id: string, caller: AuthUser): Promise<UserAccountView | null> {
    requireRole(caller, [Role.ADMIN]);
    try {
      return await this.view(await this.existing(id));
    } catch (error) {
      if (error instanceof UserAccountException && error.reason === 'USER_ACCOUNT_NOT_FOUND') return null;
      throw error;
    }
  }

  async departments(caller: AuthUser): Promise<Array<{ name: string; path: string }>> {
    requireRole(caller, [Role.ADMIN]);
    return (await this.keycloak.allGroups()).map(({ name, path }) => ({ name, path }));
  }

  private async groupsNamed(names: string[]): Promise<KeycloakGroup[]> {
    const all = await this.keycloak.allGroups();
    const unknown = names.filter((n) => !all.some((g) => g.name === n));
    if (unknown.length > 0) throw invalid('groups', `Unknown department or team: ${unknown.join(', ')}`);
    return all.filter((g) => names.includes(g.name));
  }

  async create(input: CreateUserAccountInput, caller: AuthUser): Promise<UserAccountView> {
    requireRole(caller, [Role.ADMIN]);
    const username = input.username.trim().toLowerCase();
    const email = input.email.trim().toLowerCase();
    const problems: Array<{ field: string; message: string }> = [];
    if (!USERNAME.test(username)) problems.push({ field: 'username', message: '3 to 64 characters: lower-case letters, digits, dot, dash, underscore' });
    if (!EMAIL.test(email)) problems.push({ field: 'email', message: 'An email address' });
    for (const field of ['firstName', 'lastName'] as const) {
      const value = input[field].trim();
      if (!value || value.length > 100 || [...value].some((c) => c < ' ' || c === '<' || c === '>')) problems.push({ field, message: '1 to 100 characters, no control characters or < >' });
    }
    if (input.roles.length === 0) problems.push({ field: 'roles', message: 'At least one role' });
    if (problems.length > 0) throw new UserAccountException('USER_ACCOUNT_INVALID_INPUT', 'Invalid account', problems);
    const groups = await this.groupsNamed([...new Set(input.groups ?? [])]);

    let id: string;
    try {
      id = await this.keycloak.createUser({
        username,
        email,
        firstName: input.firstName.trim(),
        lastName: input.lastName.trim(),
        requiredActions: ['UPDATE_PASSWORD', ...(input.requireTotp ? ['CONFIGURE_TOTP'] : [])],
      });
    } catch (error) {
      if (error instanceof KeycloakAdminError && error.status === 409) {
        throw new UserAccountException('USER_ACCOUNT_TAKEN', 'Username or email already in use', [{ field: 'username', message: 'Username or email already in use' }]);
      }
      throw error;
    }
    const roles = [...new Set(input.roles.map(toRealmRole))];
    await this.keycloak.changeRealmRoles(id, roles, []);
    for (const group of groups) await this.keycloak.addToGroup(id, group.id);
    const account = await this.existing(id);
    await this.recordChange(account, caller, userAccountEvent(UserAccountEventType.CREATED, { userId: id, roles, groups: groups.map((g) => g.name), by: caller.id }));
    return this.view(account);
  }

  async setEnabled(id: string, enabled: boolean, caller: AuthUser): Promise<UserAccountView> {
    requireRole(caller, [Role.ADMIN]);
    if (!enabled && id === caller.id) throw new UserAccountException('USER_ACCOUNT_SELF_LOCKOUT', 'Admins cannot disable their own account', [{ field: 'id', message: 'Your own account' }]);
    const account = await this.existing(id);
    if (account.enabled !== enabled) {
      await this.keycloak.setEnabled(id, enabled);
      // A disabled user's access tokens expire within minutes; their sessions end now.
      if (!enabled) await this.keycloak.logout(id);
      await this.recordChange(account, caller, userAccountEvent(enabled ? UserAccountEventType.ENABLED : UserAccountEventType.DISABLED, { userId: id, by: caller.id }));
    }
    return this.view(await this.existing(id));
  }

  async setRoles(id: string, roleValues: CrmRoleValue[], caller: AuthUser): Promise<UserAccountView> {
    requireRole(caller, [Role.ADMIN]);
    if (roleValues.length === 0) throw invalid('roles', 'At least one role');
    const wanted = [...new Set(roleValues.map(toRealmRole))];
    if (id === caller.id && !wanted.includes(Role.ADMIN)) {
      throw new UserAccountException('USER_ACCOUNT_SELF_LOCKOUT', 'Admins cannot take the admin role from themselves', [{ field: 'roles', message: 'Keep ADMIN on your own account' }]);
    }
    const account = await this.existing(id);
    const current = (await this.keycloak.realmRoleNames(id)).filter((r) => CRM_ROLES.includes(r));
    const add = wanted.filter((r) => !current.includes(r));
    const remove = current.filter((r) => !wanted.includes(r));
    if (add.length + remove.length > 0) {
      await this.keycloak.changeRealmRoles(id, add, remove);
      await this.recordChange(account, caller, userAccountEvent(UserAccountEventType.ROLES_CHANGED, { userId: id, roles: wanted.sort(), by: caller.id }));
    }
    return this.view(account);
  }

  async setGroups(id: string, names: string[], caller: AuthUser): Promise<UserAccountView> {
    requireRole(caller, [Role.ADMIN]);
    const account = await this.existing(id);
    const wanted = await this.groupsNamed([...new Set(names)]);
    const current = await this.keycloak.groupsOf(id);
    const add = wanted.filter((g) => !current.some((c) => c.id === g.id));
    const remove = current.filter((c) => !wanted.some((g) => g.id === c.id));
    for (const group of add) await this.keycloak.addToGroup(id, group.id);
    for (const group of remove) await this.keycloak.removeFromGroup(id, group.id);
    if (add.length + remove.length > 0) {
      await this.recordChange(account, caller, userAccountEvent(UserAccountEventType.GROUPS_CHANGED, { userId: id, groups: wanted.map((g) => g.name).sort(), by: caller.id }));
    }
    return this.view(account);
  }

  async sendSetPasswordEmail(id: string, lifespanHours: number | null | undefined, caller: AuthUser): Promise<UserAccountView> {
    requireRole(caller, [Role.ADMIN]);
    const hours = lifespanHours ?? 24;
    if (!Number.isInteger(hours) || hours < 1 || hours > 168) throw invalid('lifespanHours', 'Must be 1 to 168');
    const account = await this.existing(id);
    if (!account.email) throw invalid('id', 'The account has no email address');
    try {
      await this.keycloak.executeActionsEmail(id, ['UPDATE_PASSWORD'], hours * 3600, this.options.setPasswordClientId);
    } catch (error) {
      if (error instanceof KeycloakAdminError && error.status >= 400) {
        throw new UserAccountException('USER_ACCOUNT_EMAIL_FAILED', 'Keycloak could not send the email: check the realm\'s SMTP settings', [{ field: 'id', message: 'Email not sent' }]);
      }
      throw error;
    }
    return this.view(account);
  }

  async requireTotp(id: string, caller: AuthUser): Promise<UserAccountView> {
    requireRole(caller, [Role.ADMIN]);
    await this.existing(id);
    await this.keycloak.addRequiredAction(id, 'CONFIGURE_TOTP');
    return this.view(await this.existing(id));
  }

  /**
   * customer.erased (SYS-6): the person's self-service account goes from Keycloak (their sign-ins
   * and sessions with it). Only accounts holding nothing but the customer role: a staff account is
   * never deleted this way. Idempotent (an account already gone counts 0).
   */
  async deletePortalAccount(userId: string): Promise<number> {
    if (!USER_ID.test(userId)) return 0;
    if (!(await this.keycloak.getUser(userId))) return 0;
    const roles = (await this.keycloak.realmRoleNames(userId)).filter((r) => CRM_ROLES.includes(r));
    if (roles.some((r) => r !== Role.CUSTOMER)) return 0;
    return (await this.keycloak.deleteUser(userId)) ? 1 : 0;
  }

  async identityEvents(kind: 'SIGN_IN' | 'ADMIN', userId: string | null | undefined, first: number | null | undefined, caller: AuthUser) {
    requireRole(caller, [Role.ADMIN]);
    const size = pageSize(first, 50);
    if (userId && !USER_ID.test(userId)) throw invalid('userId', 'A user id');
    return kind === 'ADMIN' ? this.keycloak.adminEvents(size) : this.keycloak.signInEvents(userId ?? undefined, size);
  }
}
