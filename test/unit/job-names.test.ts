import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { JOB_MODULES } from '../../src/jobs/index.js';

// A job is one folder, and the engine names no job. This test fails when a
// job's name or one of its distinctive identifiers appears in code outside the
// folders that own it.
//
// Scanned: every .ts file under src/ (src/generated/ excepted), scripts/ and
// test/helpers/. Not scanned (they may name jobs): test/unit, test/integration,
// bench/, web/, docs, prisma/ (migrations).
//
// The rule, applied to the code with its comments removed (prose may mention a job):
// 1. a string literal ('...', "...", `...` without ${}) whose whole value is
//    a job's name ('abnormal-orders'), a topic it owns ('recharge') or one of its
//    settings variables ('RECHARGE_GROUP');
// 2. an identifier that contains a job's name in camel, Pascal or upper-snake
//    case (abnormalOrders, HotProducts, DAILY_ACTIVE_USERS), one of its settings
//    variables (DAU_GROUP, PUBLISH_INTERVAL_MS) or a word of its own vocabulary
//    (Dau, AbnormalUser, UnpaidUser, Recharge, CityDaily, HotProduct, ProductClick).
// 3. an import (or re-export) of a file under a job's folder, src/jobs/<name>/:
//    the engine reaches a job only through the module list.
// Each name is owned by folders under src/jobs/: the job's own, and for a topic
// every job that reads it and the folder of that stream's format. The one
// module list, src/jobs/index.ts, may name and import every job.

interface Owned {
  /** The folder under src/ these names belong to, if any: only the owners may import from it. */
  folder?: string;
  /** Exact literal values. */
  literals: readonly string[];
  /** Identifier fragments (matched as substrings of identifiers). */
  identifiers: readonly string[];
  /** Folders under src/ where these may appear. */
  owners: readonly string[];
}

const job = (name: string, settings: readonly string[], extra: readonly string[] = []): Owned => {
  const words = name.split('-');
  const pascal = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return {
    literals: [name, ...settings],
    identifiers: [
      pascal[0].toLowerCase() + pascal.slice(1),
      pascal,
      words.join('_').toUpperCase(),
      ...settings,
      ...extra,
    ],
    owners: [`jobs/${name}/`],
    folder: `jobs/${name}/`,
  };
};

export const OWNED: readonly Owned[] = [
  job(
    'abnormal-orders',
    ['ABNORMAL_ORDERS_GROUP', 'ABNORMAL_WINDOW_SIZE_MS', 'ABNORMAL_WINDOW_ADVANCE_MS', 'ABNORMAL_THRESHOLD'],
    ['AbnormalUser', 'abnormalUser', 'ABNORMAL_USER', 'UnpaidUser', 'unpaidUser'],
  ),
  job(
    'recharge-metrics',
    [
      'RECHARGE_TOPIC',
      'RECHARGE_GROUP',
      'RECHARGE_DEDUP_HORIZON_DAYS',
      'RECHARGE_DEDUP_PRUNE_INTERVAL_MS',
      'PUBLISH_INTERVAL_MS',
    ],
    ['Recharge', 'recharge', 'RECHARGE', 'CityDaily', 'cityDaily', 'CITY_DAILY'],
  ),
  job(
    'hot-products',
    ['PRODUCT_CLICKS_TOPIC', 'HOT_PRODUCTS_GROUP'],
    ['HotProduct', 'hotProduct', 'HOT_PRODUCT', 'ProductClick', 'productClick'],
  ),
  job('daily-active-users', ['DAU_GROUP'], ['Dau', 'DailyActive', 'dailyActive', 'DAILY_ACTIVE']),
  job(
    'ad-clicks',
    ['AD_CLICKS_TOPIC', 'AD_CLICKS_GROUP'],
    ['AdClick', 'adClick', 'AD_CLICK', 'Blacklist', 'blacklist', 'BLACKLIST'],
  ),
  // Topics: the stream's readers own their names.
  { literals: ['recharge'], identifiers: [], owners: ['jobs/recharge-metrics/'] },
  { literals: ['product-clicks'], identifiers: [], owners: ['jobs/hot-products/'] },
  {
    literals: ['user-behavior', 'USER_BEHAVIOR_TOPIC'],
    identifiers: ['USER_BEHAVIOR_TOPIC'],
    owners: ['jobs/user-behavior/', 'jobs/abnormal-orders/', 'jobs/daily-active-users/'],
    folder: 'jobs/user-behavior/',
  },
];

/** Files (path relative to the repository root) that may name every job: the one module list. */
const MODULE_LIST = new Set(['src/jobs/index.ts']);

/** Removes comments, keeping strings (a `//` inside a string is not a comment). */
function withoutComments(source: string): string {
  return source.replace(
    /('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/.*$/gm,
    (m, str) => (str ? m : ''),
  );
}

/** Every name of `OWNED` that `file` (relative to the repository root) uses but does not own, as `file: name`. */
export function leaks(file: string, source: string): string[] {
  if (MODULE_LIST.has(file)) return [];
  const code = withoutComments(source);
  const literals = new Set(
    [...code.matchAll(/'((?:\\.|[^'\\\n])*)'|"((?:\\.|[^"\\\n])*)"|`([^`$\\]*)`/g)].map(
      (m) => (m.at(1) ?? m.at(2) ?? m.at(3))!,
    ),
  );
  const identifiers = code
    .replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, '')
    .match(/[A-Za-z_$][\w$]*/g);
  const found = new Set<string>();
  for (const owned of OWNED) {
    if (owned.owners.some((folder) => file.startsWith(`src/${folder}`))) continue;
    for (const literal of owned.literals) if (literals.has(literal)) found.add(`${file}: '${literal}'`);
    for (const fragment of owned.identifiers)
      for (const id of identifiers ?? []) if (id.includes(fragment)) found.add(`${file}: ${id}`);
  }
  for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
    for (const owned of OWNED) {
      if (!owned.folder || !target.startsWith(`src/${owned.folder}`)) continue;
      if (!owned.owners.some((folder) => file.startsWith(`src/${folder}`))) found.add(`${file} -> ${m[1]}`);
    }
  }
  return [...found];
}

// dist/test/unit/ -> the repository root.
const ROOT = path.resolve(import.meta.dirname, '../../..');

function engineFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of ['src', 'scripts', 'test/helpers']) {
    for (const entry of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.relative(ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (file.startsWith('src/generated/')) continue;
      out.set(file, readFileSync(path.join(ROOT, file), 'utf8'));
    }
  }
  return out;
}

describe('job names stay in their folders', () => {
  it('no engine file (src/ outside src/jobs/<name>/, scripts/, test/helpers/) names a job', () => {
    const files = engineFiles();
    assert.ok(files.size > 100, `expected the sources under ${ROOT}, found ${files.size} files`);
    const found = [...files].flatMap(([file, source]) => leaks(file, source));
    assert.deepEqual(found, []);
  });

  it('has an entry for every job module, owning its name and every settings variable', () => {
    for (const m of JOB_MODULES) {
      const entry = OWNED.find((o) => o.folder === `jobs/${m.name}/`);
      assert.ok(entry, `job module ${m.name} has no entry in OWNED: add one (its name, settings and vocabulary)`);
      assert.ok(entry.literals.includes(m.name));
      const shape = (m.settings as unknown as { shape?: Record<string, unknown> }).shape ?? {};
      for (const key of Object.keys(shape))
        assert.ok(
          OWNED.some((o) => o.literals.includes(key) && o.owners.includes(`jobs/${m.name}/`)),
          `${m.name}: settings variable ${key} is owned by no entry of OWNED that lists jobs/${m.name}/`,
        );
    }
  });

  it('finds a name in a literal or an identifier, not in a comment or a longer string', () => {
    const source = [
      "const a = 'hot-products';",
      'const b = config.RECHARGE_GROUP;',
      'import { createDailyActiveUsersJob } from "x";',
      '// abnormal-orders in a comment',
      '/* DAU_GROUP in a block comment */',
      "const d = 'the recharge-metrics job';",
      'const e = `user-behavior`;',
    ].join('\n');
    assert.deepEqual(leaks('src/runner/x.ts', source), [
      'src/runner/x.ts: RECHARGE_GROUP',
      "src/runner/x.ts: 'hot-products'",
      'src/runner/x.ts: createDailyActiveUsersJob',
      "src/runner/x.ts: 'user-behavior'",
    ]);
  });

  it("lets a job's folder, the readers of its topic and the module list name it, and no other job folder", () => {
    assert.deepEqual(
      leaks('src/jobs/hot-products/module.ts', "const g = config.HOT_PRODUCTS_GROUP; 'product-clicks';"),
      [],
    );
    assert.deepEqual(leaks('src/jobs/daily-active-users/module.ts', "'user-behavior'; config.USER_BEHAVIOR_TOPIC"), []);
    assert.deepEqual(leaks('src/jobs/index.ts', 'abnormalOrdersModule, hotProductsModule'), []);
    assert.deepEqual(leaks('src/jobs/abnormal-orders/x.ts', "const other = 'recharge-metrics';"), [
      "src/jobs/abnormal-orders/x.ts: 'recharge-metrics'",
    ]);
  });

  it("finds an import of a job's folder outside its owners and the module list", () => {
    const source = "import { x } from '../jobs/hot-products/module.js';\nimport type { Y } from '../engine/job.js';";
    assert.deepEqual(leaks('src/runner/y.ts', source), ['src/runner/y.ts -> ../jobs/hot-products/module.js']);
    assert.deepEqual(leaks('test/helpers/z.ts', "import { f } from '../../src/jobs/user-behavior/testing.js';"), [
      'test/helpers/z.ts -> ../../src/jobs/user-behavior/testing.js',
    ]);
    assert.deepEqual(leaks('src/jobs/daily-active-users/m.ts', "import { s } from '../user-behavior/s.js';"), []);
    assert.deepEqual(leaks('src/jobs/daily-active-users/m.ts', "import { s } from '../abnormal-orders/s.js';"), [
      'src/jobs/daily-active-users/m.ts -> ../abnormal-orders/s.js',
    ]);
    assert.deepEqual(leaks('src/jobs/index.ts', "import { m } from './hot-products/module.js';"), []);
  });
});
