// Database per demo (issue 10): `demo create` with database.mode shared-schema against the same create with mode
// none on the same cluster (time to ready, and the database steps' share of it, from the CLI's own phase timings),
// then 20 shared-schema creates started at once (all ready? the shared database's peak connections against
// max_connections, sampled from pg_stat_activity).
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import pg from 'pg'
import {BUILT_IN_DEMO, ensureCapacity} from './lib/capacity.js'
import type {Context} from './lib/context.js'
import {databaseName} from './lib/env.js'
import {log, pool, tail} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {BENCH_OWNER, deleteNamespaces} from './lib/stack.js'
import {summarize} from './lib/stats.js'

const TYPE = 'recruiting-agency'
const DEFAULT_RUNS = 3
const CONCURRENT = 20
const EXHAUSTED = /53300|too many clients|remaining connection slots|too many connections/i

interface Created {
  ok: boolean
  ms: number
  id?: string | undefined
  namespace?: string | undefined
  timings: Record<string, number>
  error?: string | undefined
  exhausted: boolean
}

/** A config file per mode: the built-in defaults, the bench's raised caps, and the database mode. */
function configFor(ctx: Context, mode: 'none' | 'shared-schema'): string {
  const file = join(ctx.workDir, `demo.database-${mode}.yaml`)
  writeFileSync(file, `limits:\n  perOwner: 100\n  global: 100\ndatabase:\n  mode: ${mode}\n  connectionLimit: 5\n`)
  return file
}

async function createOne(ctx: Context, env: NodeJS.ProcessEnv, waitTimeout: string): Promise<Created> {
  const r = await ctx.demo(['create', '--type', TYPE, '--json', '--wait-timeout', waitTimeout], env, {timeoutMs: 900_000})
  let out: {id?: string; namespace?: string; status?: string; phaseTimings?: Record<string, number>; error?: {code?: string; message?: string}} = {}
  try {
    out = JSON.parse(r.stdout) as typeof out
  } catch {
    // reported below
  }
  if (out.namespace) ctx.namespaces.add(out.namespace)
  const ok = r.code === 0 && out.status === 'ready'
  const error = ok ? undefined : out.error ? `${out.error.code}: ${out.error.message}` : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 3)}`
  return {
    ok,
    ms: r.ms,
    id: out.id,
    namespace: out.namespace,
    timings: out.phaseTimings ?? {},
    error,
    exhausted: EXHAUSTED.test(`${r.stdout}\n${r.stderr}`),
  }
}

async function destroyAll(ctx: Context, env: NodeJS.ProcessEnv, created: Created[]): Promise<void> {
  const ids = created.filter((c) => c.id).map((c) => c.id!)
  const results = await pool(ids, 5, (id) => ctx.demo(['destroy', id, '--yes', '--json'], env, {timeoutMs: 600_000}))
  for (const d of results.filter((x) => x.code !== 0)) log(`database: a destroy failed: ${tail(d.stderr, 2)}`)
  await deleteNamespaces(
    ctx,
    created.filter((c) => c.namespace).map((c) => c.namespace!),
  )
}

/** Peak client connections while `body` runs: to the shared database, to the state database, to the whole server. */
async function sampleConnections<T>(
  url: string,
  shared: string,
  state: string,
  body: () => Promise<T>,
): Promise<{result: T; peak: {shared: number; state: number; server: number}; maxConnections: number; samples: number}> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const maxConnections = Number((await client.query<{v: string}>("SELECT current_setting('max_connections') AS v")).rows[0]?.v ?? 0)
  const peak = {shared: 0, state: 0, server: 0}
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const {rows} = await client.query<{shared: number; state: number; server: number}>(
        `SELECT count(*) FILTER (WHERE datname = $1)::int AS shared, count(*) FILTER (WHERE datname = $2)::int AS state, count(*)::int AS server
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [shared, state],
      )
      const now = rows[0] ?? {shared: 0, state: 0, server: 0}
      peak.shared = Math.max(peak.shared, now.shared)
      peak.state = Math.max(peak.state, now.state)
      peak.server = Math.max(peak.server, now.server)
      samples++
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  try {
    const result = await body()
    return {result, peak, maxConnections, samples}
  } finally {
    running = false
    await loop.catch(() => {})
    await client.end()
  }
}

const sum = (t: Record<string, number>, keys: string[]) => keys.reduce((s, k) => s + (t[k] ?? 0), 0)
const DB_KEYS = ['databaseCheck', 'database']
const med = (values: number[]) => summarize(values).median

interface Pair {
  none: Created[]
  shared: Created[]
}

async function sideBySide(ctx: Context, env: {none: NodeJS.ProcessEnv; shared: NodeJS.ProcessEnv}, runs: number): Promise<Pair> {
  const pair: Pair = {none: [], shared: []}
  const made: Array<{env: NodeJS.ProcessEnv; c: Created}> = []
  for (let i = -1; i < runs; i++) {
    // ABBA (the warm-up round is shared first): neither mode always goes first.
    const sharedFirst = i < 0 || i % 4 === 0 || i % 4 === 3
    const order = sharedFirst ? (['shared', 'none'] as const) : (['none', 'shared'] as const)
    for (const mode of order) {
      const c = await createOne(ctx, env[mode], '300s')
      made.push({env: env[mode], c})
      if (!c.ok) throw new Error(`demo create (${mode}) failed: ${c.error}`)
      log(
        `database ${i < 0 ? '(warm-up)' : `#${i + 1}`} ${mode}: ${ms(c.ms)} wall, total ${c.timings.total} s, database ${c.timings.database ?? 0} s`,
      )
      if (i >= 0) pair[mode].push(c)
    }
  }
  for (const mode of ['none', 'shared'] as const)
    await destroyAll(
      ctx,
      env[mode],
      made.filter((m) => m.env === env[mode]).map((m) => m.c),
    )
  return pair
}

/** A row of seconds from the phase timings, with its share of `total` (median over median) when `total` is given. */
function timingRow(label: string, values: number[], total?: number): string {
  const s = summarize(values.map((v) => v * 1000))
  return row(label, s, [total ? `${((s.median / (total * 1000)) * 100).toFixed(1)}%` : ''])
}

/** The side-by-side table, its share, and its verdict. */
function sideBySideMarkdown(pair: Pair): {markdown: string; verdict: Verdict} {
  const totals = {none: pair.none.map((c) => c.timings.total ?? 0), shared: pair.shared.map((c) => c.timings.total ?? 0)}
  const shares = pair.shared.map((c) => sum(c.timings, DB_KEYS) / (c.timings.total ?? 1))
  const share = med(shares)
  const [tn, ts] = [med(totals.none), med(totals.shared)]
  const parts = ['database.schema', 'database.migrations', 'database.seed', 'database.logins']
  const lines = [
    header(["Share of its mode's `total` (median)"]),
    row('`demo create` with `none`: wall time', summarize(pair.none.map((c) => c.ms)), ['']),
    row('`demo create` with `shared-schema`: wall time', summarize(pair.shared.map((c) => c.ms)), ['']),
    timingRow('`none`: time to ready (`phaseTimings.total`)', totals.none, tn),
    timingRow(
      '↳ `databaseCheck` + `database` (no-ops in mode none)',
      pair.none.map((c) => sum(c.timings, DB_KEYS)),
      tn,
    ),
    timingRow('`shared-schema`: time to ready (`phaseTimings.total`)', totals.shared, ts),
    timingRow(
      '↳ `databaseCheck` (up-front: connect, privileges, migrations and seed found)',
      pair.shared.map((c) => c.timings.databaseCheck ?? 0),
      ts,
    ),
    timingRow(
      '↳ `database` step (connect, check again, one transaction)',
      pair.shared.map((c) => c.timings.database ?? 0),
      ts,
    ),
    ...parts.map((p) =>
      timingRow(
        `&nbsp;&nbsp;↳ \`${p}\``,
        pair.shared.map((c) => c.timings[p] ?? 0),
        ts,
      ),
    ),
    timingRow(
      '↳ `wait` (Deployments Available)',
      pair.shared.map((c) => c.timings.wait ?? 0),
      ts,
    ),
  ]
  const markdown = `${lines.join('\n')}

Database steps' share of time to ready with \`shared-schema\` (\`databaseCheck\` + \`database\` over \`total\`, median of
runs): **${(share * 100).toFixed(1)}%** (runs: ${shares.map((s) => `${(s * 100).toFixed(1)}%`).join(', ')}). Time to ready,
median: shared-schema ${ms(ts * 1000)} vs none ${ms(tn * 1000)} (${ratio(ts, tn)}, ${ms((ts - tn) * 1000)} more).`
  return {
    markdown,
    verdict: {
      what: `\`demo create\` (${TYPE}) with \`shared-schema\` vs \`none\`: database steps' share of time to ready`,
      target: 'reported (no target set)',
      measured: `${(share * 100).toFixed(1)}% (time to ready ${ms(ts * 1000)} vs ${ms(tn * 1000)}, ${ratio(ts, tn)})`,
      met: null,
    },
  }
}

export async function database(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const stateUrl = await ctx.database()
  const sharedUrl = await ctx.database()
  const {kubeconfig} = await ctx.cluster()
  const base = {DEMO_DATABASE_URL: stateUrl, KUBECONFIG: kubeconfig, DEMO_OWNER: BENCH_OWNER}
  const env = {
    none: {...base, DEMO_CONFIG: configFor(ctx, 'none')},
    shared: {...base, DEMO_CONFIG: configFor(ctx, 'shared-schema'), DEMO_SHARED_DATABASE_URL: sharedUrl},
  }
  const pair = await sideBySide(ctx, env, runs)
  const first = sideBySideMarkdown(pair)
  // Capacity: 20 stacks of the built-in footprint on the test bed's fake nodes (110 pods each), checked up front.
  await ensureCapacity(ctx, CONCURRENT, BUILT_IN_DEMO)
  const sampled = await sampleConnections(stateUrl, databaseName(sharedUrl), databaseName(stateUrl), async () => {
    const started = performance.now()
    const outcomes = await Promise.all(Array.from({length: CONCURRENT}, () => createOne(ctx, env.shared, '600s')))
    return {outcomes, makespanMs: performance.now() - started}
  })
  const {outcomes, makespanMs} = sampled.result
  for (const o of outcomes.filter((x) => !x.ok)) log(`database: a concurrent create failed: ${o.error}`)
  const ready = outcomes.filter((o) => o.ok)
  const exhausted = outcomes.some((o) => o.exhausted)
  log(
    `database ×${CONCURRENT} shared-schema: ${ready.length}/${CONCURRENT} ready in ${ms(makespanMs)}; peak connections shared ${sampled.peak.shared}, state ${sampled.peak.state}, server ${sampled.peak.server} of ${sampled.maxConnections}`,
  )
  await destroyAll(ctx, env.shared, outcomes)
  const concurrentVerdict: Verdict = {
    what: `${CONCURRENT} concurrent \`demo create\` with \`shared-schema\`: all ready, no connection exhaustion on the shared database`,
    target: `${CONCURRENT}/${CONCURRENT} ready; no "too many clients" (53300); peak < max_connections`,
    measured: `${ready.length}/${CONCURRENT} ready in ${ms(makespanMs)}; peak ${sampled.peak.shared} connections to the shared database, ${sampled.peak.server} on the server, max_connections ${sampled.maxConnections}${exhausted ? '; connection exhaustion seen' : ''}`,
    met: ready.length === CONCURRENT && !exhausted && sampled.peak.server < sampled.maxConnections,
  }
  const walls = summarize(ready.map((o) => o.ms))
  const markdown = `### database

Issue 10's database benchmarks, on the bench cluster with the state in one fresh Postgres database and the shared
database of \`shared-schema\` in another (same server; its role has CREATEROLE and owns the database). Type
\`${TYPE}\` (migrations: \`templates/migrations\`; seed: 1539 rows), built-in stack (${BUILT_IN_DEMO.pods} pods).

**\`shared-schema\` against \`none\`**: \`demo create --type ${TYPE} --json\` with \`database.mode: shared-schema\` and with
\`none\`, ${runs} runs each after one warm-up pair, alternating in ABBA order on the same cluster. Times to ready and the
parts are the CLI's own \`phaseTimings\` (seconds since the create started; \`database.*\` are parts of \`database\`).

${first.markdown}

**${CONCURRENT} concurrent creates with \`shared-schema\`**: ${CONCURRENT} \`demo create --type ${TYPE} --json --wait-timeout 600s\`
processes started at the same moment (after \`ensureCapacity\` made room for ${CONCURRENT} stacks); pg_stat_activity
sampled every 100 ms (${sampled.samples} samples; client backends only, the sampler's own left out).

| | |
|---|---:|
| ready | ${ready.length}/${CONCURRENT} |
| makespan | ${ms(makespanMs)} |
| wall time per create (median / max of the ready) | ${ready.length > 0 ? `${ms(walls.median)} / ${ms(walls.max)}` : 'n/a'} |
| \`database\` step (median / max of the ready) | ${ready.length > 0 ? `${ms(summarize(ready.map((o) => (o.timings.database ?? 0) * 1000)).median)} / ${ms(summarize(ready.map((o) => (o.timings.database ?? 0) * 1000)).max)}` : 'n/a'} |
| peak connections to the shared database | ${sampled.peak.shared} |
| peak connections to the state database | ${sampled.peak.state} |
| peak client connections on the whole server (other people's work included) | ${sampled.peak.server} |
| \`max_connections\` | ${sampled.maxConnections} |
| "too many clients" (53300) in any output | ${exhausted ? 'yes' : 'no'} |
${outcomes.some((o) => !o.ok) ? `\nFailures: ${[...new Set(outcomes.filter((o) => !o.ok).map((o) => o.error ?? ''))].join('; ')}\n` : ''}`
  return {name: 'database', markdown, verdicts: [first.verdict, concurrentVerdict]}
}
