// Seeding recruiting-agency (issue 10): generate + load with multi-row INSERTs in one transaction, side by side with
// `psql -f` loading the same rows as a plain SQL dump (the floor), each into a freshly migrated schema.
//   node --import tsx bench/seed.ts <postgres-url> [runs]
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import pg from 'pg'
import {applyMigrations, readMigrations} from '../src/adapters/databases/postgres/migrations.js'
import {generateSeed, seedAnchor} from '../src/adapters/databases/seeds/generate-seed.js'
import {insertSeedTables, seedDump} from '../src/adapters/databases/seeds/load-seed.js'
import {readSeedProfile} from '../src/adapters/databases/seeds/seed-profile.js'
import {run} from './lib/proc.js'
import {summarize} from './lib/stats.js'

const REPO = join(import.meta.dirname, '..')
const migrations = readMigrations(join(REPO, 'templates', 'migrations'))
const profile = readSeedProfile(join(REPO, 'seeds'), 'recruiting-agency')

async function freshSchema(client: pg.Client, name: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
  await client.query('BEGIN')
  await client.query(`CREATE SCHEMA ${name}`)
  await applyMigrations(client, name, migrations)
  await client.query('COMMIT')
}

async function ours(client: pg.Client, schema: string): Promise<number> {
  const started = performance.now()
  await client.query('BEGIN')
  await client.query(`SET LOCAL search_path = ${schema}`)
  await insertSeedTables(client, generateSeed(profile, 7, seedAnchor(new Date())))
  await client.query('COMMIT')
  return performance.now() - started
}

async function floor(url: string, schema: string, dumpFile: string): Promise<number> {
  const started = performance.now()
  const r = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', dumpFile], {
    env: {...process.env, PGOPTIONS: `-c search_path=${schema}`},
  })
  if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`)
  return performance.now() - started
}

async function main(): Promise<void> {
  const url = process.argv[2]
  const runs = Number(process.argv[3] ?? 5)
  if (!url) throw new Error('usage: bench/seed.ts <postgres-url> [runs]')
  const dumpFile = join(REPO, 'bench', '.seed-dump.sql')
  const tables = generateSeed(profile, 7, seedAnchor(new Date()))
  writeFileSync(dumpFile, seedDump(tables))
  const rows = tables.reduce((n, t) => n + t.rows.length, 0)
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const a: number[] = []
  const b: number[] = []
  try {
    for (let i = 0; i < runs; i++) {
      await freshSchema(client, 'bench_seed_ours')
      a.push(await ours(client, 'bench_seed_ours'))
      await freshSchema(client, 'bench_seed_floor')
      b.push(await floor(url, 'bench_seed_floor', dumpFile))
    }
    await client.query('DROP SCHEMA IF EXISTS bench_seed_ours CASCADE; DROP SCHEMA IF EXISTS bench_seed_floor CASCADE')
  } finally {
    await client.end()
  }
  const [x, y] = [summarize(a), summarize(b)]
  process.stdout.write(
    `recruiting-agency: ${rows} rows, ${runs} runs\n` +
      `demo (generate + multi-row INSERT, one transaction): median ${x.median.toFixed(0)} ms, max ${x.max.toFixed(0)} ms\n` +
      `psql -f of the same rows as a SQL dump (floor):     median ${y.median.toFixed(0)} ms, max ${y.max.toFixed(0)} ms\n` +
      `ratio (median): ${(x.median / y.median).toFixed(2)}x; target <= 2000 ms: ${x.max <= 2000 ? 'met' : 'MISSED'}\n`,
  )
}

await main()
