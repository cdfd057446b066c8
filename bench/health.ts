import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Context} from './lib/context.js'
import {log, pool, tail} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {BENCH_OWNER} from './lib/stack.js'
import {summarize} from './lib/stats.js'

const DEMOS = 50
const DEFAULT_RUNS = 5
/** One service per demo keeps 50 live demos within two cores; health's cost is per demo and per Deployment. */
const HEALTH_CONFIG = `limits:
  perOwner: 100
  global: 100
services:
  api-gateway: {enabled: false}
  identity-service: {enabled: false}
  ats-service: {enabled: false}
  network-service: {enabled: false}
  candidate: {enabled: false}
  portal: {image: registry.example/portal:1, port: 8080, host: portal}
`

/** GET and LIST requests the apiserver served, from /metrics (controllers watch; one-shot reads are clients like ours). */
async function readRequests(ctx: Context): Promise<number> {
  const r = await ctx.kubectl(['get', '--raw', '/metrics'], {timeoutMs: 60_000})
  let total = 0
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && /verb="(GET|LIST)"/.test(line)) total += Number(line.split(' ').at(-1))
  }
  return total
}

async function createDemos(ctx: Context, env: NodeJS.ProcessEnv): Promise<string[]> {
  log(`health: creating ${DEMOS} one-service demos (5 at a time)`)
  const results = await pool(Array.from({length: DEMOS}), 5, async () => {
    const r = await ctx.demo(['create', '--json', '--wait-timeout', '300s'], env, {timeoutMs: 420_000})
    const out = JSON.parse(r.stdout || '{}') as {id?: string; namespace?: string; status?: string; error?: {message?: string}}
    if (out.namespace) ctx.namespaces.add(out.namespace)
    if (r.code !== 0 || out.status !== 'ready') log(`health: a create failed: ${out.error?.message ?? tail(r.stderr, 2)}`)
    return out.status === 'ready' ? out.id : undefined
  })
  return results.filter((id): id is string => id !== undefined)
}

/** Wall time and GET/LIST requests of one command, measured `runs` times. */
async function measure(
  ctx: Context,
  runs: number,
  command: () => Promise<{ms: number; code: number | null}>,
): Promise<{times: number[]; requests: number[]}> {
  const times: number[] = []
  const requests: number[] = []
  for (let i = 0; i < runs; i++) {
    const before = await readRequests(ctx)
    const r = await command()
    if (r.code !== 0 && r.code !== 4 && r.code !== 5) throw new Error(`exit ${r.code}`)
    // The apiserver does not count its own /metrics reads (checked: no apiserver_request_total series for /metrics).
    requests.push((await readRequests(ctx)) - before)
    times.push(r.ms)
  }
  return {times, requests}
}

/** `demo health --all --no-urls` over 50 live demos, side by side with `kubectl get deploy -A` + `kubectl get pods -A`. */
export async function health(ctx: Context): Promise<Section> {
  const url = await ctx.database()
  const {kubeconfig} = await ctx.cluster()
  const config = join(ctx.workDir, 'demo.health.yaml')
  writeFileSync(config, HEALTH_CONFIG)
  const env = {DEMO_DATABASE_URL: url, KUBECONFIG: kubeconfig, DEMO_OWNER: BENCH_OWNER, DEMO_CONFIG: config}
  const ids = await createDemos(ctx, env)
  const runs = ctx.runs ?? DEFAULT_RUNS
  log(`health: ${ids.length} ready demos; ${runs} runs each`)
  const demo = await measure(ctx, runs, () => ctx.demo(['health', '--all', '--no-urls', '--json', '--concurrency', '10'], env, {timeoutMs: 300_000}))
  const kubectl = await measure(ctx, runs, async () => {
    const deploy = await ctx.kubectl(['get', 'deploy', '-A', '-o', 'json'], {timeoutMs: 120_000})
    const pods = await ctx.kubectl(['get', 'pods', '-A', '-o', 'json'], {timeoutMs: 120_000})
    return {ms: deploy.ms + pods.ms, code: deploy.code || pods.code}
  })
  await pool(ids, 10, (id) => ctx.demo(['destroy', id, '--yes', '--json'], env, {timeoutMs: 420_000}))
  const d = summarize(demo.times)
  const k = summarize(kubectl.times)
  const reqD = summarize(demo.requests)
  const reqK = summarize(kubectl.requests)
  const verdicts: Verdict[] = [
    {
      what: `\`demo health --all --no-urls\` over ${ids.length} live demos vs kubectl get deploy/pods -A`,
      target: 'reported (no target set)',
      measured: `median ${ms(d.median)} vs ${ms(k.median)} (${ratio(d.median, k.median)}); ${reqD.median} vs ${reqK.median} GET/LIST requests`,
      met: null,
    },
  ]
  const markdown = `### health

\`demo health --all --no-urls --json --concurrency 10\` over ${ids.length} live one-service demos (ready, created by the
bench just before), side by side with the least a person would run to see the same: \`kubectl get deploy -A -o json\`
then \`kubectl get pods -A -o json\` (the test bed's kubectl). Requests: the increase of the apiserver's
\`apiserver_request_total\` for GET and LIST over each run (the apiserver does not count the /metrics reads; controllers
watch, so one-shot reads are clients like these, but other clients of the same cluster would count too).

${header(['Median GET/LIST requests'])}
${row('demo health --all --no-urls', d, [String(reqD.median)])}
${row('kubectl get deploy -A + get pods -A', k, [String(reqK.median)])}

- Ratio (medians): ${ratio(d.median, k.median)} wall time; ${reqK.median > 0 ? (reqD.median / reqK.median).toFixed(1) : 'n/a'}× requests.
- Why: health reads per demo (namespace GET, then Deployments, ReplicaSets, Pods and Warning events of its namespace:
  5 requests per demo), then writes nothing unless a status changes; kubectl reads two cluster-wide lists and judges
  nothing. A cluster-wide list shared by all demos of one context would cut health to a handful of requests.
`
  return {name: 'health', markdown, verdicts}
}
