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

/** Who is calling: resolved from `Authorization: Bearer <key>` or `connectionParams.authorization`. */
export interface Caller {
  role: Role;
  apiKey: string;
}

/** No key, or a key that is not in `API_KEYS`. */
export function unauthenticated(): GraphQLError {
  return new GraphQLError('a valid API key is required: send `Authorization: Bearer <key>`', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });
}

/**
 * Resolves a caller from an `Authorization` value (`Bearer <key>` or the bare key).
 * @returns null when the value is missing or the key unknown.
 */
export function resolveCaller(authorization: unknown, keys: ReadonlyMap<string, Role>): Caller | null {
  if (typeof authorization !== 'string') return null;
  const apiKey = authorization.replace(/^Bearer\s+/i, '').trim();
  const role = keys.get(apiKey);
  return role ? { role, apiKey } : null;
}

/**
 * type-graphql's check for `@Authorized(roles)`: no caller gives
 * `UNAUTHENTICATED`, a caller whose role is not listed `FORBIDDEN`.
 */
export const authChecker: AuthChecker<GraphQLContext, Role> = ({ context }, roles) => {
  if (!context.caller) throw unauthenticated();
  if (roles.length > 0 && !roles.includes(context.caller.role)) {
    throw new GraphQLError(`role ${context.caller.role} may not do this (allowed: ${roles.join(', ')})`, {
      extensions: { code: 'FORBIDDEN', http: { status: 403 } },
    });
  }
  return true;
};
