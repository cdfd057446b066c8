import {createServer, connect, type Server, type Socket} from 'node:net'
import type {Context} from './lib/context.js'
import {log, run} from './lib/proc.js'
import {header, ms, ratio, row, type Section, type Verdict} from './lib/report.js'
import {summarize} from './lib/stats.js'

/** Each direction of the proxy waits this long: a round trip of 2 × DELAY_MS, a database in another region or network. */
const DELAY_MS = 25
const DEFAULT_RUNS = 10
const WARMUPS = 2
const T = 'demo_orchestrator.demo_instances'
/** The page `demo list --json` reads (live demos, newest first, 25): what psql runs over the same link. */
const LIST_SQL = `SELECT * FROM ${T} WHERE status IN ('creating', 'ready', 'degraded', 'destroying') ORDER BY created_at DESC, id LIMIT 25`

/** A TCP proxy to `target` that delays every chunk by DELAY_MS each way, and counts what clients send. */
class DelayProxy {
  /** Chunks clients sent since the last reset: about one per round trip (a message, or a batch of them). */
  sends = 0
  private readonly sockets = new Set<Socket>()
  private readonly server: Server

  constructor(private readonly target: {host: string; port: number}) {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
      }
      this.relay(client, upstream, true)
      this.relay(upstream, client, false)
    })
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as {port: number}).port
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private relay(from: Socket, to: Socket, counted: boolean): void {
    from.on('data', (chunk) => {
      if (counted) this.sends++
      setTimeout(() => to.write(chunk), DELAY_MS)
    })
    from.on('close', () => setTimeout(() => to.destroy(), DELAY_MS))
    from.on('error', () => to.destroy())
  }
}

/**
 * `demo list --json` with its state database 50 ms away (a TCP proxy delaying each direction by 25 ms), next to
 * `psql -c` of the same page through the same proxy, and `demo list --json` on the same database directly. Shows
 * what a shared database in another network costs each command (connect, TLS/SCRAM, the schema check, the clock,
 * the query): round trips, not CPU.
 */
export async function remoteStore(ctx: Context): Promise<Section> {
  const runs = ctx.runs ?? DEFAULT_RUNS
  const url = await ctx.database()
  // The first command migrates the new database, so that no run below does.
  const first = await ctx.demo(['list', '--json'], {DEMO_DATABASE_URL: url})
  if (first.code !== 0) throw new Error(`demo list exited ${first.code}: ${first.stderr.trim()}`)
  const direct = new URL(url)
  const proxy = new DelayProxy({host: direct.hostname, port: Number(direct.port || 5432)})
  const remote = new URL(url)
  remote.host = `127.0.0.1:${await proxy.listen()}`
  try {
    const demo = (databaseUrl: string) => ctx.demo(['list', '--json'], {DEMO_DATABASE_URL: databaseUrl})
    const psql = () => run('psql', ['-X', '-q', '-A', '-v', 'ON_ERROR_STOP=1', '-d', remote.toString(), '-c', LIST_SQL], {cwd: ctx.workDir})
    for (let i = 0; i < WARMUPS; i++) {
      await demo(remote.toString())
      await psql()
    }
    const times = {remote: [] as number[], local: [] as number[], psql: [] as number[]}
    const sends = {remote: [] as number[], psql: [] as number[]}
    for (let i = 0; i < runs; i++) {
      proxy.sends = 0
      const r = await demo(remote.toString())
      if (r.code !== 0) throw new Error(`demo list over the proxy exited ${r.code}: ${r.stderr.trim()}`)
      sends.remote.push(proxy.sends)
      times.remote.push(r.ms)
      proxy.sends = 0
      const p = await psql()
      if (p.code !== 0) throw new Error(`psql over the proxy exited ${p.code}: ${p.stderr.trim()}`)
      sends.psql.push(proxy.sends)
      times.psql.push(p.ms)
      const l = await demo(url)
      if (l.code !== 0) throw new Error(`demo list exited ${l.code}: ${l.stderr.trim()}`)
      times.local.push(l.ms)
    }
    const [sr, sp, sl] = [summarize(times.remote), summarize(times.psql), summarize(times.local)]
    const [nr, np] = [summarize(sends.remote).median, summarize(sends.psql).median]
    log(`remote-store: demo ${ms(sr.median)} (${nr} sends), psql ${ms(sp.median)} (${np} sends), demo on the database directly ${ms(sl.median)}`)
    const verdicts: Verdict[] = [
      {
        what: '`demo list --json` with the state database 50 ms away vs `psql -c` of the same page over the same link',
        target: 'reported (no target set)',
        measured: `${ratio(sr.median, sp.median)} (demo ${ms(sr.median)}, psql ${ms(sp.median)}); ${nr} vs ${np} client sends`,
        met: null,
      },
    ]
    const markdown = `### remote-store

The state database ${2 * DELAY_MS} ms away: a TCP proxy in the benchmark delays every chunk by ${DELAY_MS} ms in each
direction in front of the same Postgres. ${WARMUPS} warm-ups, then ${runs} runs of each, interleaved. Client sends
are the chunks the client wrote to the proxy during one command: about one per round trip. demo's command connects
(TCP, SCRAM), checks the schema, reads the database's clock and reads the page; it starts the connection before
oclif loads, so part of it overlaps loading the command. psql connects and runs the same page's query.

${header(['Ratio to psql (median)', 'Client sends (median)'])}
${row('`demo list --json`, database 50 ms away', sr, [ratio(sr.median, sp.median), String(nr)])}
${row('`psql -c` same page, database 50 ms away (peer)', sp, ['1.00×', String(np)])}
${row('`demo list --json`, the same database directly (reference)', sl, [ratio(sl.median, sp.median), ''])}
`
    return {name: 'remote-store', markdown, verdicts}
  } finally {
    await proxy.close()
  }
}
