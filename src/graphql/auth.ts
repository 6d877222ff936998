import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { GraphQLError } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import type { Role } from '../config/config.js';
import type { GraphQLContext } from './context.js';

/** Roles allowed to read (queries and subscriptions). */
export const READ_ROLES: Role[] = ['viewer', 'crm', 'ops'];
/** Roles allowed to change CRM data (callback statuses). */
export const CRM_ROLES: Role[] = ['crm', 'ops'];
/** Roles allowed to operate jobs and offsets. */
export const OPS_ROLES: Role[] = ['ops'];

/** Who is calling: resolved from `Authorization: Bearer <key or JWT>` or `connectionParams.authorization`. */
export interface Caller {
  role: Role;
  /**
   * The credential's identity: the API key itself, or `jwt:<iss>:<sub>` for a
   * token. Only its sha256 prefix (`keyId`) is ever stored or logged; it is
   * also the subject of the rate limit and of the WebSocket caps.
   */
  apiKey: string;
  /** How the caller authenticated. */
  kind: 'api-key' | 'jwt';
}

/** No credential, an unknown API key, or a JWT that failed verification (expired, wrong issuer or audience, bad signature). */
export function unauthenticated(reason?: string): GraphQLError {
  return new GraphQLError(
    `a valid API key or token is required: send \`Authorization: Bearer <key or JWT>\`${reason ? ` (${reason})` : ''}`,
    {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 }, ...(reason ? { reason } : {}) },
    },
  );
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

/** What verifies bearer JWTs (RFC 7519) against the identity provider's JWKS (RFC 7517), with jose. */
export interface JwtSettings {
  /** The provider's JWKS URL; keys are fetched on demand and cached by jose. */
  jwksUrl: string;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud` (one of the token's audiences). */
  audience: string;
  /** Claim holding the role; a dotted path (`realm.role`) reads a nested claim. */
  roleClaim: string;
  /** Accepted clock difference for `exp` / `nbf`, seconds. */
  clockToleranceSeconds: number;
}

/** The outcome of {@link Authenticator.authenticate}: a caller, or the error to refuse with. */
export type Authentication = { caller: Caller } | { error: GraphQLError };

const ROLES: readonly Role[] = ['viewer', 'crm', 'ops'];
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Resolves the caller of an operation from its `Authorization` value, for
 * HTTP and WebSocket alike: an API key of `API_KEYS`, or (when a JWKS URL is
 * configured) a JWT signed by one of the provider's keys, with the configured
 * issuer and audience, not expired, whose role claim names a known role.
 *
 * Refusals: no credential, an unknown key, or a token that fails verification
 * -> `UNAUTHENTICATED` (with `reason`); a valid token whose role claim is
 * missing or not `viewer`/`crm`/`ops` -> `FORBIDDEN` (the identity is proven,
 * the permission is not); the JWKS cannot be fetched -> `AUTH_UNAVAILABLE`.
 */
export class Authenticator {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | null;

  constructor(
    private readonly apiKeys: ReadonlyMap<string, Role>,
    private readonly jwt?: JwtSettings,
  ) {
    this.jwks = jwt
      ? createRemoteJWKSet(new URL(jwt.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 })
      : null;
  }

  async authenticate(authorization: unknown): Promise<Authentication> {
    if (typeof authorization !== 'string' || authorization.trim() === '') return { error: unauthenticated() };
    const credential = authorization.replace(/^Bearer\s+/i, '').trim();
    const role = this.apiKeys.get(credential);
    if (role) return { caller: { role, apiKey: credential, kind: 'api-key' } };
    if (!this.jwks || !this.jwt || !JWT_SHAPE.test(credential)) return { error: unauthenticated() };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(credential, this.jwks, {
        issuer: this.jwt.issuer,
        audience: this.jwt.audience,
        clockTolerance: this.jwt.clockToleranceSeconds,
      }));
    } catch (err) {
      return { error: jwtRefusal(err) };
    }
    const claimed = readClaim(payload, this.jwt.roleClaim);
    if (typeof claimed !== 'string' || !ROLES.includes(claimed as Role)) {
      return {
        error: forbidden(`the token's ${this.jwt.roleClaim} claim names no known role (one of ${ROLES.join(', ')})`),
      };
    }
    return { caller: { role: claimed as Role, apiKey: `jwt:${payload.iss}:${payload.sub ?? ''}`, kind: 'jwt' } };
  }
}

function readClaim(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.'))
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

function jwtRefusal(err: unknown): GraphQLError {
  if (err instanceof joseErrors.JWTExpired) return unauthenticated('token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return unauthenticated(`token claim ${err.claim} ${err.reason === 'check_failed' ? 'does not match' : err.reason}`);
  if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && !(err instanceof joseErrors.JOSEError))) {
    return new GraphQLError("the identity provider's keys could not be fetched: retry later", {
      extensions: { code: 'AUTH_UNAVAILABLE', http: { status: 503 } },
    });
  }
  return unauthenticated(`token not valid: ${(err as { code?: string }).code ?? 'verification failed'}`);
}

/**
 * type-graphql's check for `@Authorized(roles)`: no caller gives
 * `UNAUTHENTICATED`, a caller whose role is not listed `FORBIDDEN`.
 */
export const authChecker: AuthChecker<GraphQLContext, Role> = ({ context }, roles) => {
  if (!context.caller) throw unauthenticated();
  if (roles.length > 0 && !roles.includes(context.caller.role)) {
    throw forbidden(`role ${context.caller.role} may not do this (allowed: ${roles.join(', ')})`);
  }
  return true;
};
