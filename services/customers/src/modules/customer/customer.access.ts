import { departmentsOf, Role, teamsOf, type AuthUser } from '@crm/auth';

export { departmentsOf, teamsOf };

const READ_ALL = [Role.ADMIN, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;
const WRITERS = [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP] as const;

const has = (user: AuthUser, roles: readonly string[]) => roles.some((role) => user.roles.includes(role));

/**
 * Which customers a user may read (CUS-7), as a MongoDB filter; `null` means none.
 * - admin, service-agent, marketer, analyst: all (the last three read-only)
 * - sales-manager: customers of their department(s)
 * - sales-rep: customers they own, and those owned within one of their teams
 * - customer: only the record linked to their own account
 */
export function readFilter(user: AuthUser): Record<string, unknown> | null {
  if (has(user, READ_ALL)) return {};
  const clauses: Record<string, unknown>[] = [];
  if (user.roles.includes(Role.SALES_MANAGER)) clauses.push({ department: { $in: departmentsOf(user) } });
  if (user.roles.includes(Role.SALES_REP)) {
    clauses.push({ ownerId: user.id });
    const teams = teamsOf(user);
    if (teams.length > 0) clauses.push({ ownerTeams: { $in: teams } });
  }
  if (user.roles.includes(Role.CUSTOMER)) clauses.push({ portalUserId: user.id });
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

/** Who may change customers at all; which ones is `writeFilter`. */
export function canWrite(user: AuthUser): boolean {
  return has(user, WRITERS);
}

/** Which customers a user may change: admins all; managers their departments'; reps their own and their teams'. */
export function writeFilter(user: AuthUser): Record<string, unknown> | null {
  if (user.roles.includes(Role.ADMIN)) return {};
  const clauses: Record<string, unknown>[] = [];
  if (user.roles.includes(Role.SALES_MANAGER)) clauses.push({ department: { $in: departmentsOf(user) } });
  if (user.roles.includes(Role.SALES_REP)) {
    clauses.push({ ownerId: user.id });
    const teams = teamsOf(user);
    if (teams.length > 0) clauses.push({ ownerTeams: { $in: teams } });
  }
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

/** Identity numbers in clear only for admins and sales managers. */
export function seesIdentityNumbers(user: AuthUser): boolean {
  return has(user, [Role.ADMIN, Role.SALES_MANAGER]);
}
