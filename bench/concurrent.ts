import {readFileSync} from 'node:fs'
import type {Context} from './lib/context.js'
import {log, pool, tail} from './lib/proc.js'
import {ms, ratio, type Section, type Verdict} from './lib/report.js'
import {controllerQps, controllerRateLimit} from './lib/env.js'
import {deleteNamespaces, demoCreate, demoEnv, dryRun, DEMO_TYPE, kubectlCreate} from './lib/stack.js'
import {median, summarize} from './lib/stats.js'

const LEVELS = [10, 20] as const
/** Rounds per level and tool (demo and kubectl alternate which goes first); `--runs` sets it. */
const DEFAULT_ROUNDS = 2
const TOO_MANY = /\b429\b|too many requests/i

/** Busy and total jiffies of all CPUs, from /proc/stat (Linux). */
function cpuJiffies(): {busy: number; total: number} {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  const total = fields.reduce((a, b) => a + b, 0)
  return {busy: total - idle, total}
}

interface ServerCounters {
  /** apiserver_request_total over every verb, resource and code: every request the API server answered. */
  requests: number
  r429: number
  /** 5xx answers (a 504 on a create keeps its quota charge until the quota controller recounts). */
  r5xx: number
  rejected: number
}

/** The apiserver's request counters from /metrics (one scrape; the scrape itself counts as one request). */
async function serverCounters(ctx: Context): Promise<ServerCounters> {
  const r = await ctx.kubectl(['get', '--raw', '/metrics'], {timeoutMs: 60_000})
  const counters = {requests: 0, r429: 0, r5xx: 0, rejected: 0}
  for (const line of r.stdout.split('\n')) {
    const value = Number(line.split(' ').at(-1))
    if (line.startsWith('apiserver_request_total{')) {
      counters.requests += value
      if (line.includes('code="429"')) counters.r429 += value
      if (/code="5\d\d"/.test(line) && !line.includes('subresource="/readyz"') && !line.includes('subresource="/livez"')) counters.r5xx += value
    }
    if (line.startsWith('apiserver_flowcontrol_rejected_requests_total{')) counters.rejected += value
  }
  return counters
}

interface Outcome {
  ok: boolean
  ms: number
  cpuMs: number
  maxRssMiB: number
  stderr429: boolean
  error?: string | undefined
}

interface Round {
  tool: 'demo' | 'kubectl'
  n: number
  outcomes: Outcome[]
  makespanMs: number
  /** Share of all CPUs' time that was busy during the round (whole machine). */
  cpuBusy: number
  /** API requests the server answered during the round, per create (controllers' requests included, for both tools). */
  requestsPerCreate: number
  server429: number
  server5xx: number
  rejected: number
}

async function timedRound(ctx: Context, tool: Round['tool'], n: number, start: (i: number) => Promise<Outcome>): Promise<Round> {
  const before = await serverCounters(ctx)
  const cpu0 = cpuJiffies()
  const started = process.hrtime.bigint()
  const outcomes = await Promise.all(Array.from({length: n}, (_, i) => start(i)))
  const makespanMs = Number(process.hrtime.bigint() - started) / 1e6
  const cpu1 = cpuJiffies()
  const after = await serverCounters(ctx)
  for (const o of outcomes.filter((x) => !x.ok)) log(`concurrent: a ${tool} create failed: ${o.error}`)
  const round: Round = {
    tool,
    n,
    outcomes,
    makespanMs,
    cpuBusy: (cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total),
    requestsPerCreate: (after.requests - before.requests - 1) / n,
    server429: after.r429 - before.r429,
    server5xx: after.r5xx - before.r5xx,
    rejected: after.rejected - before.rejected,
  }
  log(
    `concurrent ${tool} ×${n}: ${outcomes.filter((o) => o.ok).length}/${n} ready, makespan ${ms(makespanMs)}, CPU ${ms(sum(outcomes.map((o) => o.cpuMs)))}, ${round.requestsPerCreate.toFixed(0)} API requests per create`,
  )
  return round
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

async function demoRound(ctx: Context, env: NodeJS.ProcessEnv, n: number): Promise<Round> {
  const created: Array<{id?: string | undefined; namespace?: string | undefined}> = []
  const round = await timedRound(ctx, 'demo', n, async () => {
    const o = await demoCreate(ctx, env)
    created.push(o)
    return {...o, stderr429: TOO_MANY.test(o.stderr) || TOO_MANY.test(o.error ?? '')}
  })
  const ids = created.filter((o) => o.id).map((o) => o.id!)
  const destroys = await pool(ids, 10, (id) => ctx.demo(['destroy', id, '--yes', '--json'], env, {timeoutMs: 420_000}))
  for (const d of destroys.filter((x) => x.code !== 0)) log(`concurrent: a destroy failed: ${tail(d.stderr, 2)}`)
  for (const [i, o] of created.entries()) if (o.namespace && destroys[i]?.code === 0) ctx.namespaces.delete(o.namespace)
  return round
}

async function kubectlRound(ctx: Context, env: NodeJS.ProcessEnv, n: number): Promise<Round> {
  // The same manifests demo applies, rendered by `demo create --dry-run` beforehand (not timed).
  const manifests = await pool(Array.from({length: n}), 4, () => dryRun(ctx, env))
  const round = await timedRound(ctx, 'kubectl', n, async (i) => {
    const k = await kubectlCreate(ctx, manifests[i]!)
    return {...k, stderr429: TOO_MANY.test(k.error ?? '')}
  })
  await deleteNamespaces(
    ctx,
    manifests.map((m) => m.namespace),
  )
  return round
}

interface LevelResult {
  n: number
  demo: Round[]
  kubectl: Round[]
}

const med = (values: number[]) => median([...values].sort((a, b) => a - b))

function toolRow(label: string, rounds: Round[]): string {
  const ok = rounds.flatMap((r) => r.outcomes.filter((o) => o.ok))
  const all = rounds.flatMap((r) => r.outcomes)
  const walls = summarize(ok.map((o) => o.ms))
  const cpu = med(rounds.map((r) => sum(r.outcomes.map((o) => o.cpuMs))))
  const rss = summarize(all.map((o) => o.maxRssMiB))
  return `| ${label} | ${ok.length}/${all.length} | ${ms(med(rounds.map((r) => r.makespanMs)))} | ${ms(walls.median)} | ${ms(walls.p95)} | ${ms(cpu)} | ${(med(rounds.map((r) => r.cpuBusy)) * 100).toFixed(0)}% | ${rss.median.toFixed(0)} / ${rss.max.toFixed(0)} MiB | ${med(rounds.map((r) => r.requestsPerCreate)).toFixed(0)} | ${sum(rounds.map((r) => r.server429))} | ${sum(rounds.map((r) => r.server5xx))} | ${sum(rounds.map((r) => r.rejected))} |`
}

/** `throttle`: how the verdicts name a controller manager that is not at its default rate limit ('' when it is). */
function verdictsOf(levels: LevelResult[], throttle: string): Verdict[] {
  return levels.flatMap((l) => {
    const [dm, km] = [med(l.demo.map((r) => r.makespanMs)), med(l.kubectl.map((r) => r.makespanMs))]
    const cpuOf = (rounds: Round[]) => med(rounds.map((r) => sum(r.outcomes.map((o) => o.cpuMs))))
    const [dc, kc] = [cpuOf(l.demo), cpuOf(l.kubectl)]
    const allReady = [...l.demo, ...l.kubectl].every((r) => r.outcomes.every((o) => o.ok))
    return [
      {
        what: `${l.n} concurrent \`demo create\` vs ${l.n} concurrent kubectl apply + wait: makespan (median of rounds)${throttle}`,
        target: '≤ 0.9×, all Ready',
        measured: `${ratio(dm, km)} (demo ${ms(dm)}, kubectl ${ms(km)})${allReady ? '' : ', NOT all Ready'}`,
        met: dm <= 0.9 * km && allReady,
      },
      {
        what: `${l.n} concurrent \`demo create\` vs kubectl: CPU of the processes (median of rounds)${throttle}`,
        target: '≤ 1.0×',
        measured: `${ratio(dc, kc)} (demo ${ms(dc)}, kubectl ${ms(kc)})`,
        met: dc <= kc,
      },
    ]
  })
}

/** N `demo create` processes at once against N `kubectl apply --server-side` + `kubectl wait` at once, interleaved. */
export async function concurrent(ctx: Context): Promise<Section> {
  const rounds = ctx.runs ?? DEFAULT_ROUNDS
  const url = await ctx.database()
  const env = await demoEnv(ctx, url)
  const levels: LevelResult[] = []
  let demoFirst = true
  for (const n of LEVELS) {
    const result: LevelResult = {n, demo: [], kubectl: []}
    for (let i = 0; i < rounds; i++) {
      for (const tool of demoFirst ? (['demo', 'kubectl'] as const) : (['kubectl', 'demo'] as const)) {
        if (tool === 'demo') result.demo.push(await demoRound(ctx, env, n))
        else result.kubectl.push(await kubectlRound(ctx, env, n))
      }
      demoFirst = !demoFirst
    }
    levels.push(result)
  }
  const rows = levels.flatMap((l) => [
    toolRow(`${l.n} × \`demo create\``, l.demo),
    toolRow(`${l.n} × \`kubectl apply --server-side\` + \`kubectl wait\` (peer)`, l.kubectl),
  ])
  const qps = controllerQps()
  const throttle = qps === '' ? '' : `, controller manager at ${qps} requests/s`
  const markdown = `### concurrent${throttle}

${LEVELS.join(' and ')} \`demo create --type ${DEMO_TYPE} --json --wait-timeout 300s\` processes started at the same
moment (separate processes, one Postgres state database, caps raised by \`DEMO_CONFIG\`), against the peer: as many
\`kubectl apply --server-side -f <yaml>\` + \`kubectl wait --for=condition=Available deployment --all\` pairs started at
the same moment, on the same manifests (\`demo create --dry-run\`, rendered before the round, not timed).
${rounds} round(s) per level and tool, interleaved (demo first, then kubectl first, ...); each round's stacks are
removed before the next (\`demo destroy\` / \`kubectl delete namespace\`, not timed). Medians over the rounds.
kube-controller-manager's client rate limit: ${controllerRateLimit()}; it paces how fast Deployments get their pods.

| Round | Ready | Makespan | p50 wall | p95 wall | CPU of the processes | Machine CPU busy | Peak RSS (median / max) | API requests per create | apiserver 429s | apiserver 5xx | APF rejections |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

- "CPU of the processes": user + system time of every process of the round added up (\`/usr/bin/time\`; for the
  peer both kubectl processes of each pair). "Machine CPU busy": the share of both cores' time that was busy during
  the round, whole machine (control plane, Postgres and anything else included; from /proc/stat).
- "API requests per create": the increase of \`apiserver_request_total\` (every verb, resource and code) over the
  round, divided by N. It includes what the controllers, the scheduler and kwok ask while the round runs, for both
  tools alike; the difference between the two rows is what the tools ask.
- "apiserver 429s" / "APF rejections": \`apiserver_request_total{code="429"}\` and
  \`apiserver_flowcontrol_rejected_requests_total\` over the rounds: every 429 the server sent, handled or not.
- "apiserver 5xx": \`apiserver_request_total\` with a 5xx code (health probes left out) over the rounds. Under load the
  server answers Service applies with 504; each such create keeps its quota charge until the quota controller's
  recount (5 min), which is how a stack of 6 Services can meet "services=10 used" (docs/benchmarks.md findings).
`
  // A run on a cluster whose controllers are not paced as by default has a section of its own: the two compare the
  // tools under different conditions (docs/benchmarks.md findings), and neither replaces the other.
  return {name: qps === '' ? 'concurrent' : 'concurrent-unthrottled', markdown, verdicts: verdictsOf(levels, throttle)}
}
