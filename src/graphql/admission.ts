import {
  getOperationAST,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type OperationTypeNode,
  type ValidationRule,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { keyId } from '../store/key-id.js';
import type { Authenticator, Caller } from './auth.js';
import { checkCost, COST_ARGUMENTS, limitRules, parseWithLimits, type OperationLimits } from './operation-limits.js';
import type { OperationRateLimiter } from './rate-limit.js';
import { documentHash, type TrustedDocuments } from './trusted-documents.js';

/** One GraphQL request as a client sends it (the JSON body of a POST, the query string of a GET, a graphql-ws `subscribe` payload). */
export interface OperationRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

/** An operation allowed to run: who calls, and the document checked against every limit. */
export interface AdmittedOperation {
  ok: true;
  caller: Caller;
  /** The text that was checked (from the request, or from the trusted documents by hash). */
  query: string;
  document: DocumentNode;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
  /** `query`, `mutation` or `subscription`. */
  operationType: OperationTypeNode | undefined;
}

/** A refusal: the errors to answer with (each with `extensions.code`) and the HTTP status for the HTTP transport. */
export interface Refusal {
  ok: false;
  errors: GraphQLError[];
  /** 400, 401, 403, 413, 429 or 503. */
  status: number;
  /** With `RATE_LIMITED`: seconds until the budget allows another operation. */
  retryAfterSeconds?: number;
}

/** What {@link Admission} checks against. */
export interface AdmissionOptions {
  schema: GraphQLSchema;
  authenticator: Authenticator;
  rateLimiter: OperationRateLimiter;
  limits: OperationLimits;
  introspection: boolean;
  /** The dashboard's operations; with `trustedOnly`, the only ones that run. */
  trustedDocuments?: TrustedDocuments;
  trustedOnly: boolean;
  /** Whether one HTTP request may carry several operations. */
  allowBatching: boolean;
  /** Most operations in one batch. */
  maxBatchSize: number;
}

/** Most distinct document texts whose parse and validation {@link Admission} keeps. */
export const CHECKED_DOCUMENTS = 500;
/** Most distinct (document, operation name, page-size variables) whose cost {@link Admission} keeps. */
export const COSTED_OPERATIONS = 2_000;

/** A document's parse and validation, and what its cost depends on. */
interface CheckedDocument {
  document: DocumentNode;
  errors: readonly GraphQLError[];
  /**
   * The variables the cost can depend on: those inside an argument named in
   * {@link COST_ARGUMENTS} (page sizes) or inside a directive (`@include`,
   * `@skip` take fields out of the count). Every other variable leaves the cost
   * unchanged, so operations that differ only in those share one cost.
   */
  costVariables: string[];
}

/** The variables the cost of `document` can depend on (see {@link CheckedDocument.costVariables}). */
export function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (node: Parameters<typeof visit>[0]) =>
    visit(node, {
      Variable(v) {
        names.add(v.name.value);
      },
    });
  visit(document, {
    Argument(arg, _key, _parent, _path, ancestors) {
      // A directive's arguments all count; a field's only when they size a page. The parent is the
      // arguments array; the node owning it is the last ancestor.
      const owner = ancestors.at(-1);
      const ownerKind = owner && !Array.isArray(owner) ? (owner as { kind?: Kind }).kind : undefined;
      if (ownerKind === Kind.DIRECTIVE || COST_ARGUMENTS.has(arg.name.value)) collect(arg.value);
      return false;
    },
    VariableDefinition() {
      return false;
    },
  });
  return [...names].sort();
}

/** What a variable contributes to the cost: a list its length, an object (one list item) nothing, anything else itself. */
function costValue(value: unknown): unknown {
  if (Array.isArray(value)) return { length: value.length };
  if (value !== null && typeof value === 'object') return {};
  return value ?? null;
}

/** A refusal with one error of `code`. */
export function refuse(code: string, message: string, status = 400, extra: Record<string, unknown> = {}): Refusal {
  return { ok: false, status, errors: [new GraphQLError(message, { extensions: { code, ...extra } })] };
}

function statusOf(err: GraphQLError, fallback: number): number {
  const http = err.extensions.http as { status?: number } | undefined;
  return typeof http?.status === 'number' ? http.status : fallback;
}

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * The one admission path of the API: every GraphQL operation, over HTTP
 * (Apollo Server) and over WebSocket (graphql-ws) alike, passes these checks
 * in this order before it runs:
 *
 * 1. authentication (API key or JWT; {@link Authenticator}): `UNAUTHENTICATED`,
 *    `FORBIDDEN`, `AUTH_UNAVAILABLE`; a failed attempt spends the client
 *    address's rate budget, so guessing keys is rate-limited too;
 * 2. the caller's rate budget: `RATE_LIMITED` (with `retryAfterSeconds`);
 * 3. the document: the request's text, or the trusted document named by
 *    `extensions.persistedQuery.sha256Hash` (`PERSISTED_QUERY_NOT_FOUND`);
 *    with trusted documents only, a text whose sha256 is not listed is
 *    refused with `UNTRUSTED_DOCUMENT`;
 * 4. parsing with the token limit: `TOKEN_LIMIT`, `GRAPHQL_PARSE_FAILED`;
 * 5. validation: the specification's rules (`GRAPHQL_VALIDATION_FAILED`),
 *    the alias, directive and depth limits (`ALIAS_LIMIT`, `DIRECTIVE_LIMIT`,
 *    `DEPTH_LIMIT`), no introspection when it is off;
 * 6. the cost: `QUERY_TOO_COMPLEX`.
 *
 * Batching (several operations in one HTTP request) is checked by
 * {@link checkBatch}: `BATCHING_DISABLED`, `BATCH_TOO_LARGE`.
 */
export class Admission {
  private readonly rules: ValidationRule[];
  /**
   * Parsed and validated documents by their text (lru-cache, at most
   * {@link CHECKED_DOCUMENTS} of them): a document's parse and validation depend
   * only on its text, the schema and the limits, all fixed for the process,
   * so nothing here goes stale (no time bound). Cost still runs per request
   * (it depends on the variables).
   */
  private readonly checked = new LRUCache<string, CheckedDocument>({
    max: CHECKED_DOCUMENTS,
  });
  /**
   * Admitted costs (lru-cache, at most {@link COSTED_OPERATIONS}) by document
   * text, operation name and the values of its {@link CheckedDocument.costVariables}:
   * the cost is a function of exactly those (schema and limits are fixed for
   * the process). A cost that could not be computed (bad variables) is not kept.
   */
  private readonly costed = new LRUCache<string, { refusal: GraphQLError | null }>({ max: COSTED_OPERATIONS });

  constructor(private readonly opts: AdmissionOptions) {
    // The limits first: an abusive document is named as such before any other error it has.
    this.rules = [
      ...limitRules(opts.limits),
      ...specifiedRules,
      ...(opts.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ];
  }

  /**
   * Resolves the caller of `authorization` (`Bearer <key or JWT>`).
   * @param clientAddress the client's IP address: whose budget a failed attempt spends.
   */
  async authenticate(authorization: unknown, clientAddress: string): Promise<{ ok: true; caller: Caller } | Refusal> {
    const result = await this.opts.authenticator.authenticate(authorization);
    if ('caller' in result) return { ok: true, caller: result.caller };
    const limited = await this.opts.rateLimiter.consume(`ip:${clientAddress}`);
    if (limited) return this.rateLimited(limited);
    return { ok: false, errors: [result.error], status: statusOf(result.error, 401) };
  }

  /** Checks an HTTP request that carries a JSON array: allowed only with batching on, and at most `maxBatchSize` operations. */
  checkBatch(operations: readonly unknown[]): Refusal | null {
    if (!this.opts.allowBatching)
      return refuse('BATCHING_DISABLED', 'batched operations are not accepted: send one operation per request');
    if (operations.length === 0 || operations.length > this.opts.maxBatchSize) {
      return refuse(
        'BATCH_TOO_LARGE',
        `a batch holds 1 to ${this.opts.maxBatchSize} operations, got ${operations.length}`,
        400,
        { maxBatchSize: this.opts.maxBatchSize },
      );
    }
    return null;
  }

  /** Steps 2 to 6 for an authenticated caller (see the class). */
  async admitOperation(caller: Caller, request: OperationRequest): Promise<AdmittedOperation | Refusal> {
    const limited = await this.opts.rateLimiter.consume(keyId(caller.apiKey));
    if (limited) return this.rateLimited(limited);

    const persisted = asRecord(asRecord(request.extensions)?.persistedQuery);
    const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash.toLowerCase() : undefined;
    let query = typeof request.query === 'string' && request.query !== '' ? request.query : undefined;
    if (query === undefined) {
      if (request.query !== undefined && request.query !== null && typeof request.query !== 'string')
        return refuse('BAD_REQUEST', '`query` must be a string');
      const text = hash ? this.opts.trustedDocuments?.text(hash) : undefined;
      if (!text) {
        return hash
          ? refuse(
              this.opts.trustedOnly ? 'UNTRUSTED_DOCUMENT' : 'PERSISTED_QUERY_NOT_FOUND',
              `no trusted document has the sha256 ${hash.slice(0, 16)}...: send the query text`,
            )
          : refuse('BAD_REQUEST', 'the request has no `query`');
      }
      query = text;
    } else if (hash && documentHash(query) !== hash) {
      return refuse('BAD_REQUEST', 'extensions.persistedQuery.sha256Hash is not the sha256 of the query text');
    }
    if (this.opts.trustedOnly && !this.opts.trustedDocuments?.has(hash ?? documentHash(query))) {
      return refuse(
        'UNTRUSTED_DOCUMENT',
        "only the dashboard's operations are accepted (trusted documents): this document is not one of them",
        403,
      );
    }

    let checked = this.checked.get(query);
    if (!checked) {
      let document: DocumentNode;
      try {
        document = parseWithLimits(query, this.opts.limits);
      } catch (err) {
        return { ok: false, status: 400, errors: [err as GraphQLError] };
      }
      const errors = validate(this.opts.schema, document, this.rules, { maxErrors: 20 });
      checked = { document, errors, costVariables: errors.length === 0 ? costVariables(document) : [] };
      this.checked.set(query, checked);
    }
    const { document, errors } = checked;
    if (errors.length > 0) {
      return {
        ok: false,
        status: 400,
        errors: errors.map((e) =>
          e.extensions.code
            ? e
            : new GraphQLError(e.message, {
                nodes: e.nodes,
                extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
              }),
        ),
      };
    }
    const variables = asRecord(request.variables);
    if (request.variables !== undefined && request.variables !== null && !variables)
      return refuse('BAD_REQUEST', '`variables` must be an object');
    const operationName =
      typeof request.operationName === 'string' && request.operationName !== '' ? request.operationName : undefined;
    // A list (a bulk mutation's updates) counts by its length only: its items never change the cost.
    const costKey = `${operationName ?? ''}\u0000${JSON.stringify(checked.costVariables.map((v) => costValue(variables?.[v])))}\u0000${query}`;
    let costed = this.costed.get(costKey);
    if (!costed) {
      const cost = checkCost(this.opts.schema, document, variables, operationName, this.opts.limits);
      costed = { refusal: cost.refusal };
      if (cost.computed) this.costed.set(costKey, costed);
    }
    if (costed.refusal) return { ok: false, status: 400, errors: [costed.refusal] };
    return {
      ok: true,
      caller,
      query,
      document,
      variables,
      operationName,
      operationType: getOperationAST(document, operationName)?.operation,
    };
  }

  /** {@link authenticate} then {@link admitOperation}: one operation of one caller. */
  async admit(
    authorization: unknown,
    clientAddress: string,
    request: OperationRequest,
  ): Promise<AdmittedOperation | Refusal> {
    const auth = await this.authenticate(authorization, clientAddress);
    return auth.ok ? this.admitOperation(auth.caller, request) : auth;
  }

  private rateLimited(err: GraphQLError): Refusal {
    return { ok: false, status: 429, errors: [err], retryAfterSeconds: Number(err.extensions.retryAfterSeconds) };
  }
}

/** A refusal's errors as a GraphQL response body, without the transport-only `http` extension. */
export function refusalBody(refusal: Refusal): { errors: { message: string; extensions: Record<string, unknown> }[] } {
  return {
    errors: refusal.errors.map((e) => {
      const { http: _http, ...extensions } = e.extensions;
      return { message: e.message, ...(e.locations ? { locations: e.locations } : {}), extensions };
    }),
  };
}
