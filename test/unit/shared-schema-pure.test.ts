import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {splitStatements} from '../../src/adapters/databases/postgres/sql-statements.js'
import {demoDatabaseUrl} from '../../src/adapters/databases/shared-schema.js'
import {generateSeed, seedAnchor} from '../../src/adapters/databases/seeds/generate-seed.js'
import {seedDump} from '../../src/adapters/databases/seeds/load-seed.js'
import {readSeedProfile} from '../../src/adapters/databases/seeds/seed-profile.js'
import {loadConfig} from '../../src/config.js'
import {parseSeedValue} from '../../src/core/seed-value.js'
import {tempDir} from '../support/databases.js'
import {REPO, SEEDS} from '../support/shared-schema.js'

describe('splitStatements', () => {
  it('splits at top-level semicolons and names the line each statement starts on', () => {
    const sql =
      "-- head\nCREATE TABLE a (x text DEFAULT ';');\n\n/* c; */ INSERT INTO a VALUES ('it''s; fine');\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- tail only\n"
    assert.deepEqual(
      splitStatements(sql).map((s) => [s.line, s.sql.slice(0, 12)]),
      [
        [2, 'CREATE TABLE'],
        [4, 'INSERT INTO '],
        [5, 'CREATE FUNCT'],
      ],
    )
  })
})

describe('parseSeedValue', () => {
  it('accepts whole numbers from 0 to 2147483647', () => {
    assert.deepEqual(
      ['0', '42', '2147483647'].map((v) => parseSeedValue(v)),
      [0, 42, 2_147_483_647],
    )
  })
  for (const bad of ['abc', '-1', '1.5', '2147483648', '', '1e3', '0x10']) {
    it(`refuses "${bad}" as a usage error`, () => {
      assert.throws(
        () => parseSeedValue(bad),
        (error: Error & {code?: string}) => error.code === 'E_USAGE' && /--seed-value/.test(error.message),
      )
    })
  }
})

describe('generateSeed', () => {
  const profile = readSeedProfile(SEEDS, 'recruiting-agency')
  const anchor = seedAnchor(new Date('2026-11-25T15:30:00Z'))

  it('is a pure function of profile, seed value and anchor day', () => {
    assert.equal(seedDump(generateSeed(profile, 9, anchor)), seedDump(generateSeed(profile, 9, anchor)))
    assert.notEqual(seedDump(generateSeed(profile, 9, anchor)), seedDump(generateSeed(profile, 10, anchor)))
  })

  it('tells the recruiting-agency story: Acme Corporation and TechStart Inc, tens of jobs, hundreds of candidates, a thousand applications', () => {
    const tables = Object.fromEntries(generateSeed(profile, 1, anchor).map((t) => [t.name, t]))
    assert.ok(tables.companies?.rows.some((r) => r[1] === 'Acme Corporation'))
    assert.ok(tables.companies?.rows.some((r) => r[1] === 'TechStart Inc'))
    assert.deepEqual([tables.jobs?.rows.length, tables.candidates?.rows.length, tables.applications?.rows.length], [40, 400, 1000])
    const dates = tables.applications?.rows.map((r) => Date.parse(String(r[4]))) ?? []
    assert.ok(
      dates.every((d) => d <= anchor.getTime() && d >= anchor.getTime() - 61 * 86_400_000),
      'dates are relative to the anchor day',
    )
  })

  it('makes enterprise larger (business units, thousands of candidates) and startup small', () => {
    const rows = (name: string) => Object.fromEntries(generateSeed(readSeedProfile(SEEDS, name), 1, anchor).map((t) => [t.name, t.rows.length]))
    const enterprise = rows('enterprise')
    const startup = rows('startup')
    assert.ok((enterprise.business_units ?? 0) >= 6 && (enterprise.candidates ?? 0) >= 1000)
    assert.ok((startup.candidates ?? 0) < 100 && (startup.jobs ?? 0) < 10)
  })
})

describe('demoDatabaseUrl', () => {
  it('puts the role and password on the shared server and database, with search_path on the schema', () => {
    const url = new URL(demoDatabaseUrl('postgres://admin:secret@db.example.com:5433/app?sslmode=require', 'demo_k3x9a2bq', 'p@ss'))
    assert.deepEqual(
      [url.username, decodeURIComponent(url.password), url.host, url.pathname],
      ['demo_k3x9a2bq', 'p@ss', 'db.example.com:5433', '/app'],
    )
    assert.equal(url.searchParams.get('options'), '-c search_path=demo_k3x9a2bq')
  })
})

describe('database.migrationsDir', () => {
  const packageRoot = REPO
  it('defaults to the built-in templates/migrations', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'demo.config.yaml'), 'database: {mode: shared-schema}\n')
    assert.equal(loadConfig({cwd: dir, env: {}, packageRoot}).migrationsDir, join(REPO, 'templates', 'migrations'))
  })
  it('resolves a directory of the project relative to demo.config.yaml', () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'db'))
    writeFileSync(join(dir, 'demo.config.yaml'), 'database: {migrationsDir: db}\n')
    assert.equal(loadConfig({cwd: dir, env: {}, packageRoot}).migrationsDir, join(dir, 'db'))
  })
  for (const outside of ['..', '/etc', 'db/../../x']) {
    it(`refuses "${outside}", outside the project, as a config error`, () => {
      const dir = tempDir()
      writeFileSync(join(dir, 'demo.config.yaml'), `database: {migrationsDir: "${outside}"}\n`)
      assert.throws(
        () => loadConfig({cwd: dir, env: {}, packageRoot}),
        (error: Error & {code?: string}) => error.code === 'E_CONFIG' && /outside the project/.test(error.message),
      )
    })
  }
  it('refuses a seedFile outside the project, and more than one seed for a type', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'demo.config.yaml'), 'types: {a: {seedFile: ../x.sql}}\n')
    assert.throws(() => loadConfig({cwd: dir, env: {}, packageRoot}), /types\.a\.seedFile.*outside the project/)
    writeFileSync(join(dir, 'demo.config.yaml'), 'types: {a: {seed: startup, seedFile: x.sql}}\n')
    assert.throws(() => loadConfig({cwd: dir, env: {}, packageRoot}), /at most one of seed, seedFile and seedCommand/)
  })
})
