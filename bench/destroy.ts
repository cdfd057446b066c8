import type {Context} from './lib/context.js'
import {log, pool, tail} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {demoCreate, demoEnv, DEMO_TYPE, type CreateOutcome} from './lib/stack.js'
import {summarize} from './lib/stats.js'

const DEFAULT_RUNS = 8

/**
 * `demo destroy <id> --yes` against `kubectl delete namespace <ns> --wait` on identical stacks, all made by
 * `demo create` beforehand (not timed). Runs alternate demo, kubectl, demo, kubectl ...
 */
export async function destroy(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const url = await ctx.database()
  const env = await demoEnv(ctx, url)
  log(`destroy: creating ${2 * runs} stacks with demo create (3 at a time, not timed)`)
  const stacks: CreateOutcome[] = await pool(Array.from({length: 2 * runs}), 3, () => demoCreate(ctx, env))
  const failed = stacks.filter((s) => !s.ok)
  if (failed.length > 0) throw new Error(`setup: ${failed.length} demo create failed: ${failed[0]!.error}`)
  const demo: number[] = []
  const peer: number[] = []
  const demoRss: number[] = []
  const peerRss: number[] = []
  for (let i = 0; i < runs; i++) {
    const mine = stacks[2 * i]!
    const theirs = stacks[2 * i + 1]!
    const viaDemo = async () => {
      const d = await ctx.demo(['destroy', mine.id!, '--yes', '--json'], env, {timeoutMs: 420_000})
      const outcome = (JSON.parse(d.stdout || '{}') as {outcome?: string}).outcome
      if (d.code !== 0 || outcome !== 'destroyed') throw new Error(`demo destroy ${mine.id} exited ${d.code} (${outcome}): ${tail(d.stderr, 3)}`)
      ctx.namespaces.delete(mine.namespace!)
      return d
    }
    const viaKubectl = async () => {
      const k = await ctx.kubectl(['delete', 'namespace', theirs.namespace!, '--wait=true', '--timeout=300s'], {timeoutMs: 330_000})
      if (k.code !== 0) throw new Error(`kubectl delete namespace ${theirs.namespace} exited ${k.code}: ${tail(k.stderr, 3)}`)
      ctx.namespaces.delete(theirs.namespace!)
      return k
    }
    // ABBA order (demo first in runs 1, 4, 5, 8 ...), so neither tool always goes first.
    const demoFirst = i % 4 === 0 || i % 4 === 3
    const d = demoFirst ? await viaDemo() : undefined
    const k = await viaKubectl()
    const d2 = d ?? (await viaDemo())
    log(`destroy #${i + 1} (${demoFirst ? 'demo first' : 'kubectl first'}): demo ${ms(d2.ms)}, kubectl ${ms(k.ms)}`)
    demo.push(d2.ms)
    peer.push(k.ms)
    demoRss.push(d2.maxRssMiB)
    peerRss.push(k.maxRssMiB)
  }
  const [sd, sp] = [summarize(demo), summarize(peer)]
  const verdicts: Verdict[] = [
    {
      what: '`demo destroy` vs `kubectl delete namespace --wait` (ratio of medians)',
      target: '≤ 1.0×',
      measured: `${ratio(sd.median, sp.median)} (demo ${ms(sd.median)}, kubectl ${ms(sp.median)})`,
      met: sd.median <= sp.median,
    },
  ]
  const markdown = `### destroy

${2 * runs} identical \`demo create --type ${DEMO_TYPE}\` stacks made first (not timed), then ${runs} runs of
\`demo destroy <id> --yes --json\` (marks the demo destroying, deletes the namespace, waits until it is gone,
marks it destroyed) and \`kubectl delete namespace <ns> --wait=true\`, one after the other in ABBA order (demo first
in runs 1, 4, 5, 8, …). Both wait for the namespace to disappear, which the namespace controller decides: it acts
5 s after the namespace's deletion, and when a pod is still terminating after its pass, once more 5 s later, so a
namespace with pods goes in about 5.5 s or about 10.5 s. \`demo destroy\` deletes the demo's own pods (gracefully)
right after the namespace, so they are gone by the first pass; kubectl's runs take either way by chance, and its
median swings with that split. Min compares the two when both take the short way.

${header(['Ratio to kubectl (median)', 'Peak RSS (median)'])}
${row('`demo destroy <id> --yes`', sd, [ratio(sd.median, sp.median), `${summarize(demoRss).median.toFixed(0)} MiB`])}
${row('`kubectl delete namespace <ns> --wait` (peer)', sp, ['1.00×', `${summarize(peerRss).median.toFixed(0)} MiB`])}
`
  return {name: 'destroy', markdown, verdicts}
}
