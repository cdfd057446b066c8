import {existsSync} from 'node:fs'
import {cpus} from 'node:os'
import {join} from 'node:path'
import type {Context} from './lib/context.js'
import {log, run, tail} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {deleteNamespaces, demoCreate, demoEnv, DEMO_TYPE, dryRun, kubectlCreate} from './lib/stack.js'
import {summarize, type Summary} from './lib/stats.js'

const DEFAULT_RUNS = 7
const IMPORT_RUNS = 10

/** CPU seconds (user + system) one `demo create` costs, from /usr/bin/time. */
async function cpuOfOneCreate(ctx: Context, env: NodeJS.ProcessEnv): Promise<{text: string; namespace?: string | undefined}> {
  const r = await run('/usr/bin/time', ['-f', 'TIME %U %S', process.execPath, ctx.pkg.bin, 'create', '--type', DEMO_TYPE, '--json'], {
    cwd: ctx.workDir,
    env: {...process.env, ...env},
    timeoutMs: 420_000,
  })
  const namespace = /"namespace": "([a-z0-9-]+)"/.exec(r.stdout)?.[1]
  if (namespace) ctx.namespaces.add(namespace)
  const m = /TIME ([\d.]+) ([\d.]+)/.exec(r.stderr)
  if (r.code !== 0 || !m) return {text: 'n/a (the run failed)', namespace}
  const [user, sys] = [Number(m[1]), Number(m[2])]
  return {text: `${(user + sys).toFixed(2)} s (user ${user.toFixed(2)} s, system ${sys.toFixed(2)} s)`, namespace}
}

/** The cost of loading single dependencies in a fresh process: the parts of `demo create`'s start-up. */
async function importCosts(ctx: Context): Promise<Array<{label: string; s: Summary}>> {
  const cases = [
    {label: '`node -e 0` (bare Node)', code: '0'},
    {label: "`import('@oclif/core')`", code: "await import('@oclif/core')"},
    {label: "`import('zod')`", code: "await import('zod')"},
    {label: "`import('pg')`", code: "await import('pg')"},
    {label: "`import('@kubernetes/client-node')`", code: "await import('@kubernetes/client-node')"},
  ]
  // The build vendors these packages as esbuild bundles, which is what the built CLI loads.
  for (const file of ['oclif-core.cjs', 'pg.cjs', 'kubernetes-client.js']) {
    const bundle = join(ctx.pkg.root, 'dist', 'vendor', file)
    if (existsSync(bundle))
      cases.push({
        label: `\`import('dist/vendor/${file}')\` (the build's bundle, what the CLI loads)`,
        code: `await import(${JSON.stringify(bundle)})`,
      })
  }
  const times = cases.map(() => [] as number[])
  for (let i = -1; i < IMPORT_RUNS; i++) {
    for (const [k, c] of cases.entries()) {
      const r = await run(process.execPath, ['--input-type=module', '-e', c.code], {cwd: ctx.pkg.root})
      if (r.code !== 0) throw new Error(`${c.label}: ${r.stderr.trim()}`)
      if (i >= 0) times[k]!.push(r.ms)
    }
  }
  return cases.map((c, k) => ({label: c.label, s: summarize(times[k]!)}))
}
const WARMUPS = 1

/** Median peak RSS of a command's runs, from /usr/bin/time. */
function rssOf(values: number[]): string {
  return `${summarize(values).median.toFixed(0)} MiB`
}

/**
 * Untimed, before each timed create: waits until the deployment controller has reported every Deployment of the
 * previous run's stack Available in the Deployment's own status. `demo create` may return before those status writes
 * (it also counts a ReplicaSet's available pods: docs/decisions.md), and on the test bed's throttled controller
 * manager the next run's own writes would queue behind them, whichever tool runs next.
 */
async function settled(ctx: Context, namespace: string | undefined): Promise<void> {
  if (!namespace) return
  const r = await ctx.kubectl(['wait', '--for=condition=Available', 'deployment', '--all', '-n', namespace, '--timeout=120s'], {timeoutMs: 150_000})
  if (r.code !== 0) log(`warning: the stack in ${namespace} did not settle: ${tail(r.stderr, 2)}`)
}

/**
 * `demo create` (until every Deployment is Available) against kubectl applying the same rendered manifests
 * server-side and waiting for Available. Runs alternate demo, kubectl, demo, kubectl ...
 */
export async function create(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const url = await ctx.database()
  const env = await demoEnv(ctx, url)
  const demo: number[] = []
  const inProcess: number[] = []
  const peer: number[] = []
  const peerApply: number[] = []
  const peerWait: number[] = []
  const created: string[] = []
  const manifested = await ctx.manifested()
  const withManifest: number[] = []
  const phases = new Map<string, number[]>()
  const demoRss: number[] = []
  const peerRss: number[] = []
  for (let i = -WARMUPS; i < runs; i++) {
    // ABBA order (demo first in runs 1, 4, 5, ...; the warm-up is demo first), so neither tool always goes first.
    const demoFirst = i < 0 || i % 4 === 0 || i % 4 === 3
    const peerRun = async () => {
      const manifests = await dryRun(ctx, env)
      await settled(ctx, created.at(-1))
      created.push(manifests.namespace)
      const k = await kubectlCreate(ctx, manifests)
      if (!k.ok) throw new Error(`kubectl peer failed: ${k.error}`)
      return k
    }
    const k0 = demoFirst ? undefined : await peerRun()
    await settled(ctx, created.at(-1))
    const d = await demoCreate(ctx, env)
    if (d.namespace) created.push(d.namespace)
    if (!d.ok) throw new Error(`demo create failed: ${d.error}`)
    if (manifested) await settled(ctx, created.at(-1))
    const m = manifested ? await demoCreate(ctx, env, manifested) : undefined
    if (m?.namespace) created.push(m.namespace)
    if (m && !m.ok) throw new Error(`demo create (with manifest) failed: ${m.error}`)
    const k = k0 ?? (await peerRun())
    log(
      `create ${i < 0 ? '(warm-up)' : `#${i + 1}`}: demo ${ms(d.ms)} (in-process ${d.phaseTotalS ?? '?'} s)${m ? `, with manifest ${ms(m.ms)}` : ''}, kubectl ${ms(k.ms)} (apply ${ms(k.applyMs)} + wait ${ms(k.waitMs)})`,
    )
    if (i < 0) continue
    demo.push(d.ms)
    demoRss.push(d.maxRssMiB)
    peerRss.push(k.maxRssMiB)
    if (m) withManifest.push(m.ms)
    for (const [phase, seconds] of Object.entries(d.phases)) phases.set(phase, [...(phases.get(phase) ?? []), seconds * 1000])
    if (d.phaseTotalS !== undefined) inProcess.push(d.phaseTotalS * 1000)
    peer.push(k.ms)
    peerApply.push(k.applyMs)
    peerWait.push(k.waitMs)
  }
  const cpu = await cpuOfOneCreate(ctx, env)
  if (cpu.namespace) created.push(cpu.namespace)
  await deleteNamespaces(ctx, created)
  const imports = await importCosts(ctx)
  const [sd, sp] = [summarize(demo), summarize(peer)]
  const r = sd.median / sp.median
  const verdicts: Verdict[] = [
    {
      what: '`demo create` vs kubectl apply + wait (ratio of medians)',
      target: '≤ 0.8×',
      measured: `${ratio(sd.median, sp.median)} (demo ${ms(sd.median)}, kubectl ${ms(sp.median)})`,
      met: r <= 0.8,
    },
  ]
  const si = summarize(inProcess)
  const markdown = `### create

\`demo create --type ${DEMO_TYPE} --json --wait-timeout 300s\` (22 objects: Namespace, ResourceQuota, LimitRange,
5 NetworkPolicies, Secret, 6 Services, 6 Deployments, Ingress; returns when every Deployment is Available, by its own status or by its ReplicaSet's)
against the peer: \`demo create --dry-run\` rendered once per run (not timed), then
\`kubectl apply --server-side -f <yaml>\` + \`kubectl wait --for=condition=Available deployment --all -n <ns> --timeout=300s\`
(timed together). ${runs} runs after ${WARMUPS} warm-up round, demo and kubectl one after the other in ABBA order; state in a fresh Postgres database;
every demo process runs with \`DEMO_CONFIG\` pointing at a file that only raises \`limits\` (perOwner/global 100).
Stacks stay up during the benchmark and are deleted together at its end. Before each timed create, untimed, \`kubectl wait --for=condition=Available\` on the stack of the run before lets the deployment controller finish its status writes, so no run queues behind the last one's.

${header(['Ratio to kubectl (median)', 'Peak RSS (median)'])}
${row('`demo create`', sd, [ratio(sd.median, sp.median), rssOf(demoRss)])}
${row('↳ of which in-process (`phaseTimings.total`: record, namespace, apply, wait)', si, [ratio(si.median, sp.median), ''])}
${withManifest.length > 0 ? row('`demo create`, same build + `oclif manifest`', summarize(withManifest), [ratio(summarize(withManifest).median, sp.median), '']) + '\n' : ''}
${row('`kubectl apply --server-side` + `kubectl wait` (peer)', sp, ['1.00×', `${rssOf(peerRss)} (the larger of the two)`])}
${row('↳ `kubectl apply --server-side`', summarize(peerApply), ['', ''])}
${row('↳ `kubectl wait --for=condition=Available`', summarize(peerWait), ['', ''])}

Goal demo/kubectl ≤ 0.8×: **${r <= 0.8 ? 'met' : 'missed'}** (${ratio(sd.median, sp.median)}).
The CLI's phases (medians of \`phaseTimings\`, ms; \`total\` runs from the row's insert to Available):
${[...phases.entries()].map(([phase, values]) => `${phase} ${summarize(values).median.toFixed(0)}`).join(', ')}.
The difference between the wall time and \`phaseTimings.total\` is the process's own cost before and after the
steps: Node and oclif start-up, loading the Kubernetes client and pg, opening and migrating the state store.
One more \`demo create\`, untimed, under \`/usr/bin/time\`: **${cpu.text}** of CPU for one demo, which bounds how many
can start at once on ${cpus().length} cores (see concurrent).
Where that start-up goes (separate processes, ${IMPORT_RUNS} interleaved runs each, from the package under test):

${header(['Minus bare Node (median)'])}
${imports.map((c) => row(c.label, c.s, [ms(c.s.median - imports[0]!.s.median)])).join('\n')}
`
  return {name: 'create', markdown, verdicts}
}
