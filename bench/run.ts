// Benchmarks of the demo CLI against peer tools, measured side by side in the same run.
//   npm run bench                                  # everything
//   npm run bench -- startup list --runs 10        # some, with a run count
// Writes docs/benchmarks.md (only the sections of the benchmarks that ran are replaced). See that file.
import {cpus, loadavg} from 'node:os'
import {concurrent} from './concurrent.js'
import {create} from './create.js'
import {database} from './database.js'
import {destroy} from './destroy.js'
import {gc} from './gc.js'
import {Context} from './lib/context.js'
import {versions} from './lib/env.js'
import {preparePackage} from './lib/package.js'
import {log} from './lib/proc.js'
import {ORDER, writeReport, type Section} from './lib/report.js'
import {health} from './health.js'
import {list} from './list.js'
import {remoteStore} from './remote-store.js'
import {seed} from './seed.js'
import {startup} from './startup.js'
import {stats} from './stats.js'

type Name = (typeof ORDER)[number]
const BENCHMARKS: Record<Name, (ctx: Context) => Promise<Section>> = {
  startup,
  list,
  'remote-store': remoteStore,
  stats,
  seed,
  create,
  database,
  concurrent,
  destroy,
  health,
  gc,
}

interface Args {
  names: Name[]
  runs: number | undefined
  write: boolean
  useDist: boolean
}

function parseArgs(argv: string[]): Args {
  const names: Name[] = []
  let runs: number | undefined
  let write = true
  let useDist = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--runs' || arg.startsWith('--runs=')) {
      const value = arg.includes('=') ? arg.split('=')[1] : argv[++i]
      runs = Number(value)
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a positive integer, got "${value}"`)
    } else if (arg === '--no-write') write = false
    else if (arg === '--use-dist') useDist = true
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(`usage: npm run bench -- [${ORDER.join('|')} ...] [--runs N] [--no-write] [--use-dist]\n`)
      process.exit(0)
    } else if ((ORDER as readonly string[]).includes(arg)) names.push(arg as Name)
    else throw new Error(`unknown benchmark or option "${arg}"; benchmarks: ${ORDER.join(', ')}`)
  }
  // gc (200 demos, minutes of setup) runs only when named: `npm run bench -- gc`.
  return {names: names.length > 0 ? ORDER.filter((n) => names.includes(n)) : ORDER.filter((n) => n !== 'gc'), runs, write, useDist}
}

async function main(): Promise<void> {
  const {names, runs, write, useDist} = parseArgs(process.argv.slice(2))
  const ctx = new Context(runs, await preparePackage({useDist}))
  const sections: Section[] = []
  let failed = false
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`)
    void ctx.cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    for (const name of names) {
      log(`== ${name}`)
      try {
        const before = loadavg()[0]!
        const section = await BENCHMARKS[name](ctx)
        section.markdown += `\nLoad average (1 min) before / after: ${before.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores (the machine is shared with other work).\n`
        sections.push(section)
      } catch (error) {
        failed = true
        log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      }
    }
    if (write && sections.length > 0) {
      const needsCluster = names.some((n) => !['startup', 'list', 'remote-store', 'stats', 'seed'].includes(n))
      const v = await versions(needsCluster ? await ctx.cluster() : undefined, ctx.lastDatabaseUrl, ctx.pkg)
      // The settings that pick another test bed are part of the command: without them a rerun measures another cluster.
      const settings = ['DEMO_BENCH_CLUSTER', 'DEMO_CLUSTER_CONTROLLER_QPS'].flatMap((name) =>
        process.env[name] ? [`${name}=${process.env[name]} `] : [],
      )
      const command = `${settings.join('')}npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
      writeReport(sections, v, command)
      log(`wrote docs/benchmarks.md (${sections.map((s) => s.name).join(', ')})`)
    }
    for (const s of sections)
      for (const v of s.verdicts) log(`${v.met === null ? 'n/a   ' : v.met ? 'met   ' : 'MISSED'} ${v.what}: ${v.measured} (target ${v.target})`)
  } finally {
    await ctx.cleanup()
  }
  if (failed) process.exitCode = 1
}

await main()
