import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { createSharedResultSubscribe } from '../../src/graphql/shared-subscription-results.js';

/** A schema whose subscription yields the given events and counts how often its selection is executed. */
function schemaOf(events: unknown[]) {
  let executions = 0;
  const Event = new GraphQLObjectType({
    name: 'Event',
    fields: {
      cursor: {
        type: GraphQLString,
        resolve: (e: { cursor: string }) => {
          executions++;
          return e.cursor;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        events: {
          type: Event,
          subscribe: async function* () {
            yield* events;
          },
          resolve: (e: unknown) => e,
        },
      },
    }),
  });
  return { schema, executions: () => executions };
}

async function drain(it: AsyncIterableIterator<ExecutionResult> | ExecutionResult): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const r of it as AsyncIterableIterator<ExecutionResult>) out.push(JSON.parse(JSON.stringify(r.data)));
  return out;
}

const change = (pos: string) => ({ kind: 'change', cursor: `c-${pos}`, change: { partition: 0, pos } });

describe('shared subscription results', () => {
  it('should execute a change-log event once for every subscriber of the same operation and role', async () => {
    const events = [change('a'), change('b'), { kind: 'progress', cursor: 'c-b', atMs: 5 }];
    const { schema, executions } = schemaOf(events);
    const subscribe = createSharedResultSubscribe();
    const document = parse('subscription { events { cursor } }');
    const ctx = { caller: { role: 'viewer' } };
    const results = await Promise.all(
      [1, 2, 3].map(async () => drain(await subscribe({ schema, document, contextValue: ctx }))),
    );
    for (const r of results)
      assert.deepEqual(r, [
        { events: { cursor: 'c-a' } },
        { events: { cursor: 'c-b' } },
        { events: { cursor: 'c-b' } },
      ]);
    assert.equal(executions(), 3, 'three events, three executions, whatever the number of subscribers');
    // Another role (or operation) does not share: it executes its own.
    await drain(await subscribe({ schema, document, contextValue: { caller: { role: 'ops' } } }));
    assert.equal(executions(), 6);
  });

  it('should execute other events per subscriber', async () => {
    const { schema, executions } = schemaOf([{ kind: 'snapshot', cursor: 'c-s', value: {} }, { cursor: 'no-kind' }]);
    const subscribe = createSharedResultSubscribe();
    const document = parse('subscription { events { cursor } }');
    await drain(await subscribe({ schema, document }));
    await drain(await subscribe({ schema, document }));
    assert.equal(executions(), 4);
  });
});
