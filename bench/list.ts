import pg from 'pg'
import {mkdtempSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {openEmbedded} from '../src/adapters/postgres/embedded.ts'
import {readHolder} from '../src/adapters/postgres/embedded-lock.ts'
import {migrate} from '../src/adapters/postgres/migrate.ts'
import {openStore} from '../src/adapters/postgres/open-store.ts'
import type {Context} from './lib/context.js'
import {withoutConfigOnListPath} from './lib/package.js'
import {log, run, runOk, type RunResult} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {summarize, type Summary} from './lib/stats.js'

const ROWS = 10_000
const OWNERS = 40
const WARMUPS = 2
const DEFAULT_RUNS = 20
const TARGET_MS = 500
const FILTER_OWNER = 'user7@example.com'
const T = 'demo_orchestrator.demo_instances'
const LIVE = `('creating', 'ready', 'degraded', 'destroying')`

// 10,000 demos over ~4 days: 40 owners, 3 types; status by block so that every owner has every status.
// Per 20 blocks: 11 destroyed, 2 failed, 5 ready, 1 creating, 1 degraded/destroying: about 35% live.
const SEED_SQL = `
INSERT INTO ${T} (id, name, namespace, demo_type, status, portal_url, candidate_url, created_at, updated_at,
                  expires_at, ready_at, destroyed_at, created_by, phase_timings, metadata)
SELECT id, CASE WHEN i % 3 = 0 THEN 'bench-' || i END, 'demo-' || id,
       (ARRAY['recruiting-agency', 'enterprise', 'startup'])[1 + i % 3], st,
       'https://portal-' || id || '.demo.localhost', 'https://candidate-' || id || '.demo.localhost',
       c, c, c + interval '2 hours',
       CASE WHEN st IN ('ready', 'degraded', 'destroying', 'destroyed') THEN c + interval '90 seconds' END,
       CASE WHEN st = 'destroyed' THEN c + interval '1 hour' END,
       'user' || (i % ${OWNERS}) || '@example.com',
       '{"namespace": 0.1, "apply": 1.2, "wait": 20.5}', '{"seeded": "bench"}'
FROM (
  SELECT i, 'b' || lpad(i::text, 7, '0') AS id, now() - i * interval '37 seconds' AS c,
         CASE WHEN (i / ${OWNERS}) % 20 < 11 THEN 'destroyed'
              WHEN (i / ${OWNERS}) % 20 < 13 THEN 'failed'
              WHEN (i / ${OWNERS}) % 20 < 18 THEN 'ready'
              WHEN (i / ${OWNERS}) % 20 = 18 THEN 'creating'
              WHEN i % 2 = 0 THEN 'degraded' ELSE 'destroying' END AS st
  FROM generate_series(1, ${ROWS}) AS i
) AS s`

interface Variant {
  label: string
  args: string[]
  /** The same page as the store's list query (window count included), for psql. */
  sql: string
}

const select = (where: string, limit: number) =>
  `SELECT *, count(*) OVER () AS total_rows FROM ${T} ${where} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET 0`

const VARIANTS: Variant[] = [
  {label: 'list --json (default: live, limit 25)', args: ['list', '--json'], sql: select(`WHERE status IN ${LIVE}`, 25)},
  {label: 'list --json --status all --limit 100', args: ['list', '--json', '--status', 'all', '--limit', '100'], sql: select('', 100)},
  {
    label: `list --json --created-by ${FILTER_OWNER}`,
    args: ['list', '--json', '--created-by', FILTER_OWNER],
    sql: select(`WHERE status IN ${LIVE} AND created_by = '${FILTER_OWNER}'`, 25),
  },
  {
    label: `list --json --status all --created-by … --limit 100`,
    args: ['list', '--json', '--status', 'all', '--created-by', FILTER_OWNER, '--limit', '100'],
    sql: select(`WHERE created_by = '${FILTER_OWNER}'`, 100),
  },
]

async function seed(url: string): Promise<Record<string, number>> {
  const opened = await openStore({databaseUrl: url, stateDir: '/nonexistent'})
  await opened.close()
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    await client.query(SEED_SQL)
    await client.query(`ANALYZE ${T}`)
    const {rows} = await client.query<{status: string; n: number}>(`SELECT status, count(*)::int AS n FROM ${T} GROUP BY status ORDER BY status`)
    return Object.fromEntries(rows.map((r) => [r.status, r.n]))
  } finally {
    await client.end()
  }
}

function checkDemo(r: RunResult, v: Variant, expectedRows: number): void {
  if (r.code !== 0) throw new Error(`demo ${v.args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  const out = JSON.parse(r.stdout) as {demos: unknown[]}
  if (out.demos.length !== expectedRows) throw new Error(`demo ${v.args.join(' ')} returned ${out.demos.length} rows, psql ${expectedRows}`)
}

function m0(times: number[]): Summary | undefined {
  return times.length > 0 ? summarize(times) : undefined
}

const EMBEDDED_RUNS = 10
const EMBEDDED_RATIO = 2
const EMBEDDED_RSS_MIB = 150
const INIT_EXTRA_MS = 1000
/** No state database URL: the command uses the embedded store in DEMO_STATE_DIR. */
const embeddedEnv = (dir: string) => ({DEMO_DATABASE_URL: '', DATABASE_URL: '', DEMO_STATE_DIR: dir})

/** An embedded store (PGlite) in a new directory with the same 10,000 rows as the Postgres one. */
async function seededEmbedded(ctx: Context): Promise<string> {
  const dir = join(mkdtempSync(join(ctx.workDir, 'embedded-')), 'state')
  const db = openEmbedded(dir)
  try {
    await migrate(db)
    await db.query(SEED_SQL)
    await db.query(`ANALYZE ${T}`)
  } finally {
    await db.close()
  }
  return dir
}

interface EmbeddedResult {
  markdown: string
  verdicts: Verdict[]
}

const rss = (values: number[]) => `${summarize(values).median.toFixed(0)} MiB`

/** The pid of the embedded store's server for `dir` (store-server.ts holds `<dir>.server.lock`), if one runs. */
function serverPid(dir: string): number | undefined {
  return readHolder(`${dir}.server.lock`)?.pid
}

/** A process's peak resident memory so far (Linux's VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m)
  if (!line?.[1]) throw new Error(`no VmHWM for pid ${pid}`)
  return Number(line[1]) / 1024
}

/** Stops the store's server for `dir` (SIGTERM, as at logout) and waits until it has exited: the next command finds none. */
async function stopServer(dir: string): Promise<void> {
  const pid = serverPid(dir)
  if (pid === undefined) return
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  for (;;) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

type StoreVariant = 'embedded' | 'cold' | 'postgres' | 'fresh'

/**
 * The embedded store a new user gets: `demo list --json` on it (its server running, as for every command
 * within 60 s of the last) and with no server running (the first command after a pause), against the same on
 * shared Postgres (same rows), interleaved; and the first command on a new machine (an empty state directory:
 * the store is initialised) against the same command on an existing store. Memory: the command's peak and its
 * server's (a separate process).
 */
async function embeddedList(ctx: Context, url: string): Promise<EmbeddedResult> {
  const runs = ctx.runs ?? EMBEDDED_RUNS
  const dir = await seededEmbedded(ctx)
  const args = ['list', '--json']
  const times: Record<StoreVariant, number[]> = {embedded: [], cold: [], postgres: [], fresh: []}
  const peaks: Record<StoreVariant, number[]> = {embedded: [], cold: [], postgres: [], fresh: []}
  const serverPeaks: number[] = []
  for (let i = -WARMUPS; i < runs; i++) {
    await stopServer(dir)
    const c = await ctx.demo(args, embeddedEnv(dir))
    const e = await ctx.demo(args, embeddedEnv(dir))
    const p = await ctx.demo(args, {DEMO_DATABASE_URL: url})
    const freshDir = join(mkdtempSync(join(ctx.workDir, 'fresh-')), 'state')
    const f = await ctx.demo(args, embeddedEnv(freshDir))
    await stopServer(freshDir)
    for (const r of [c, e, p, f]) if (r.code !== 0) throw new Error(`demo list exited ${r.code}: ${r.stderr.trim()}`)
    if (i < 0) continue
    const pid = serverPid(dir)
    if (pid === undefined) throw new Error(`no store server runs for ${dir} after demo list`)
    serverPeaks.push(peakRssMiB(pid))
    for (const [key, r] of [
      ['cold', c],
      ['embedded', e],
      ['postgres', p],
      ['fresh', f],
    ] as const) {
      times[key].push(r.ms)
      peaks[key].push(r.maxRssMiB)
    }
  }
  await stopServer(dir)
  const [se, sc, sp, sf] = [summarize(times.embedded), summarize(times.cold), summarize(times.postgres), summarize(times.fresh)]
  const extra = sf.median - sc.median
  const commandPeak = summarize(peaks.embedded).median
  const serverPeak = Math.max(...serverPeaks)
  log(
    `list (embedded): ${ms(se.median)} ${rss(peaks.embedded)}, no server ${ms(sc.median)}, server peak ${serverPeak.toFixed(0)} MiB; ` +
      `Postgres ${ms(sp.median)} ${rss(peaks.postgres)}; new store ${ms(sf.median)}`,
  )
  const verdicts: Verdict[] = [
    {
      what: '`demo list --json` on the embedded store vs on shared Postgres (ratio of medians)',
      target: `≤ ${EMBEDDED_RATIO}×`,
      measured: `${ratio(se.median, sp.median)} (embedded ${ms(se.median)}, Postgres ${ms(sp.median)}; with no store server running yet ${ms(sc.median)}, ${ratio(sc.median, sp.median)})`,
      met: se.median <= EMBEDDED_RATIO * sp.median,
    },
    {
      what: '`demo list --json` on the embedded store: peak RSS of the command (median) and of its store server (max)',
      target: `< ${EMBEDDED_RSS_MIB} MiB`,
      measured: `command ${commandPeak.toFixed(0)} MiB, server ${serverPeak.toFixed(0)} MiB (Postgres path ${rss(peaks.postgres)})`,
      met: commandPeak < EMBEDDED_RSS_MIB && serverPeak < EMBEDDED_RSS_MIB,
    },
    {
      what: 'first command on a new machine (embedded store initialised) vs the same on an existing store with no server running',
      target: `< ${ms(INIT_EXTRA_MS)} extra`,
      measured: `${ms(extra)} extra (${ms(sf.median)} vs ${ms(sc.median)})`,
      met: extra < INIT_EXTRA_MS,
    },
  ]
  const markdown = `
#### The embedded store (PGlite)

The same ${ROWS.toLocaleString('en')} rows in an embedded store (no state database URL, \`DEMO_STATE_DIR\` set),
served by its store server (src/adapters/postgres/store-server.ts: the first command starts it, it stays up 60 s
after the last). \`demo list --json\` on it with its server running (every command within a minute of the last),
with no server running (stopped by SIGTERM before each run: the command starts one, as after a pause), on the
Postgres database above, and on a new, empty state directory (what the first command on a new machine does: the
store is made from the pre-initialised template the build ships, see src/adapters/postgres/embedded-template.ts),
interleaved, ${runs} runs after ${WARMUPS} warm-ups. Peak RSS of the command from \`/usr/bin/time\`; the server is
a process of its own: its peak (VmHWM) after each run, largest shown.

${header(['Ratio to Postgres (median)', 'Peak RSS (median)'])}
${row('`demo list --json`, embedded store, server running', se, [ratio(se.median, sp.median), rss(peaks.embedded)])}
${row('`demo list --json`, embedded store, no server running (starts one)', sc, [ratio(sc.median, sp.median), rss(peaks.cold)])}
${row('`demo list --json`, shared Postgres (peer)', sp, ['1.00×', rss(peaks.postgres)])}
${row('`demo list --json`, new embedded store (first command)', sf, [ratio(sf.median, sp.median), rss(peaks.fresh)])}

The store server's peak RSS: ${serverPeak.toFixed(0)} MiB (largest of ${serverPeaks.length} readings; it stays resident until the server stops).

Goals: embedded ≤ ${EMBEDDED_RATIO}× Postgres: **${verdicts[0]!.met ? 'met' : 'missed'}**; under ${EMBEDDED_RSS_MIB} MiB (command and server):
**${verdicts[1]!.met ? 'met' : 'missed'}**; a new store under ${ms(INIT_EXTRA_MS)} extra: **${verdicts[2]!.met ? 'met' : 'missed'}** (${ms(extra)}).
`
  return {markdown, verdicts}
}

/** `demo list` over 10,000 seeded demos against psql running the same query. */
export async function list(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const url = await ctx.database()
  const counts = await seed(url)
  log(`list: seeded ${ROWS} rows ${JSON.stringify(counts)}`)
  const env = {DEMO_DATABASE_URL: url}
  const psql = (sql: string) => run('psql', ['-X', '-q', '-A', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {cwd: ctx.workDir})
  const manifested = await ctx.manifested()
  const noZod = withoutConfigOnListPath(manifested ?? ctx.pkg)
  if (noZod) ctx.extraPackages.push(noZod)
  else log('list: dist/deps.js changed shape; the no-zod prototype row is skipped')
  const results: Array<{v: Variant; demo: Summary; peer: Summary; withManifest?: Summary | undefined; noZod?: Summary | undefined; sqlMs: number}> =
    []
  for (const v of VARIANTS) {
    const expected = (await runOk('psql', ['-X', '-q', '-A', '-t', '-d', url, '-c', `SELECT count(*) FROM (${v.sql}) AS page`])).stdout.trim()
    const plan = await runOk('psql', ['-X', '-q', '-A', '-t', '-d', url, '-c', `EXPLAIN (ANALYZE, FORMAT JSON) ${v.sql}`])
    const sqlMs = (JSON.parse(plan.stdout) as Array<{'Execution Time': number}>)[0]!['Execution Time']
    const demoTimes: number[] = []
    const peerTimes: number[] = []
    const manifestTimes: number[] = []
    const noZodTimes: number[] = []
    for (let i = -WARMUPS; i < runs; i++) {
      const d = await ctx.demo(v.args, env)
      checkDemo(d, v, Number(expected))
      const p = await psql(v.sql)
      if (p.code !== 0) throw new Error(`psql exited ${p.code}: ${p.stderr.trim()}`)
      const m = manifested ? await ctx.demo(v.args, env, {pkg: manifested}) : undefined
      if (m) checkDemo(m, v, Number(expected))
      const z = noZod ? await ctx.demo(v.args, env, {pkg: noZod}) : undefined
      if (z) checkDemo(z, v, Number(expected))
      if (i >= 0) {
        if (z) noZodTimes.push(z.ms)
        demoTimes.push(d.ms)
        peerTimes.push(p.ms)
        if (m) manifestTimes.push(m.ms)
      }
    }
    results.push({v, demo: summarize(demoTimes), peer: summarize(peerTimes), withManifest: m0(manifestTimes), noZod: m0(noZodTimes), sqlMs})
    const last = results.at(-1)!
    log(
      `list: ${v.label}: demo ${ms(last.demo.median)}${last.noZod ? `, no-zod prototype ${ms(last.noZod.median)}` : ''}, psql ${ms(last.peer.median)}, query ${sqlMs.toFixed(1)} ms`,
    )
  }
  const embedded = await embeddedList(ctx, url)
  const worst = results.reduce((a, b) => (b.demo.median > a.demo.median ? b : a))
  const verdicts: Verdict[] = [
    {
      what: '`demo list` over 10,000 rows (slowest variant)',
      target: `≤ ${TARGET_MS} ms`,
      measured: `median ${ms(worst.demo.median)}, p95 ${ms(worst.demo.p95)} (psql ${ms(worst.peer.median)}, ${ratio(worst.demo.median, worst.peer.median)})`,
      met: results.every((r) => r.demo.median <= TARGET_MS),
    },
    ...embedded.verdicts,
  ]
  const rows = results.flatMap((r) => [
    row(`\`demo ${r.v.label}\``, r.demo, [
      r.demo.median <= TARGET_MS ? 'met' : '**missed**',
      ratio(r.demo.median, r.peer.median),
      `${r.sqlMs.toFixed(1)} ms`,
    ]),
    ...(r.withManifest
      ? [
          row('↳ same build + `oclif manifest`', r.withManifest, [
            r.withManifest.median <= TARGET_MS ? 'would be met' : 'would still miss',
            ratio(r.withManifest.median, r.peer.median),
            '',
          ]),
        ]
      : []),
    ...(r.noZod
      ? [
          row('↳ prototype: no config/zod on the list path', r.noZod, [
            r.noZod.median <= TARGET_MS ? 'would be met' : 'would still miss',
            ratio(r.noZod.median, r.peer.median),
            '',
          ]),
        ]
      : []),
    row('↳ peer: `psql -c` same query', r.peer, ['(peer)', '1.00×', '']),
  ])
  const markdown = `### list

A fresh database, migrated by \`openStore\`, seeded with ${ROWS.toLocaleString('en')} rows in
\`demo_instances\` (${OWNERS} owners, 3 types; ${Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ')}),
then \`ANALYZE\`. ${runs} runs per command after ${WARMUPS} warm-ups, demo and psql interleaved.
The peer is \`psql -X -A -d <url> -c '<sql>'\` running the same page query the store runs
(\`SELECT *, count(*) OVER () … ORDER BY created_at DESC, id LIMIT n\`), so the ratio is the CLI's overhead over
a bare client process. Each demo result is checked to have as many rows as psql's.${
    noZod
      ? `
"prototype: no config/zod on the list path" is the same build with dist/deps.js patched (bench/lib/package.ts
\`withoutConfigOnListPath\`) so that list takes the database URL from the environment and never imports config.js,
js-yaml or zod: it measures a suggested change, it is not shipped code.`
      : ''
  }${
    manifested
      ? `
"same build + \`oclif manifest\`" is the package under test with a generated oclif.manifest.json, interleaved too.`
      : ''
  }

${header([`Target ≤ ${TARGET_MS} ms`, 'Ratio to psql (median)', 'Query execution (EXPLAIN ANALYZE)'])}
${rows.join('\n')}
${embedded.markdown}`
  return {name: 'list', markdown, verdicts}
}
