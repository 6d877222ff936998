import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

// The import rule of src/: data flows one way (Kafka -> parse -> window/aggregate ->
// the runner's transactional commit -> publish -> GraphQL), lower layers never import
// higher ones. Each folder lists every folder it may import besides itself; a top-level
// file (the composition: service, main, preflight) may import anything, and nothing
// under a folder may import it.
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  config: ['errors'],
  domain: ['errors'],
  stream: ['errors', 'domain'],
  observability: ['config', 'errors', 'domain'],
  ingest: ['config', 'errors', 'domain'],
  store: ['config', 'errors', 'domain', 'stream', 'generated'],
  publish: ['config', 'errors', 'domain', 'stream'],
  engine: ['config', 'errors', 'domain', 'stream', 'ingest', 'store', 'publish', 'observability'],
  subscriptions: ['config', 'errors', 'domain', 'stream', 'store', 'publish', 'observability'],
  runner: ['config', 'errors', 'domain', 'ingest', 'engine', 'store', 'observability'],
  graphql: [
    'config',
    'errors',
    'domain',
    'stream',
    'ingest',
    'store',
    'publish',
    'subscriptions',
    'engine',
    'observability',
  ],
  sample: ['config', 'errors', 'domain', 'ingest', 'store'],
  jobs: [
    'config',
    'errors',
    'domain',
    'stream',
    'ingest',
    'observability',
    'store',
    'publish',
    'subscriptions',
    'engine',
    'graphql',
    'sample',
    'generated',
  ],
  types: [],
};

/** Folders whose files may import no package at all (pure code; node: built-ins included). */
const NO_PACKAGES = new Set(['errors', 'domain', 'stream']);

/** Generated code (Prisma client): not ours to layer. */
const SKIPPED = new Set(['generated']);

// dist/test/unit/ -> the repository root.
const ROOT = path.resolve(import.meta.dirname, '../../..');
const SRC = path.join(ROOT, 'src');

const IMPORT_RE = new RegExp(
  [
    String.raw`(?:^|[^\w.])(?:import|export)\s[^'"\x60;]*?from\s*['"]([^'"]+)['"]`, // import x from '...', export { y } from '...'
    String.raw`(?:^|[^\w.])import\s*['"]([^'"]+)['"]`, // import '...' (side effect)
    String.raw`\bimport\(\s*['"]([^'"]+)['"]\s*\)`, // import('...')
  ].join('|'),
  'g',
);

/** The module specifiers a TypeScript file imports or re-exports (static, side-effect and dynamic imports). */
export function importsOf(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...withoutComments.matchAll(IMPORT_RE)].map((m) => (m.at(1) ?? m.at(2) ?? m.at(3))!);
}

/** The layer of a path relative to src/: its first folder, or `composition` for a top-level file. */
function layerOf(relative: string): string {
  const parts = relative.split('/');
  return parts.length === 1 ? 'composition' : parts[0];
}

/**
 * Every import of `files` (path relative to src/ -> source) that breaks the rule,
 * as `from -> specifier (why)`.
 */
export function forbiddenEdges(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    const layer = layerOf(file);
    if (SKIPPED.has(layer)) continue;
    const allowed = ALLOWED[layer] as readonly string[] | undefined;
    if (layer !== 'composition' && !allowed) {
      problems.push(`${file}: folder ${layer}/ has no entry in the allowed-dependency table`);
      continue;
    }
    for (const spec of importsOf(source)) {
      if (!spec.startsWith('.')) {
        if (NO_PACKAGES.has(layer)) problems.push(`${file} -> ${spec} (${layer}/ is pure: no packages)`);
        continue;
      }
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (target.startsWith('..')) {
        problems.push(`${file} -> ${spec} (outside src/)`);
        continue;
      }
      const to = layerOf(target);
      if (to === layer) continue;
      if (to === 'composition') {
        if (layer !== 'composition') problems.push(`${file} -> ${spec} (only the composition imports ${target})`);
        continue;
      }
      if (layer !== 'composition' && !allowed!.includes(to)) {
        problems.push(`${file} -> ${spec} (${layer}/ may import only ${allowed!.join(', ') || 'itself'})`);
      }
    }
  }
  return problems;
}

function sourcesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return out;
}

describe('layering of src/', () => {
  it('has no import that goes against the allowed dependencies', () => {
    const files = sourcesUnder(SRC);
    assert.ok(files.size > 50, `expected the sources under ${SRC}, found ${files.size} files`);
    assert.deepEqual(forbiddenEdges(files), []);
  });

  it('reads static, type-only, re-export, side-effect and dynamic imports, not comments', () => {
    const source = [
      "import { a } from '../x.js';",
      'import type { B } from "./y.js";',
      "export { c } from '../z.js';",
      "import '../side.js';",
      "const m = await import('../lazy.js');",
      "// import { no } from '../commented.js';",
      '/* import { no } from "../block.js"; */',
      "import {\n  d,\n  e,\n} from '../multi.js';",
    ].join('\n');
    assert.deepEqual(importsOf(source), ['../x.js', './y.js', '../z.js', '../side.js', '../lazy.js', '../multi.js']);
  });

  it('flags an upward import, a package in a pure folder and an import of the composition', () => {
    const files = new Map([
      ['store/a.ts', "import { x } from '../jobs/b.js';"],
      ['stream/c.ts', "import { pino } from 'pino';"],
      ['jobs/d.ts', "import { startService } from '../service.js';"],
      ['service.ts', "import { x } from './runner/job-runner.js';"],
      ['publish/e.ts', "import type { S } from '../store/s.js';"],
    ]);
    const problems = forbiddenEdges(files);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0], /^store\/a\.ts -> \.\.\/jobs\/b\.js/);
    assert.match(problems[1], /^stream\/c\.ts -> pino/);
    assert.match(problems[2], /^jobs\/d\.ts -> \.\.\/service\.js/);
    assert.match(problems[3], /^publish\/e\.ts -> \.\.\/store\/s\.js/);
  });
});
