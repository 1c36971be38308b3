/**
 * Access-token verification for the gateway and every subgraph. The only module that imports
 * keycloak-connect (in maintenance mode upstream): replacing it means rewriting `TokenVerifier` only.
 */
import { timingSafeEqual } from 'node:crypto';
import KeycloakConnect from 'keycloak-connect';
import { GraphQLError } from 'graphql';
import { DomainException, PlatformException, toGraphQLError } from '@crm/errors';

/** Who is calling, from a verified Keycloak access token. */
export interface AuthUser {
  /** Keycloak user id (`sub`). */
  id: string;
  username: string;
  name?: string;
  email?: string;
  /** Realm roles, e.g. `sales-rep`. */
  roles: string[];
  /** Group (department) names, e.g. `sales`. */
  groups: string[];
}

export interface TokenVerifierOptions {
  /** Where this process reaches Keycloak (the realm's signing keys are fetched there). */
  keycloakUrl: string;
  /**
   * Keycloak's URL as written in tokens (`iss` = `<issuerUrl>/realms/<realm>`): the public address
   * browsers sign in at, when this process reaches Keycloak by another (in-cluster) one. Default: keycloakUrl.
   */
  issuerUrl?: string | undefined;
  realm: string;
  /** The audience access tokens must carry (`crm-api`). */
  audience: string;
  /**
   * The realm's RSA public key (base64 SPKI, as Keycloak's admin console shows it). Without it the
   * key is fetched from the realm's JWKS endpoint and rotated by key id.
   */
  realmPublicKey?: string;
}

interface TokenContent {
  sub?: string;
  exp?: number;
  nbf?: number;
  preferred_username?: string;
  name?: string;
  email?: string;
  realm_access?: { roles?: string[] };
  groups?: string[];
}

interface GrantManagerLike {
  createGrant(raw: { access_token: string }): Promise<{ access_token?: { content: TokenContent } }>;
}

const invalid = (why: string) => new PlatformException('INVALID_TOKEN', `Invalid access token: ${why}`);

export class TokenVerifier {
  private readonly grantManager: GrantManagerLike;

  constructor({ keycloakUrl, issuerUrl, realm, audience, realmPublicKey }: TokenVerifierOptions) {
    const keycloak = new KeycloakConnect({}, {
      realm,
      // keycloak-connect checks `iss` against this and fetches keys from it; keys come from keycloakUrl below.
      'auth-server-url': (issuerUrl ?? keycloakUrl).replace(/\/$/, ''),
      resource: audience,
      'bearer-only': true,
      'verify-token-audience': true,
      'ssl-required': 'external',
      'confidential-port': 0,
      ...(realmPublicKey ? { 'realm-public-key': realmPublicKey } : {}),
    } as unknown as KeycloakConnect.KeycloakConfig);
    this.grantManager = keycloak.grantManager as unknown as GrantManagerLike;
    if (issuerUrl && issuerUrl.replace(/\/$/, '') !== keycloakUrl.replace(/\/$/, '')) {
      // The JWKS fetcher (keycloak-connect's Rotation) keeps its own realm URL: the in-cluster one.
      const rotation = (keycloak.grantManager as unknown as { rotation?: { realmUrl: string } }).rotation;
      if (!rotation) throw new Error('keycloak-connect changed: no key rotation to point at KEYCLOAK_URL');
      rotation.realmUrl = `${keycloakUrl.replace(/\/$/, '')}/realms/${realm}`;
    }
  }

  /**
   * Verifies signature (RS256, realm key), issuer, audience, type and expiry, and returns the caller.
   * Throws a `PlatformException` (UNAUTHENTICATED) for any token that fails.
   */
  async verify(rawToken: string): Promise<AuthUser> {
    let content: TokenContent | undefined;
    try {
      const grant = await this.grantManager.createGrant({ access_token: rawToken });
      content = grant.access_token?.content;
    } catch (error) {
      throw invalid(String((error as Error).message ?? error).replace(/^Grant validation failed\. Reason: /, ''));
    }
    if (!content) throw invalid('missing');
    // keycloak-connect treats a token without `exp` as never expiring; Keycloak always sets it.
    if (typeof content.exp !== 'number') throw invalid('no expiry');
    if (typeof content.nbf === 'number' && content.nbf * 1000 > Date.now() + 30_000) throw invalid('not yet valid');
    if (!content.sub || !content.preferred_username) throw invalid('no subject');
    return {
      id: content.sub,
      username: content.preferred_username,
      ...(content.name ? { name: content.name } : {}),
      ...(content.email ? { email: content.email } : {}),
      roles: content.realm_access?.roles ?? [],
      groups: content.groups ?? [],
    };
  }
}

/** The shared secrets a receiver accepts, ready to compare: the current and, during a rotation, the previous (unset ones left out). */
export function acceptedSecrets(...secrets: Array<string | undefined>): Buffer[] {
  return secrets.filter((s): s is string => Boolean(s)).map((s) => Buffer.from(s));
}

/** Constant-time check of a shared secret presented in a request header against the accepted ones. */
export function sharedSecretMatches(accepted: readonly Buffer[], given: string | string[] | undefined): boolean {
  const value = Buffer.from(Array.isArray(given) ? (given[0] ?? '') : (given ?? ''));
  return accepted.some((expected) => value.length === expected.length && timingSafeEqual(value, expected));
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(value ?? '');
  return match?.[1];
}

/** Verifies the request's bearer token; UNAUTHENTICATED when it is missing or invalid. */
export async function authenticate(verifier: TokenVerifier, authorization: string | string[] | undefined): Promise<AuthUser> {
  const token = bearerToken(authorization);
  if (!token) throw new PlatformException('MISSING_TOKEN', 'Authentication required: send Authorization: Bearer <access token>');
  return verifier.verify(token);
}

export const Role = {
  ADMIN: 'admin',
  SALES_MANAGER: 'sales-manager',
  SALES_REP: 'sales-rep',
  SERVICE_AGENT: 'service-agent',
  SERVICE_MANAGER: 'service-manager',
  MARKETER: 'marketer',
  ANALYST: 'analyst',
  CUSTOMER: 'customer',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Keycloak groups that are departments; every other group a user is in is a team (e.g. `sales-east`). */
export const DEPARTMENTS = ['sales', 'service', 'marketing', 'management'] as const;

export function departmentsOf(user: AuthUser): string[] {
  return user.groups.filter((g) => (DEPARTMENTS as readonly string[]).includes(g));
}

export function teamsOf(user: AuthUser): string[] {
  return user.groups.filter((g) => !(DEPARTMENTS as readonly string[]).includes(g));
}

export function hasAnyRole(user: AuthUser, roles: readonly Role[]): boolean {
  return user.roles.includes(Role.ADMIN) || roles.some((role) => user.roles.includes(role));
}

/** FORBIDDEN unless the user holds one of `roles` (admins pass every check). */
export function requireRole(user: AuthUser, roles: readonly Role[]): void {
  if (!hasAnyRole(user, roles)) {
    throw new PlatformException('MISSING_ROLE', `Requires one of the roles: ${roles.join(', ')}`);
  }
}

/** The GraphQL error (HTTP 401) for a request whose token failed {@link authenticate}. */
export function authenticationError(error: unknown): GraphQLError {
  const mapped = error instanceof DomainException ? toGraphQLError(error) : new GraphQLError('Authentication failed', { extensions: { code: 'UNAUTHENTICATED' } });
  return new GraphQLError(mapped.message, { extensions: { ...mapped.extensions, http: { status: 401 } } });
}
