import { departmentsOf, Role, teamsOf, type AuthUser } from '@crm/auth';

/**
 * Who owns a sales record (lead, opportunity, quote, contract, order, expense) and so who sees it:
 * sales-rep its own and its teams', sales-manager its department's, admin everything. Stamped from
 * the owner's token when the record is created or re-assigned.
 */
export interface Ownership {
  /** Keycloak user id. */
  ownerId: string;
  /** The owner's department (Keycloak group, e.g. `sales`), or null. */
  department: string | null;
  /** The owner's teams (other Keycloak groups, e.g. `sales-east`). */
  ownerTeams: string[];
}

/** The mongoose fields of `Ownership`, to spread into a record schema (indexed for the filters below). */
export const ownershipFields = {
  ownerId: { type: String, required: true, index: true },
  department: { type: String, default: null, index: true },
  ownerTeams: { type: [String], default: [], index: true },
} as const satisfies Record<string, unknown>;

export function ownershipOf(user: Pick<AuthUser, 'id' | 'groups'>): Ownership {
  return { ownerId: user.id, department: departmentsOf(user as AuthUser)[0] ?? null, ownerTeams: teamsOf(user as AuthUser) };
}

/** Roles that read every sales record without owning any. */
const READ_ALL = [Role.ADMIN, Role.ANALYST] as const;
const has = (user: AuthUser, roles: readonly string[]) => roles.some((role) => user.roles.includes(role));

function ownedBy(user: AuthUser): Record<string, unknown>[] {
  const clauses: Record<string, unknown>[] = [];
  if (user.roles.includes(Role.SALES_MANAGER)) clauses.push({ department: { $in: departmentsOf(user) } });
  if (user.roles.includes(Role.SALES_REP)) {
    clauses.push({ ownerId: user.id });
    const teams = teamsOf(user);
    if (teams.length > 0) clauses.push({ ownerTeams: { $in: teams } });
  }
  return clauses;
}

/**
 * The owned sales records a user may read, as a MongoDB filter; `null` means none (the caller answers
 * FORBIDDEN for lists, NOT_FOUND for one record). Admin and analyst read all.
 */
export function ownedReadFilter(user: AuthUser): Record<string, unknown> | null {
  if (has(user, READ_ALL)) return {};
  const clauses = ownedBy(user);
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

/** The owned sales records a user may change: admin all; manager its department's; rep its own and its teams'. */
export function ownedWriteFilter(user: AuthUser): Record<string, unknown> | null {
  if (user.roles.includes(Role.ADMIN)) return {};
  const clauses = ownedBy(user);
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

/** Sales staff who create and change owned records. */
export function isSalesStaff(user: AuthUser): boolean {
  return has(user, [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP]);
}

