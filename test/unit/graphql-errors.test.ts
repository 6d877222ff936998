import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import { InvalidCursorError } from '../../src/errors/invalid-cursor-error.js';
import { OperationRefusedError } from '../../src/errors/operation-refused-error.js';
import { PartitionReadError } from '../../src/errors/partition-read-error.js';
import { UnpaidUserNotFoundError } from '../../src/jobs/abnormal-orders/unpaid-user-not-found-error.js';
import { toGraphQLError } from '../../src/graphql/errors.js';

function mapped(err: unknown): GraphQLError {
  const out = toGraphQLError(err);
  assert.ok(out instanceof GraphQLError);
  return out;
}

describe('domain errors in GraphQL', () => {
  it('keeps the client-visible codes of the store errors', () => {
    const cursor = new InvalidCursorError('nope');
    assert.equal(cursor.code, 'CURSOR_INVALID');
    assert.equal(mapped(cursor).extensions.code, 'BAD_USER_INPUT');
    assert.equal(mapped(cursor).originalError, cursor);
    assert.equal(mapped(new UnpaidUserNotFoundError('1')).extensions.code, 'NOT_FOUND');
  });

  it('maps an operator refusal and carries its details', () => {
    const refusal = new OperationRefusedError('OPERATION_INPUT_INVALID', 'bad partition', { argument: 'partitions' });
    const input = mapped(refusal);
    assert.deepEqual(input.extensions, { code: 'BAD_USER_INPUT', argument: 'partitions' });
    assert.equal(mapped(new OperationRefusedError('JOB_NOT_FOUND', 'no such group')).extensions.code, 'NOT_FOUND');
    const recount = mapped(new OperationRefusedError('RECOUNT_REFUSED', 'would recount', { recordsToRecount: 5 }));
    assert.deepEqual(recount.extensions, { code: 'RECOUNT_REFUSED', recordsToRecount: 5 });
  });

  it('maps a failed partition read with its failure and unfinished partitions', () => {
    const err = new PartitionReadError('user-behavior', 'timeout', new Map([[2, 1_500n]]), 'did not finish');
    assert.equal(err.code, 'PARTITION_READ_FAILED');
    assert.deepEqual(mapped(err).extensions, {
      code: 'PARTITION_READ_FAILED',
      topic: 'user-behavior',
      failure: 'timeout',
      unfinished: [{ partition: 2, nextOffset: '1500' }],
    });
  });

  it('leaves other errors to Apollo', () => {
    const err = new Error('boom');
    assert.equal(toGraphQLError(err), err);
  });
});
