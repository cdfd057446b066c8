import pg from 'pg'
import {openStore} from '../src/adapters/postgres/open-store.ts'
import {USAGE_STATEMENTS} from '../src/adapters/postgres/stats.ts'
import {READY_GOAL_SECONDS} from '../src/core/ports.ts'
import type {Context} from './lib/context.js'
import {log, run} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {summarize} from './lib/stats.js'

const DEMOS = 25_000
const WARMUPS = 2
const DEFAULT_RUNS = 10
const TARGET_MS = 500
const T = 'demo_orchestrator.demo_instances'
const E = 'demo_orchestrator.demo_events'

const EVENTS = 100_000
// 25,000 demos over the last 100 days (one every ~5.8 min), 40 owners, 3 types: created, then ready (9 in 10,
// after 60-240 s) or failed (1 in 10, "timeout" or "image pull"), extended at 50 min (1 in 3 of those that did
// not fail), destroyed (by gc 1 in 2) 1-5 h later, or nothing for the newest 500 (still live). That is about
// 79,600 events; TOP_UP_SQL then gives the oldest demos that did not fail one more extension (at 55 min, before
// any destroy) until the table holds exactly EVENTS.
const SEED_SQL = `
INSERT INTO ${T} (id, namespace, demo_type, status, portal_url, candidate_url, created_at, updated_at, expires_at, destroyed_at, created_by)
SELECT id, 'demo-' || id, (ARRAY['recruiting-agency', 'enterprise', 'startup'])[1 + i % 3],
       CASE WHEN i <= 500 THEN 'ready' WHEN i % 10 = 0 THEN 'failed' ELSE 'destroyed' END,
       'https://portal-' || id || '.demo.localhost', 'https://candidate-' || id || '.demo.localhost', c, c, c + interval '6 hours',
       CASE WHEN i > 500 AND i % 10 <> 0 THEN c + (1 + i % 5) * interval '1 hour' END,
       'user' || (i % 40) || '@example.com'
FROM (SELECT i, 's' || lpad(i::text, 7, '0') AS id, now() - i * interval '345 seconds' AS c FROM generate_series(1, ${DEMOS}) AS i) s;

INSERT INTO ${E} (demo_id, type, at, actor, data)
SELECT id, 'created', created_at, created_by, '{}' FROM ${T}
UNION ALL
SELECT id, CASE WHEN status = 'failed' THEN 'failed' ELSE 'ready' END, created_at + (60 + (hashtext(id) & 180)) * interval '1 second', created_by,
       CASE WHEN status = 'failed' THEN jsonb_build_object('reason', CASE WHEN hashtext(id) % 2 = 0 THEN 'timeout' ELSE 'image pull' END) ELSE '{}' END
  FROM ${T}
UNION ALL
SELECT id, 'extended', created_at + interval '50 minutes', created_by, '{"hours": 1}' FROM ${T} WHERE status <> 'failed' AND hashtext(id) % 3 = 0
UNION ALL
SELECT id, 'destroyed', destroyed_at, CASE WHEN hashtext(id) % 2 = 0 THEN 'gc' ELSE created_by END, '{}' FROM ${T} WHERE destroyed_at IS NOT NULL;
`

// $1: how many more events. By id, highest first (the oldest demos), so the same demos every run.
const TOP_UP_SQL = `
INSERT INTO ${E} (demo_id, type, at, actor, data)
SELECT id, 'extended', created_at + interval '55 minutes', created_by, '{"hours": 1}'
  FROM ${T} WHERE status <> 'failed' ORDER BY id DESC LIMIT $1`

/** Migrates and seeds the database at `url`; returns the number of events (always EVENTS). */
export async function seed(url: string): Promise<number> {
  const opened = await openStore({databaseUrl: url, stateDir: '/nonexistent'})
  await opened.close()
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    await client.query(SEED_SQL)
    const seeded = await client.query<{n: number}>(`SELECT count(*)::int AS n FROM ${E}`)
    await client.query(TOP_UP_SQL, [Math.max(0, EVENTS - (seeded.rows[0]?.n ?? 0))])
    // What autovacuum does to these append-only tables within a minute of the inserts (here it could still be
    // running when the runs start): statistics for the planner and an all-visible map for index-only scans.
    await client.query(`VACUUM ANALYZE ${T}`)
    await client.query(`VACUUM ANALYZE ${E}`)
    const {rows} = await client.query<{n: number}>(`SELECT count(*)::int AS n FROM ${E}`)
    const events = rows[0]?.n ?? 0
    if (events !== EVENTS) throw new Error(`stats: seeded ${events} events, not ${EVENTS}`)
    return events
  } finally {
    await client.end()
  }
}

/** The statements of Stats.usage with the window written in, as one psql script. */
function psqlScript(since: Date, until: Date): string {
  return USAGE_STATEMENTS.map((sql) =>
    sql
      .replaceAll('$1::timestamptz', `'${since.toISOString()}'::timestamptz`)
      .replaceAll('$2::timestamptz', `'${until.toISOString()}'::timestamptz`)
      .replaceAll('$3', String(READY_GOAL_SECONDS)),
  ).join(';\n')
}

/** `demo stats --period quarter` over ~100,000 events against psql running the same aggregates. */
export async function stats(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const url = await ctx.database()
  const events = await seed(url)
  log(`stats: seeded ${DEMOS} demos, ${events} events`)
  const env = {DEMO_DATABASE_URL: url}
  const demoTimes: number[] = []
  const peerTimes: number[] = []
  let created = 0
  for (let i = -WARMUPS; i < runs; i++) {
    const d = await ctx.demo(['stats', '--period', 'quarter', '--json'], env)
    if (d.code !== 0) throw new Error(`demo stats exited ${d.code}: ${d.stderr.trim()}`)
    const report = JSON.parse(d.stdout) as {created: number; since: string; until: string}
    created = report.created
    const p = await run(
      'psql',
      ['-X', '-q', '-A', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', psqlScript(new Date(report.since), new Date(report.until))],
      {
        cwd: ctx.workDir,
      },
    )
    if (p.code !== 0) throw new Error(`psql exited ${p.code}: ${p.stderr.trim()}`)
    if (i >= 0) {
      demoTimes.push(d.ms)
      peerTimes.push(p.ms)
    }
  }
  const demo = summarize(demoTimes)
  const peer = summarize(peerTimes)
  log(`stats: demo ${ms(demo.median)}, psql ${ms(peer.median)}`)
  const verdicts: Verdict[] = [
    {
      what: '`demo stats --period quarter` over ~100,000 events',
      target: `≤ ${TARGET_MS} ms`,
      measured: `median ${ms(demo.median)}, p95 ${ms(demo.p95)} (psql ${ms(peer.median)}, ${ratio(demo.median, peer.median)})`,
      met: demo.median <= TARGET_MS,
    },
  ]
  const markdown = `### stats

A fresh database, migrated by \`openStore\`, seeded with ${DEMOS.toLocaleString('en')} demos over the last 100 days and
${events.toLocaleString('en')} events (created; ready or failed; extended, some twice; destroyed by hand or by gc),
then \`VACUUM ANALYZE\` (what autovacuum does to these append-only tables within a minute). The quarter (90 days)
holds ${created.toLocaleString('en')} of the demos. ${runs} runs after ${WARMUPS} warm-ups, demo and psql interleaved. The peer is
\`psql -X -A -d <url> -c '<script>'\` running the same ${USAGE_STATEMENTS.length === 1 ? 'aggregate statement' : `${USAGE_STATEMENTS.length} aggregate statements`}
\`Stats.usage\` runs (src/adapters/postgres/stats.ts \`USAGE_STATEMENTS\`), with the same window.

${header([`Target ≤ ${TARGET_MS} ms`, 'Ratio to psql (median)'])}
${row('`demo stats --period quarter --json`', demo, [demo.median <= TARGET_MS ? 'met' : '**missed**', ratio(demo.median, peer.median)])}
${row('↳ peer: `psql -c` same aggregates', peer, ['(peer)', '1.00×'])}
`
  return {name: 'stats', markdown, verdicts}
}
