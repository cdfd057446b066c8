import type {Context} from './lib/context.js'
import {findKubectl} from './lib/env.js'
import {log, run, type RunResult} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {summarize, type Summary} from './lib/stats.js'

const WARMUPS = 2
const DEFAULT_RUNS = 20
const TARGETS = {'--version': 150, '--help': 300} as const

interface Case {
  label: string
  exec: () => Promise<RunResult>
}

/** `demo --version` and `demo --help` against `kubectl version --client`: the cost of one process spawn. */
export async function startup(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const kubectl = findKubectl()
  // The same build with `oclif manifest` run in it, measured alongside: the effect of shipping a manifest.
  const manifested = await ctx.manifested()
  const cases: Case[] = [
    {label: '`demo --version`', exec: () => ctx.demo(['--version'])},
    {label: '`demo --help`', exec: () => ctx.demo(['--help'])},
    {label: '`kubectl version --client`', exec: () => run(kubectl, ['version', '--client'], {cwd: ctx.workDir})},
    {label: '`node -e 0` (bare Node start, reference)', exec: () => run(process.execPath, ['-e', '0'], {cwd: ctx.workDir})},
  ]
  if (manifested) {
    cases.push(
      {label: '`demo --version`, same build + `oclif manifest`', exec: () => ctx.demo(['--version'], {}, {pkg: manifested})},
      {label: '`demo --help`, same build + `oclif manifest`', exec: () => ctx.demo(['--help'], {}, {pkg: manifested})},
    )
  }

  const times = cases.map(() => [] as number[])
  for (let i = -WARMUPS; i < runs; i++) {
    for (const [k, c] of cases.entries()) {
      const r = await c.exec()
      if (r.code !== 0) throw new Error(`${c.label} exited ${r.code}: ${r.stderr.trim()}`)
      if (i >= 0) times[k]!.push(r.ms)
    }
  }
  const all = times.map((t) => summarize(t))
  const [version, help, peer, bare] = all as [Summary, Summary, Summary, Summary]
  log(`startup: --version median ${ms(version.median)}, --help ${ms(help.median)}, kubectl ${ms(peer.median)}`)
  const verdicts: Verdict[] = [
    {
      what: 'startup `demo --version`',
      target: `≤ ${TARGETS['--version']} ms`,
      measured: `median ${ms(version.median)}, p95 ${ms(version.p95)} (kubectl ${ms(peer.median)})`,
      met: version.median <= TARGETS['--version'],
    },
    {
      what: 'startup `demo --help`',
      target: `≤ ${TARGETS['--help']} ms`,
      measured: `median ${ms(help.median)}, p95 ${ms(help.p95)}`,
      met: help.median <= TARGETS['--help'],
    },
  ]
  const extra = all.slice(4).map((s, i) => {
    const target = cases[4 + i]!.label.includes('--help') ? TARGETS['--help'] : TARGETS['--version']
    return row(cases[4 + i]!.label, s, [s.median <= target ? 'would be met' : 'would still miss', ratio(s.median, peer.median)])
  })
  const markdown = `### startup

${runs} runs of each command after ${WARMUPS} warm-ups, interleaved; wall time per process spawn.
The targets apply to the median; p95 is shown for the tail.
\`oclif.manifest.json\` in the package under test: **${ctx.pkg.hasManifest ? 'yes' : 'no'}**${manifested ? ' (\`npm run build\` makes none; the last two rows are the same build with \`oclif manifest\` run in it)' : ''}.

${header(['Target', 'Ratio to kubectl (median)'])}
${row(cases[0]!.label, version, [`≤ ${TARGETS['--version']} ms: ${verdicts[0]!.met ? 'met' : '**missed**'}`, ratio(version.median, peer.median)])}
${row(cases[1]!.label, help, [`≤ ${TARGETS['--help']} ms: ${verdicts[1]!.met ? 'met' : '**missed**'}`, ratio(help.median, peer.median)])}
${row(cases[2]!.label, peer, ['(peer)', '1.00×'])}
${row(cases[3]!.label, bare, ['(reference)', ratio(bare.median, peer.median)])}
${extra.join('\n')}
`
  return {name: 'startup', markdown, verdicts}
}
