import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import pg from 'pg'
import {ensureCapacity} from './lib/capacity.js'
import type {Context} from './lib/context.js'
import {NODE} from './lib/env.js'
import {log, pool, run, tail} from './lib/proc.js'
import {ms, ratio, type Section, type Verdict} from './lib/report.js'
import {demoCreate, demoEnv, dryRun, leftoverNamespaces, type CreateOutcome} from './lib/stack.js'

/** Demos per round (issue 12: 200); DEMO_BENCH_GC_DEMOS changes it for a quick look. */
const DEFAULT_DEMOS = 200
/** `demo create`s in flight while setting up (not timed; 8 keeps 200 creates near 10 minutes on two loaded cores). */
const SETUP_CONCURRENCY = 8

/** DEMO_BENCH_GC_LOOP=skip leaves the shell-loop peer out (one namespace at a time: ~9 s each on the test bed, ~30 min at 200). */
function loopSkipped(): boolean {
  return process.env.DEMO_BENCH_GC_LOOP === 'skip'
}

function demoCount(): number {
  const n = Number(process.env.DEMO_BENCH_GC_DEMOS ?? DEFAULT_DEMOS)
  if (!Number.isInteger(n) || n < 1) throw new Error(`DEMO_BENCH_GC_DEMOS must be a positive integer, got "${process.env.DEMO_BENCH_GC_DEMOS}"`)
  return n
}

/** Caps high enough for every demo of the round to be live at once. */
function gcConfig(ctx: Context, demos: number): string {
  const file = join(ctx.workDir, 'demo.gc-bench.yaml')
  writeFileSync(file, `limits:\n  perOwner: ${demos + 10}\n  global: ${demos + 10}\n`)
  return file
}

/** The demos, created by `demo create` (so every row holds what gc reads, whatever its version records), then expired in the store. */
async function expiredDemos(ctx: Context, env: NodeJS.ProcessEnv, url: string, demos: number): Promise<CreateOutcome[]> {
  log(`gc: creating ${demos} demos with demo create (${SETUP_CONCURRENCY} at a time, not timed)`)
  const made = await pool(Array.from({length: demos}), SETUP_CONCURRENCY, async (_, i) => {
    const outcome = await demoCreate(ctx, env)
    if ((i + 1) % 25 === 0) log(`gc: ${i + 1}/${demos} created`)
    return outcome
  })
  const failed = made.filter((m) => !m.ok)
  if (failed.length > 0) throw new Error(`setup: ${failed.length} demo create failed: ${failed[0]!.error}`)
  // Moving time through the store, as the e2e tests do: every demo expired a minute ago.
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    await client.query(
      `UPDATE demo_orchestrator.demo_instances SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 minute'`,
    )
  } finally {
    await client.end()
  }
  return made
}

async function liveRows(url: string): Promise<number> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    const {rows} = await client.query<{n: string}>(`SELECT count(*) AS n FROM demo_orchestrator.demo_instances WHERE status <> 'destroyed'`)
    return Number(rows[0]?.n ?? 0)
  } finally {
    await client.end()
  }
}

/** Names of namespaces that still exist (terminating ones too: "gone" means gone). */
async function stillThere(ctx: Context, names: string[]): Promise<string[]> {
  const r = await ctx.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}'])
  const present = new Set(r.stdout.split(/\s+/))
  return names.filter((n) => present.has(n))
}

interface GcRun {
  ms: number
  maxRssMiB: number
  code: number | null
  report: string
}

/**
 * How long each contender may wait for its namespaces: the all-at-once peer's `--timeout`, and gc's
 * `--wait-timeout` the same (its default 5m timed out 155 of 200 destroys on the loaded test bed, whose namespace
 * controller cleared ~10 namespaces a minute).
 */
const WAIT_TIMEOUT_S = 1200

/** One `demo gc --json --max-deletions 1000 --wait-timeout 20m` under /usr/bin/time, for its peak RSS. */
async function runGc(ctx: Context, env: NodeJS.ProcessEnv): Promise<GcRun> {
  const args = ['gc', '--json', '--max-deletions', '1000', '--wait-timeout', `${WAIT_TIMEOUT_S}s`]
  const r = await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', NODE, ctx.pkg.bin, ...args], {
    cwd: ctx.workDir,
    env: {...process.env, NO_COLOR: '1', ...env},
    timeoutMs: 30 * 60_000,
  })
  const kb = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? Number.NaN)
  return {ms: r.ms, maxRssMiB: kb / 1024, code: r.code, report: r.code === 0 ? '' : tail(r.stderr, 5)}
}

/** N copies of the built-in stack applied with kubectl (one dry-run, the demo id replaced), ready, for the peers. */
async function peerNamespaces(ctx: Context, env: NodeJS.ProcessEnv, count: number, tag: string): Promise<string[]> {
  const {file, namespace} = await dryRun(ctx, env)
  const id = namespace.replace(/^demo-/, '')
  const template = readFileSync(file, 'utf8')
  const names: string[] = []
  const docs: string[] = []
  for (let i = 0; i < count; i++) {
    const copy = `${tag}${i.toString(36).padStart(3, '0')}${id}`.slice(0, id.length + 4)
    names.push(`demo-${copy}`)
    docs.push(template.replaceAll(id, copy))
  }
  const all = join(ctx.workDir, `peer-${tag}.yaml`)
  writeFileSync(all, docs.join('---\n'))
  for (const n of names) ctx.namespaces.add(n)
  const apply = await ctx.kubectl(['apply', '--server-side', '-f', all], {timeoutMs: 20 * 60_000})
  if (apply.code !== 0) throw new Error(`peer setup: kubectl apply exited ${apply.code}: ${tail(apply.stderr, 3)}`)
  const wait = await ctx.kubectl(['wait', '--for=condition=Available', 'deployment', '--all', '-A', '--timeout=600s'], {timeoutMs: 660_000})
  if (wait.code !== 0) throw new Error(`peer setup: kubectl wait exited ${wait.code}: ${tail(wait.stderr, 3)}`)
  return names
}

/** The peer "shell loop": one `kubectl delete namespace <ns> --wait` after another, timed as one shell process. */
async function peerLoop(ctx: Context, names: string[]): Promise<number> {
  const {kubectl, kubeconfig} = await ctx.cluster()
  const script = 'for ns in "$@"; do "$KUBECTL" delete namespace "$ns" --wait=true --timeout=300s >/dev/null || exit 1; done'
  const r = await run('bash', ['-c', script, 'loop', ...names], {
    env: {...process.env, KUBECTL: kubectl, KUBECONFIG: kubeconfig},
    timeoutMs: 60 * 60_000,
  })
  if (r.code !== 0) throw new Error(`peer loop exited ${r.code}: ${tail(r.stderr, 3)}`)
  for (const n of names) ctx.namespaces.delete(n)
  return r.ms
}

async function peerAllAtOnce(ctx: Context, names: string[]): Promise<number> {
  const r = await ctx.kubectl(['delete', 'namespace', '--wait=true', `--timeout=${WAIT_TIMEOUT_S}s`, ...names], {
    timeoutMs: (WAIT_TIMEOUT_S + 60) * 1000,
  })
  if (r.code !== 0) throw new Error(`kubectl delete namespace (all at once) exited ${r.code}: ${tail(r.stderr, 3)}`)
  for (const n of names) ctx.namespaces.delete(n)
  return r.ms
}

async function assertGcExists(ctx: Context): Promise<void> {
  const help = await ctx.demo(['gc', '--help'])
  if (help.code !== 0 || !/--max-deletions/.test(help.stdout)) {
    throw new Error('`demo gc` (with --max-deletions) is not in this build: the gc benchmark needs branch gc merged.')
  }
}

/**
 * Issue 12's benchmark: N expired demos cleaned by one `demo gc --json --max-deletions 1000` run (all gone, no
 * leaks, demos per minute, gc's peak RSS), and in the same run the peers over as many namespaces of the same
 * stack: a shell loop of `kubectl delete namespace --wait`, and one `kubectl delete namespace --wait` of all names.
 */
export async function gc(ctx: Context): Promise<Section> {
  await assertGcExists(ctx)
  const demos = demoCount()
  await ensureCapacity(ctx, demos)
  const url = await ctx.database()
  const env = {...(await demoEnv(ctx, url)), DEMO_CONFIG: gcConfig(ctx, demos)}
  const made = await expiredDemos(ctx, env, url, demos)
  const namespaces = made.map((m) => m.namespace!)
  log(`gc: running demo gc --json --max-deletions 1000 --wait-timeout ${WAIT_TIMEOUT_S}s over ${demos} expired demos`)
  const g = await runGc(ctx, env)
  if (g.code !== 0) throw new Error(`demo gc exited ${g.code}: ${g.report}`)
  const left = await stillThere(ctx, namespaces)
  const leaks = [...(await leftoverNamespaces(ctx)).filter((n) => namespaces.includes(n)), ...left]
  const rows = await liveRows(url)
  for (const n of namespaces) if (!left.includes(n)) ctx.namespaces.delete(n)
  log(`gc: ${ms(g.ms)}, ${demos - left.length}/${demos} gone, ${rows} live rows, peak RSS ${g.maxRssMiB.toFixed(0)} MiB`)

  let loopMs: number | null = null
  if (!loopSkipped()) {
    await ensureCapacity(ctx, demos)
    loopMs = await peerLoop(ctx, await peerNamespaces(ctx, env, demos, 'l'))
    log(`gc: peer loop ${ms(loopMs)}`)
  }
  await ensureCapacity(ctx, demos)
  const allMs = await peerAllAtOnce(ctx, await peerNamespaces(ctx, env, demos, 'a'))
  log(`gc: peer all-at-once ${ms(allMs)}`)
  return report({demos, g, gone: demos - left.length, leaks: new Set(leaks).size + rows, loopMs, allMs})
}

function report(r: {demos: number; g: GcRun; gone: number; leaks: number; loopMs: number | null; allMs: number}): Section {
  const faster = Math.min(r.loopMs ?? Number.POSITIVE_INFINITY, r.allMs)
  const perMinute = (n: number, t: number) => ((n / t) * 60_000).toFixed(0)
  const verdicts: Verdict[] = [
    {
      what: `\`demo gc\` cleans ${r.demos} expired demos`,
      target: `${r.demos}/${r.demos} gone, 0 leaks`,
      measured: `${r.gone}/${r.demos} gone, ${r.leaks} leaks`,
      met: r.gone === r.demos && r.leaks === 0,
    },
    {
      what: `\`demo gc\` wall time vs the faster kubectl peer (${r.demos} namespaces)`,
      target: '≤ 1.00×',
      measured: `${ratio(r.g.ms, faster)} (gc ${ms(r.g.ms)}, peer ${ms(faster)})`,
      met: r.g.ms <= faster,
    },
    {what: `peak RSS of \`demo gc\` at ${r.demos} demos`, target: '(reported)', measured: `${r.g.maxRssMiB.toFixed(0)} MiB`, met: null},
  ]
  const markdown = `### gc

${r.demos} demos made by \`demo create --type startup\` (not timed) and expired by moving \`expires_at\` back in the
store, then cleaned by one \`demo gc --json --max-deletions 1000 --wait-timeout ${WAIT_TIMEOUT_S}s\` (the all-at-once peer's \`--timeout\`); every namespace must be gone (not merely
terminating) and no row live afterwards. The peers, in the same run, delete as many namespaces holding the same
stack (applied with \`kubectl apply --server-side\` and Available before the clock starts): a shell loop of
\`kubectl delete namespace <ns> --wait\`, and one \`kubectl delete namespace --wait\` with all names. Before each
phase the harness checks the test bed has room for ${r.demos} demos (bench/lib/capacity.ts) and registers more fake
nodes when it has not. Peak RSS is \`/usr/bin/time\`'s maximum resident set size of the gc process.

| What | Wall time | Demos per minute | Peak RSS | Result |
|---|---:|---:|---:|---|
| \`demo gc --json --max-deletions 1000 --wait-timeout ${WAIT_TIMEOUT_S}s\` | ${ms(r.g.ms)} | ${perMinute(r.demos, r.g.ms)} | ${r.g.maxRssMiB.toFixed(0)} MiB | ${r.gone}/${r.demos} gone, ${r.leaks} leaks |
${
  r.loopMs === null
    ? '| shell loop of \`kubectl delete namespace <ns> --wait\` (peer) | not run (DEMO_BENCH_GC_LOOP=skip) | — | — | — |'
    : `| shell loop of \`kubectl delete namespace <ns> --wait\` (peer) | ${ms(r.loopMs)} | ${perMinute(r.demos, r.loopMs)} | — | ${ratio(r.g.ms, r.loopMs)} of it |`
}
| one \`kubectl delete namespace --wait <all>\` (peer) | ${ms(r.allMs)} | ${perMinute(r.demos, r.allMs)} | — | ${ratio(r.g.ms, r.allMs)} of it |
`
  return {name: 'gc', markdown, verdicts}
}
