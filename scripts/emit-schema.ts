// `npm run schema:emit`: writes schema/schema.graphql from the code-first schema.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderSdl, SDL_PATH } from '../src/app-schema.js';

const target = path.resolve(import.meta.dirname, '../..', SDL_PATH);
await writeFile(target, await renderSdl());
console.log(`schema: wrote ${SDL_PATH}`);
