import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GUANGDONG_CITIES, GUANGDONG_PROVINCE_CODE } from '../../src/jobs/recharge-metrics/guangdong-cities.js';
import { MIGRATIONS_DIR } from '../../src/store/migrations.js';

describe('the seeded cities', () => {
  it('should be the 21 prefecture-level cities of Guangdong, codes 4401xx..4453xx, unique, in Guangdong', () => {
    assert.equal(GUANGDONG_CITIES.length, 21);
    assert.equal(new Set(GUANGDONG_CITIES.map((c) => c.code)).size, 21);
    for (const c of GUANGDONG_CITIES) {
      assert.match(c.code, /^44\d{2}00$/);
      assert.ok(c.longitude > 109.6 && c.longitude < 117.3, `${c.nameEn} longitude ${c.longitude}`);
      assert.ok(c.latitude > 20.2 && c.latitude < 25.6, `${c.nameEn} latitude ${c.latitude}`);
    }
    assert.equal(GUANGDONG_CITIES[0].nameEn, 'Guangzhou');
    assert.equal(GUANGDONG_CITIES.at(-1)!.nameEn, 'Yunfu');
  });

  it('should be exactly the rows the migration inserts into city', async () => {
    const sql = await readFile(path.join(MIGRATIONS_DIR, '20261121040000_recharge_metrics', 'migration.sql'), 'utf8');
    const rows = [...sql.matchAll(/\('(\d+)', '([^']+)', '([^']+)', ([\d.]+), ([\d.]+), '(\d+)'\)/g)].map((m) => ({
      code: m[1],
      name: m[2],
      nameEn: m[3],
      longitude: Number(m[4]),
      latitude: Number(m[5]),
      province: m[6],
    }));
    assert.deepEqual(
      rows,
      GUANGDONG_CITIES.map((c) => ({
        code: c.code,
        name: c.name,
        nameEn: c.nameEn,
        longitude: c.longitude,
        latitude: c.latitude,
        province: GUANGDONG_PROVINCE_CODE,
      })),
    );
  });
});
