import depthLimit from 'graphql-depth-limit';
import { GraphQLError, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';

/** Limits an operation must stay within (issue 5, "Hardening"). */
export interface OperationLimits {
  /** Deepest selection nesting. */
  maxDepth: number;
  /** Highest cost (see {@link listEstimator}). */
  maxCost: number;
}

/** Validation rules enforcing the depth limit (graphql-depth-limit). */
export function depthRules(limits: OperationLimits): ValidationRule[] {
  return [depthLimit(limits.maxDepth) as ValidationRule];
}

/** Page sizes above this are refused by the resolvers themselves, with a clearer BAD_USER_INPUT. */
const MAX_COUNTED_ITEMS = 1_000;

/**
 * A list field's selection is paid once per item it may return: its
 * `first`/`limit` argument (or 1, capped at {@link MAX_COUNTED_ITEMS}), plus 1
 * for the field itself.
 */
const listEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const n = typeof args.first === 'number' ? args.first : typeof args.limit === 'number' ? args.limit : 1;
  return 1 + childComplexity * Math.min(MAX_COUNTED_ITEMS, Math.max(1, n));
};

/**
 * The cost of an operation (graphql-query-complexity).
 * @returns a GraphQLError with `extensions.code` `QUERY_TOO_COMPLEX` (and the
 *   cost and limit) when the cost exceeds `maxCost`, else null.
 */
export function checkCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | null | undefined, limits: OperationLimits): GraphQLError | null {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      ...(operationName ? { operationName } : {}),
      estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    // Bad variables or operation name: execution reports it with its own code.
    return null;
  }
  if (cost <= limits.maxCost) return null;
  return new GraphQLError(`operation cost ${cost} exceeds the limit of ${limits.maxCost}: ask for fewer items or fewer fields`, {
    extensions: { code: 'QUERY_TOO_COMPLEX', cost, maxCost: limits.maxCost },
  });
}
