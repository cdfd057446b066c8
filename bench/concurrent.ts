import {readFileSync} from 'node:fs'
import type {Context} from './lib/context.js'
import {log, pool, tail} from './lib/proc.js'
import {ms, type Section, type Verdict} from './lib/report.js'
import {demoCreate, demoEnv, DEMO_TYPE, type CreateOutcome} from './lib/stack.js'
import {summarize} from './lib/stats.js'

const LEVELS = [10, 20] as const
const TOO_MANY = /\b429\b|too many requests/i

/** Busy and total jiffies of all CPUs, from /proc/stat (Linux). */
function cpuJiffies(): {busy: number; total: number} {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  const total = fields.reduce((a, b) => a + b, 0)
  return {busy: total - idle, total}
}

/** Sum of the apiserver's 429 answers (all verbs/resources) and of APF rejections, from /metrics. */
async function throttleCounters(ctx: Context): Promise<{r429: number; rejected: number}> {
  const r = await ctx.kubectl(['get', '--raw', '/metrics'], {timeoutMs: 60_000})
  let r429 = 0
  let rejected = 0
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes('code="429"')) r429 += Number(line.split(' ').at(-1))
    if (line.startsWith('apiserver_flowcontrol_rejected_requests_total{')) rejected += Number(line.split(' ').at(-1))
  }
  return {r429, rejected}
}

interface Level {
  n: number
  outcomes: CreateOutcome[]
  makespanMs: number
  stderr429: number
  server429: number
  rejected: number
  destroyFailures: number
  /** Share of all CPUs' time that was busy during the round (whole machine). */
  cpuBusy: number
}

async function level(ctx: Context, env: NodeJS.ProcessEnv, n: number): Promise<Level> {
  const before = await throttleCounters(ctx)
  log(`concurrent: starting ${n} demo create processes at once`)
  const cpu0 = cpuJiffies()
  const started = process.hrtime.bigint()
  const outcomes = await Promise.all(Array.from({length: n}, () => demoCreate(ctx, env)))
  const makespanMs = Number(process.hrtime.bigint() - started) / 1e6
  const cpu1 = cpuJiffies()
  const cpuBusy = (cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total)
  const after = await throttleCounters(ctx)
  const stderr429 = outcomes.filter((o) => TOO_MANY.test(o.stderr) || TOO_MANY.test(o.error ?? '')).length
  for (const o of outcomes.filter((x) => !x.ok)) log(`concurrent: a create failed: ${o.error}`)
  log(
    `concurrent ${n}: ${outcomes.filter((o) => o.ok).length}/${n} ready, makespan ${ms(makespanMs)}, CPU busy ${(cpuBusy * 100).toFixed(0)}%; cleaning up with demo destroy`,
  )
  const ids = outcomes.filter((o) => o.id).map((o) => o.id!)
  const destroys = await pool(ids, 10, (id) => ctx.demo(['destroy', id, '--yes', '--json'], env, {timeoutMs: 420_000}))
  const destroyFailures = destroys.filter((d) => d.code !== 0).length
  for (const d of destroys.filter((x) => x.code !== 0)) log(`concurrent: a destroy failed: ${tail(d.stderr, 2)}`)
  for (const o of outcomes) if (o.namespace && destroys[ids.indexOf(o.id!)]?.code === 0) ctx.namespaces.delete(o.namespace)
  return {
    n,
    outcomes,
    makespanMs,
    stderr429,
    server429: after.r429 - before.r429,
    rejected: after.rejected - before.rejected,
    destroyFailures,
    cpuBusy,
  }
}

/** 10 and 20 `demo create` processes started at once against one state database. */
export async function concurrent(ctx: Context): Promise<Section> {
  const url = await ctx.database()
  const env = await demoEnv(ctx, url)
  const levels: Level[] = []
  for (const n of LEVELS) levels.push(await level(ctx, env, n))
  const rows = levels.map((l) => {
    const ok = l.outcomes.filter((o) => o.ok)
    const s = summarize(ok.map((o) => o.ms))
    const inProc = summarize(ok.filter((o) => o.phaseTotalS !== undefined).map((o) => o.phaseTotalS! * 1000))
    return `| ${l.n} | ${ok.length}/${l.n} | ${l.n - ok.length} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.p95)} | ${ms(s.max)} | ${ms(inProc.median)} | ${ms(l.makespanMs)} | ${(l.cpuBusy * 100).toFixed(0)}% | ${l.stderr429} | ${l.server429} | ${l.rejected} | ${l.destroyFailures} |`
  })
  const allReady = levels.every((l) => l.outcomes.every((o) => o.ok))
  const no429 = levels.every((l) => l.stderr429 === 0)
  const verdicts: Verdict[] = [
    {
      what: 'concurrent `demo create` ×10 / ×20: all Ready',
      target: 'all Ready, no unhandled 429',
      measured: levels
        .map(
          (l) =>
            `×${l.n}: ${l.outcomes.filter((o) => o.ok).length}/${l.n} ready, p50 ${ms(summarize(l.outcomes.filter((o) => o.ok).map((o) => o.ms)).median)}, ${l.server429} 429s from the apiserver`,
        )
        .join('; '),
      met: allReady && no429,
    },
  ]
  const markdown = `### concurrent

${LEVELS.join(' and ')} \`demo create --type ${DEMO_TYPE} --json --wait-timeout 300s\` processes started at the same
moment (separate processes), one Postgres state database, owner and global caps raised with a temporary
config (\`DEMO_CONFIG\` → \`limits: {perOwner: 100, global: 100}\`). Time to ready = each process's wall time
(it exits when every Deployment of its demo is Available). One round per level; afterwards every demo is removed
with \`demo destroy <id> --yes\` (10 at a time).

| Processes | Ready | Failures | Min | p50 | p95 | Max | p50 in-process | Makespan | CPU busy | stderr with 429 | apiserver 429s | APF rejections | destroy failures |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

- "stderr with 429": processes whose stderr or JSON error mentions 429 / "Too Many Requests"; an unhandled
  429 would surface there as a failure. ${no429 ? '**No unhandled 429**: none of them did.' : '**Some did** (see the table).'}
- "apiserver 429s" / "APF rejections": the increase of \`apiserver_request_total{code="429"}\` and
  \`apiserver_flowcontrol_rejected_requests_total\` in the apiserver's /metrics over the round, i.e. every 429
  the server sent, handled (retried) or not. The CLI does not log its retries, so this is the only way to see
  handled ones. The test bed's apiserver runs with default API Priority and Fairness limits.
- "CPU busy": the share of both cores' time that was busy during the round, whole machine (from /proc/stat):
  the demo processes, the control plane, Postgres and anything else running. Near 100% means the round was
  CPU-bound; compare with the CPU one \`demo create\` costs (create section).
- No peer: kubectl has no equivalent of N concurrent idempotent creates with shared state; for scale,
  a single \`demo create\` takes the time in the create section.
`
  return {name: 'concurrent', markdown, verdicts}
}
