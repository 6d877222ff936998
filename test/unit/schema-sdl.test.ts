import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { renderSdl, SDL_PATH } from '../../src/app-schema.js';

describe('schema/schema.graphql', () => {
  it('should match the SDL printed from the code-first schema (run `npm run schema:emit` after changing it)', async () => {
    const checkedIn = await readFile(path.resolve(import.meta.dirname, '../../..', SDL_PATH), 'utf8');
    assert.equal(checkedIn, await renderSdl());
  });
});
