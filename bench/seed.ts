// Seeding recruiting-agency (issue 10): generate + load with multi-row INSERTs in one transaction, side by side with
// `psql -f` loading the same rows as a plain SQL dump (the floor), each into a freshly migrated schema.
//   npm run bench -- seed [--runs N]
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import pg from 'pg'
import {applyMigrations, readMigrations} from '../src/adapters/databases/postgres/migrations.js'
import {generateSeed, seedAnchor} from '../src/adapters/databases/seeds/generate-seed.js'
import {insertSeedTables, seedDump} from '../src/adapters/databases/seeds/load-seed.js'
import {readSeedProfile} from '../src/adapters/databases/seeds/seed-profile.js'
import type {Context} from './lib/context.js'
import {log, run} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
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

const DEFAULT_RUNS = 5

/** recruiting-agency's seed loaded by demo against `psql -f` of the same rows (the floor), interleaved, in a fresh database. */
export async function seed(ctx: Context): Promise<Section> {
  const url = await ctx.database()
  const runs = ctx.runs ?? DEFAULT_RUNS
  const dumpFile = join(ctx.workDir, 'seed-dump.sql')
  const tables = generateSeed(profile, 7, seedAnchor(new Date()))
  writeFileSync(dumpFile, seedDump(tables))
  const rows = tables.reduce((n, t) => n + t.rows.length, 0)
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const a: number[] = []
  const b: number[] = []
  try {
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always meets a colder or warmer server.
      const order = i % 2 === 0 ? ['ours', 'floor'] : ['floor', 'ours']
      for (const which of order) {
        if (which === 'ours') {
          await freshSchema(client, 'bench_seed_ours')
          a.push(await ours(client, 'bench_seed_ours'))
        } else {
          await freshSchema(client, 'bench_seed_floor')
          b.push(await floor(url, 'bench_seed_floor', dumpFile))
        }
      }
      log(`seed #${i + 1}: demo ${ms(a.at(-1)!)}, psql -f ${ms(b.at(-1)!)}`)
    }
  } finally {
    await client.end()
  }
  const [x, y] = [summarize(a), summarize(b)]
  const counts = tables.map((t) => `${t.rows.length} ${t.name}`).join(', ')
  const verdict: Verdict = {
    what: 'Seeding recruiting-agency (generate + load, one transaction) vs `psql -f` of the same rows',
    target: '≤ 2 s (max of runs); ratio reported',
    measured: `median ${ms(x.median)}, max ${ms(x.max)} (psql -f ${ms(y.median)}, ${ratio(x.median, y.median)})`,
    met: x.max <= 2000,
  }
  const markdown = `### seed

Seeding \`recruiting-agency\` (issue 10): ${rows} rows (${counts}), seed value 7, each run into a freshly migrated
schema of a fresh database. demo: generate the rows with @faker-js/faker and load them with multi-row INSERTs in one
transaction (the code create and reset run), timed in this process. The floor: \`psql -X -q -f\` of the same rows
as a plain SQL dump (\`seedDump\`), timed from spawn to exit, so it includes starting psql and connecting. ${runs} runs
each, alternating which goes first.

${header(['Ratio to psql -f (median)'])}
${row('demo: generate + multi-row INSERT, one transaction', x, [ratio(x.median, y.median)])}
${row('\`psql -f\` of the same rows as a SQL dump (floor)', y, ['1.00×'])}
`
  return {name: 'seed', markdown, verdicts: [verdict]}
}
