import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';

const root = path.resolve(import.meta.dirname, '../../..');

describe('web/src/generated/graphql.ts', () => {
  it('should match what GraphQL Code Generator makes of schema/schema.graphql and web/src/operations.ts (run `npm run codegen` after changing either)', async () => {
    const { config } = await loadCodegenConfig({ configFilePath: path.join(root, 'codegen.yml') });
    // In memory only (saveToFile false): the checked-in file is compared, never rewritten.
    const outputs = await generate({ ...config, cwd: root, silent: true, verbose: false }, false);
    const targets = Object.keys(config.generates);
    assert.ok(targets.length > 0, 'codegen.yml generates nothing');
    assert.equal(outputs.length, targets.length);
    for (const output of outputs) {
      const checkedIn = await readFile(path.resolve(root, output.filename), 'utf8');
      assert.ok(
        output.content.includes('DashboardSnapshotQuery'),
        `${output.filename}: the dashboard's operations were not found`,
      );
      assert.equal(checkedIn, output.content, `${output.filename} is stale: run \`npm run codegen\``);
    }
  });
});
