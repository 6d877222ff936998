import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import {
  getArgumentValues,
  getNullableType,
  GraphQLError,
  isListType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/**
 * Limits every GraphQL operation must stay within, whatever the transport.
 * Each refusal carries a stable `extensions.code`:
 * `TOKEN_LIMIT`, `ALIAS_LIMIT`, `DIRECTIVE_LIMIT`, `DEPTH_LIMIT`, `QUERY_TOO_COMPLEX`.
 */
export interface OperationLimits {
  /** Deepest selection nesting below the root field (`{ a { b } }` has depth 1). */
  maxDepth: number;
  /** Highest cost (see {@link checkCost}). */
  maxCost: number;
  /** Most aliases in one operation (`__typename` aliases are free). */
  maxAliases: number;
  /** Most lexical tokens in one document. */
  maxTokens: number;
  /** Most directives in one operation. */
  maxDirectives: number;
}

/** A refusal of one of the limits: a GraphQL error with a stable `extensions.code` and the limit. */
function refusal(code: string, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/**
 * Parses `source`, counting tokens as it goes (graphql-armor max-tokens), so a
 * huge document is refused before it is fully parsed.
 * @throws {GraphQLError} `TOKEN_LIMIT` (with `maxTokens`) past the limit,
 *   `GRAPHQL_PARSE_FAILED` for a syntax error.
 */
export function parseWithLimits(source: string, limits: OperationLimits): DocumentNode {
  let overLimit = false;
  try {
    const parser = new MaxTokensParserWLexer(source, {
      n: limits.maxTokens,
      onReject: [
        () => {
          overLimit = true;
        },
      ],
      propagateOnRejection: true,
    });
    return parser.parseDocument();
  } catch (err) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the parser's onReject callback, which control-flow analysis does not follow
    if (overLimit)
      throw refusal('TOKEN_LIMIT', `the document has more than ${limits.maxTokens} tokens`, {
        maxTokens: limits.maxTokens,
      });
    const e = err instanceof GraphQLError ? err : new GraphQLError(String(err));
    throw new GraphQLError(e.message, {
      source: e.source,
      positions: e.positions,
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  }
}

/**
 * Validation rules of the limits on aliases, directives and depth
 * (graphql-armor). A rejection is reported as a validation error with its own
 * code instead of being thrown, so every limit an operation breaks is named.
 * Depth counts the levels below the root field, as graphql-depth-limit did
 * (armor counts the root field as level 1, hence `maxDepth + 1`).
 */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  const report = (code: string, message: string, extra: Record<string, unknown>) => [
    (ctx: ValidationContext | null) => ctx?.reportError(refusal(code, message, extra)),
  ];
  return [
    maxAliasesRule({
      n: limits.maxAliases,
      propagateOnRejection: false,
      onReject: report('ALIAS_LIMIT', `the operation has more than ${limits.maxAliases} aliases`, {
        maxAliases: limits.maxAliases,
      }),
    }),
    maxDirectivesRule({
      n: limits.maxDirectives,
      propagateOnRejection: false,
      onReject: report('DIRECTIVE_LIMIT', `the operation has more than ${limits.maxDirectives} directives`, {
        maxDirectives: limits.maxDirectives,
      }),
    }),
    maxDepthRule({
      n: limits.maxDepth + 1,
      propagateOnRejection: false,
      onReject: report('DEPTH_LIMIT', `the operation is nested deeper than the depth limit of ${limits.maxDepth}`, {
        maxDepth: limits.maxDepth,
      }),
    }),
  ];
}

/** Page sizes above this are refused by the resolvers themselves, with a clearer BAD_USER_INPUT; the cost never counts more. */
const MAX_COUNTED_ITEMS = 1_000;

/** What a root field costs by itself: each one runs at least one database (or Redis, or Kafka admin) query. */
export const DATABASE_READ_COST = 10;

/**
 * The arguments that size a page, and so multiply the cost of a list field's
 * selection: `first` and `limit` by their value, `updates` (a bulk mutation's
 * input list) by its length.
 */
export const COST_ARGUMENTS: ReadonlySet<string> = new Set(['first', 'limit', 'updates']);

const pageArgument = (args: Record<string, unknown>): number | undefined =>
  typeof args.first === 'number'
    ? args.first
    : typeof args.limit === 'number'
      ? args.limit
      : Array.isArray(args.updates)
        ? args.updates.length
        : undefined;

/**
 * The page size each list field may return when the page size is an argument
 * of its parent (a connection's `edges` take `first` from the connection field).
 */
function parentPageSizes(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
): WeakMap<FieldNode, number> {
  const pages = new WeakMap<FieldNode, number>();
  const typeInfo = new TypeInfo(schema);
  const stack: (number | undefined)[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node) {
          const def = typeInfo.getFieldDef();
          let own: number | undefined;
          if (def) {
            try {
              own = pageArgument(getArgumentValues(def, node, variables));
            } catch {
              own = undefined;
            }
            const parent = stack.at(-1);
            if (parent !== undefined && isListType(getNullableType(def.type))) pages.set(node, parent);
          }
          stack.push(own);
        },
        leave() {
          stack.pop();
        },
      },
    }),
  );
  return pages;
}

/**
 * The cost model: a field costs its own price plus its selection's cost times
 * the items it may return.
 * - Own price: the field's `complexity` (type-graphql `@Field({ complexity })`,
 *   given to fields that run their own query, such as a connection's
 *   `totalCount` COUNT), else {@link DATABASE_READ_COST} for a root field,
 *   else 1 (a value read from the parent object).
 * - Items: a list field multiplies by its own `first`/`limit`, or its parent's
 *   (a connection's `edges`; a bulk mutation's results by its `updates`),
 *   at least 1 and at most {@link MAX_COUNTED_ITEMS};
 *   other fields by 1.
 */
function databaseEstimator(schema: GraphQLSchema, pages: WeakMap<FieldNode, number>): ComplexityEstimator {
  const roots = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean),
  );
  return ({ type, field, node, args, childComplexity }) => {
    const declared = field.extensions.complexity;
    const own = typeof declared === 'number' ? declared : roots.has(type as never) ? DATABASE_READ_COST : 1;
    const items = isListType(getNullableType(field.type)) ? (pageArgument(args) ?? pages.get(node) ?? 1) : 1;
    return own + Math.min(MAX_COUNTED_ITEMS, Math.max(1, items)) * childComplexity;
  };
}

/**
 * The cost of an operation (graphql-query-complexity with the model of
 * {@link databaseEstimator}).
 * @returns `refusal`: a GraphQLError with `extensions.code` `QUERY_TOO_COMPLEX`
 *   (and the `cost` and `maxCost`) when the cost exceeds `maxCost`, else null;
 *   `computed`: false when the cost could not be computed (bad variables or
 *   operation name, left to execution to report), so the outcome is not one to
 *   remember.
 */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: OperationLimits,
): { refusal: GraphQLError | null; computed: boolean } {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      ...(operationName ? { operationName } : {}),
      estimators: [databaseEstimator(schema, parentPageSizes(schema, document, variables ?? {}))],
    });
  } catch {
    // Bad variables or operation name: execution reports it with its own code.
    return { refusal: null, computed: false };
  }
  if (cost <= limits.maxCost) return { refusal: null, computed: true };
  return {
    refusal: refusal(
      'QUERY_TOO_COMPLEX',
      `operation cost ${cost} exceeds the limit of ${limits.maxCost}: ask for fewer items or fewer fields`,
      { cost, maxCost: limits.maxCost },
    ),
    computed: true,
  };
}
