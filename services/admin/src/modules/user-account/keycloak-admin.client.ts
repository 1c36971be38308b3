/**
 * Keycloak's admin REST API as the admin service needs it. The only module that imports
 * @keycloak/keycloak-admin-client (Keycloak's own, kept in step with the server): replacing it means
 * rewriting this file. Calls run as the `crm-admin` client's service account (client credentials).
 */
import KeycloakAdminClient from '@keycloak/keycloak-admin-client';

export interface KeycloakUser {
  id: string;
  username: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  enabled: boolean;
  requiredActions: string[];
  totp: boolean;
  createdAt?: Date;
}

export interface KeycloakGroup {
  id: string;
  name: string;
  path: string;
}

export interface KeycloakEvent {
  time: Date;
  type: string;
  userId?: string;
  clientId?: string;
  ipAddress?: string;
  error?: string;
  resourceType?: string;
  resourcePath?: string;
}

export interface KeycloakAdminOptions {
  url: string;
  realm: string;
  clientId: string;
  clientSecret: string;
}

/** A failed admin call with Keycloak's HTTP status (404 missing, 409 taken ...). */
export class KeycloakAdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KeycloakAdminError';
  }
}

interface UserRepresentationLike {
  id?: string;
  username?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  enabled?: boolean;
  requiredActions?: string[];
  totp?: boolean;
  createdTimestamp?: number;
}

function toUser(rep: UserRepresentationLike): KeycloakUser {
  return {
    id: rep.id!,
    username: rep.username!,
    ...(rep.email ? { email: rep.email } : {}),
    ...(rep.firstName ? { firstName: rep.firstName } : {}),
    ...(rep.lastName ? { lastName: rep.lastName } : {}),
    enabled: rep.enabled ?? false,
    requiredActions: rep.requiredActions ?? [],
    totp: rep.totp ?? false,
    ...(rep.createdTimestamp ? { createdAt: new Date(rep.createdTimestamp) } : {}),
  };
}

function flatten(groups: Array<{ id?: string; name?: string; path?: string; subGroups?: unknown[] }>): KeycloakGroup[] {
  return groups.flatMap((g) => [{ id: g.id!, name: g.name!, path: g.path! }, ...flatten((g.subGroups ?? []) as typeof groups)]);
}

export class KeycloakAdmin {
  private readonly client: KeycloakAdminClient;
  private tokenValidUntil = 0;
  private authenticating: Promise<void> | undefined;

  constructor(private readonly options: KeycloakAdminOptions) {
    this.client = new KeycloakAdminClient({ baseUrl: options.url.replace(/\/$/, ''), realmName: options.realm, timeout: 10_000 });
  }

  /** Client-credentials token, renewed 30 s before it expires; one renewal at a time. */
  private async api(): Promise<KeycloakAdminClient> {
    if (Date.now() < this.tokenValidUntil) return this.client;
    this.authenticating ??= (async () => {
      await this.client.auth({ grantType: 'client_credentials', clientId: this.options.clientId, clientSecret: this.options.clientSecret });
      const payload = JSON.parse(Buffer.from(this.client.accessToken!.split('.')[1]!, 'base64url').toString()) as { exp: number };
      this.tokenValidUntil = payload.exp * 1000 - 30_000;
    })().finally(() => {
      this.authenticating = undefined;
    });
    await this.authenticating;
    return this.client;
  }

  private async call<T>(work: (api: KeycloakAdminClient) => Promise<T>): Promise<T> {
    const api = await this.api();
    try {
      return await work(api);
    } catch (error) {
      const response = (error as { response?: { status?: number } }).response;
      if (response?.status) throw new KeycloakAdminError(response.status, (error as Error).message);
      throw error;
    }
  }

  async findUsers(search: string | undefined, offset: number, max: number): Promise<KeycloakUser[]> {
    const reps = await this.call((api) => api.users.find({ ...(search ? { search } : {}), first: offset, max, briefRepresentation: false }));
    return reps.map(toUser);
  }

  /** The user, or null when there is none (the library answers a 404 of `findOne` with nothing). */
  async getUser(id: string): Promise<KeycloakUser | null> {
    const rep = await this.call((api) => api.users.findOne({ id }));
    return rep ? toUser(rep) : null;
  }

  /** Creates the user (no credentials) and returns its id; 409 when the username or email is taken. */
  async createUser(user: { username: string; email: string; firstName?: string; lastName?: string; requiredActions: string[] }): Promise<string> {
    const { id } = await this.call((api) => api.users.create({ ...user, enabled: true, emailVerified: false }));
    return id;
  }

  /** Deletes the user (sessions, credentials, events' subject); false when there was none. */
  async deleteUser(id: string): Promise<boolean> {
    try {
      await this.call((api) => api.users.del({ id }));
      return true;
    } catch (error) {
      if (error instanceof KeycloakAdminError && error.status === 404) return false;
      throw error;
    }
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    await this.call((api) => api.users.update({ id }, { enabled }));
  }

  async addRequiredAction(id: string, action: string): Promise<void> {
    const user = await this.getUser(id);
    if (!user) throw new KeycloakAdminError(404, 'User not found');
    if (user.requiredActions.includes(action)) return;
    await this.call((api) => api.users.update({ id }, { requiredActions: [...user.requiredActions, action] }));
  }

  /** Ends every session of the user. */
  async logout(id: string): Promise<void> {
    await this.call((api) => api.users.logout({ id }));
  }

  async realmRoleNames(id: string): Promise<string[]> {
    const roles = await this.call((api) => api.users.listRealmRoleMappings({ id }));
    return roles.map((r) => r.name!);
  }

  /** Grants and revokes realm roles by name. */
  async changeRealmRoles(id: string, add: string[], remove: string[]): Promise<void> {
    const all = await this.call((api) => api.roles.find());
    const pick = (names: string[]) => all.filter((r) => names.includes(r.name!)).map((r) => ({ id: r.id!, name: r.name! }));
    if (add.length > 0) await this.call((api) => api.users.addRealmRoleMappings({ id, roles: pick(add) }));
    if (remove.length > 0) await this.call((api) => api.users.delRealmRoleMappings({ id, roles: pick(remove) }));
  }

  async groupsOf(id: string): Promise<KeycloakGroup[]> {
    const groups = await this.call((api) => api.users.listGroups({ id, briefRepresentation: false }));
    return groups.map((g) => ({ id: g.id!, name: g.name!, path: g.path! }));
  }

  /** Every group of the realm, sub-groups included. */
  async allGroups(): Promise<KeycloakGroup[]> {
    const top = await this.call((api) => api.groups.find({ briefRepresentation: false }));
    const withChildren = await Promise.all(
      top.map(async (g) => {
        if (!g.subGroupCount && !(g.subGroups?.length)) return g;
        const subGroups = await this.call((api) => api.groups.listSubGroups({ parentId: g.id!, briefRepresentation: false }));
        return { ...g, subGroups };
      }),
    );
    return flatten(withChildren);
  }

  async addToGroup(id: string, groupId: string): Promise<void> {
    await this.call((api) => api.users.addToGroup({ id, groupId }));
  }

  async removeFromGroup(id: string, groupId: string): Promise<void> {
    await this.call((api) => api.users.delFromGroup({ id, groupId }));
  }

  /** Keycloak emails the user a link to do `actions` (needs the realm's SMTP settings). */
  async executeActionsEmail(id: string, actions: string[], lifespanSeconds: number, clientId: string): Promise<void> {
    await this.call((api) => api.users.executeActionsEmail({ id, actions, lifespan: lifespanSeconds, clientId }));
  }

  async signInEvents(userId: string | undefined, max: number): Promise<KeycloakEvent[]> {
    const events = await this.call((api) => api.realms.findEvents({ realm: this.options.realm, ...(userId ? { user: userId } : {}), max }));
    return events.map((e) => ({
      time: new Date(e.time!),
      type: String(e.type),
      ...(e.userId ? { userId: e.userId } : {}),
      ...(e.clientId ? { clientId: e.clientId } : {}),
      ...(e.ipAddress ? { ipAddress: e.ipAddress } : {}),
      ...(e.error ? { error: e.error } : {}),
    }));
  }

  async adminEvents(max: number): Promise<KeycloakEvent[]> {
    const events = await this.call((api) => api.realms.findAdminEvents({ realm: this.options.realm, max }));
    return events.map((e) => ({
      time: new Date(e.time!),
      type: String(e.operationType),
      ...(e.authDetails?.userId ? { userId: e.authDetails.userId } : {}),
      ...(e.authDetails?.clientId ? { clientId: e.authDetails.clientId } : {}),
      ...(e.authDetails?.ipAddress ? { ipAddress: e.authDetails.ipAddress } : {}),
      ...(e.error ? { error: e.error } : {}),
      ...(e.resourceType ? { resourceType: String(e.resourceType) } : {}),
      ...(e.resourcePath ? { resourcePath: e.resourcePath } : {}),
    }));
  }
}
