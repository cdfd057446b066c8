import {chmodSync, existsSync, rmSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {StoreError} from '../../core/errors.js'
import type {Db} from './db.js'
import {openEmbedded} from './embedded.js'
import {tryAcquireLock} from './embedded-lock.js'
import {FrameReader, frame, toWireError, type StoreReply, type StoreRequest} from './store-protocol.js'
import {socketPathFor} from './store-socket.js'

/*
 * The embedded store's server: one process per data directory that keeps PGlite open while `demo` commands
 * come and go, and answers them over a local socket (store-client.ts starts it on first use). Opening PGlite is
 * most of a short command's time (~0.3 s of its WebAssembly PostgreSQL starting, every time); with the server
 * a `demo list` costs what it costs on shared Postgres. It also lets several commands use the store at once:
 * each connection is a session, statements interleave as they would on Postgres, and a transaction holds
 * PGlite's own mutex until it ends, so others wait for it, not for a whole command.
 *
 * Lifetime: it stops once no client has been connected for `idleMs` (counted from when PGlite is open, and at
 * least FIRST_CLIENT_MS before its first client: it was started for one), when its data directory is removed, when
 * a client of another build says hello (the package was upgraded: that client starts a server of its own), or on
 * SIGTERM/SIGINT/SIGHUP. Stopping, it gives up its socket at once and closes PGlite once its connected clients
 * are done. The store itself is guarded as before by its lock (embedded-lock.ts), which the server holds only
 * while PGlite is open (embedded.ts, without an idle limit): a retiring server and its successor, or a `demo` of
 * an older version that opens the store itself, take turns, each yielding as soon as it is idle and another
 * waits.
 */

export interface ServeOptions {
  /** This build's identity (store-client.ts `serverKey`); a client of another build makes the server stop. */
  key: string
  /** How long to stay up with no client connected. */
  idleMs: number
  /**
   * How long a client's transaction may sit without a statement before it is rolled back (default 60 s): it
   * holds PGlite's mutex, so every other command waits for it. Postgres ends such a session the same way
   * (idle_in_transaction_session_timeout, db.ts); a client that died is rolled back at once.
   */
  idleInTransactionMs?: number
  /** Where its start, first client and stop are told, one line each (default: stderr, which is `<dataDir>.server.log`). */
  log?: (line: string) => void
}

export const IDLE_IN_TRANSACTION_MS = 60_000

const TICK_MS = 250
/**
 * Until its first client has come, the server stays at least this long, whatever its idle limit: it was started
 * for a command that is on its way (still loading, or slowed by a busy machine).
 */
const FIRST_CLIENT_MS = 5_000

/** One line of `<dataDir>.server.log`: its time and the server's pid first (store-client.ts `lastLine` strips them). */
export function logToStderr(line: string): void {
  process.stderr.write(`${new Date().toISOString()} pid ${process.pid}: ${line}\n`)
}

/** Serves `dataDir` until idle; resolves once stopped, at once if another server is already serving it. */
export async function serveEmbedded(dataDir: string, options: ServeOptions): Promise<void> {
  const log = options.log ?? logToStderr
  const releaseRole = tryAcquireLock(`${dataDir}.server.lock`, {command: SERVER_COMMAND})
  if (!releaseRole) return log(`another server serves ${dataDir}; leaving it to that one`)
  await new StoreServer(dataDir, {...options, log}, releaseRole).run()
  log('stopped')
}

const SERVER_COMMAND = 'demo (embedded store server)'
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

class StoreServer {
  private readonly socketPath: string
  private readonly clients = new Set<Socket>()
  /** While PGlite waits for another process's lock, whom it waits for: told to every client, also to those that come later. */
  private waitingFor: string | undefined
  private readonly db: Db
  private readonly server = createServer((socket) => this.accept(socket))
  /** When the last client left (or PGlite opened): the idle clock runs from here, and only once PGlite is open. */
  private lastActive = Date.now()
  private isOpen = false
  private hadClient = false
  private stopping: Promise<void> | undefined
  private tick: NodeJS.Timeout | undefined

  constructor(
    private readonly dataDir: string,
    private readonly options: ServeOptions & {log: (line: string) => void},
    private readonly releaseRole: () => void,
  ) {
    this.socketPath = socketPathFor(dataDir)
    const opened = openEmbedded(dataDir, {idleMs: Number.POSITIVE_INFINITY, command: SERVER_COMMAND, notice: (notice) => this.tell(notice)})
    this.db = {
      ...opened,
      query: async <T>(sql: string, params?: unknown[]) => {
        const result = await opened.query<T>(sql, params)
        this.waitingFor = undefined
        return result
      },
    }
  }

  async run(): Promise<void> {
    const {log, idleMs} = this.options
    log(`serving ${this.dataDir} (stops after ${idleMs} ms without a client)`)
    this.tick = setInterval(() => this.checkIdle(), TICK_MS)
    for (const signal of SIGNALS) process.once(signal, this.onSignal)
    // We hold the server's lock, so a socket file left here is a dead server's.
    rmSync(this.socketPath, {force: true})
    const closed = new Promise<void>((resolve) => this.server.once('close', () => resolve()))
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.socketPath, () => resolve())
    })
    if (process.platform !== 'win32') chmodSync(this.socketPath, 0o600)
    log(`listening on ${this.socketPath}`)
    // Open PGlite now, while the first client is still sending its hello.
    const opening = Date.now()
    void this.db.query('SELECT 1').then(
      () => this.opened(`the store is open (${Date.now() - opening} ms)`),
      (error: unknown) => this.opened(`the store did not open: ${error instanceof Error ? error.message : String(error)}`),
    )
    await closed
    await this.stop('its socket closed')
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => void this.stop(signal)

  private opened(what: string): void {
    this.options.log(what)
    this.isOpen = true
    this.lastActive = Date.now()
  }

  /**
   * Stops the server when idle or when its data directory is gone (after PGlite made it). Idleness seen here is
   * confirmed once more after the event loop has polled for connections: timers run before that poll, so a client
   * whose connection waits to be accepted (PGlite's open or a long statement kept the loop busy past a tick) is
   * not shut out. That race stopped servers before their first client on a loaded machine (clean-clone CI).
   */
  private checkIdle(): void {
    // Before PGlite is open the directory may not exist yet (a new store, made once the store's lock is ours).
    if (this.isOpen && !existsSync(this.dataDir)) return void this.stop('its data directory was removed')
    if (!this.isIdle()) return
    setImmediate(() => {
      if (this.isIdle()) void this.stop(`no client for ${Date.now() - this.lastActive} ms`)
    })
  }

  /** No client, PGlite open (until then a client is on its way or waiting), and the idle limit passed. */
  private isIdle(): boolean {
    if (!this.isOpen || this.clients.size > 0) return false
    const limit = this.hadClient ? this.options.idleMs : Math.max(this.options.idleMs, FIRST_CLIENT_MS)
    return Date.now() - this.lastActive >= limit
  }

  private tell(notice: string): void {
    this.waitingFor = notice
    for (const client of this.clients) client.write(frame({notice}))
  }

  private accept(socket: Socket): void {
    if (!this.hadClient) this.options.log('first client connected')
    this.hadClient = true
    this.clients.add(socket)
    this.lastActive = Date.now()
    if (this.waitingFor) socket.write(frame({notice: this.waitingFor}))
    const session = new ClientSession(this.db, (reply) => socket.write(frame(reply)), {
      key: this.options.key,
      idleInTransactionMs: this.options.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS,
      where: this.dataDir,
      stopServer: () => void this.stop('a client of another build connected'),
    })
    const reader = new FrameReader<StoreRequest>()
    socket.on('data', (chunk) => {
      this.lastActive = Date.now()
      for (const request of reader.push(chunk)) session.handle(request)
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      this.clients.delete(socket)
      this.lastActive = Date.now()
      session.abandon()
    })
  }

  private stop(why: string): Promise<void> {
    this.stopping ??= (async () => {
      this.options.log(`stopping: ${why}`)
      clearInterval(this.tick)
      for (const signal of SIGNALS) process.off(signal, this.onSignal)
      // No new clients from here on, and the socket path is free for the next server at once; the clients
      // connected finish first (their connections end with their commands), then PGlite closes.
      const drained = new Promise<void>((resolve) => this.server.close(() => resolve()))
      rmSync(this.socketPath, {force: true})
      this.releaseRole()
      await drained
      await this.db.close().catch(() => {})
    })()
    return this.stopping
  }
}

/** Rolls back a transaction the client ended without deciding (it died, or closed the connection mid-way). */
class Abandoned extends Error {}

interface OpenTransaction {
  tx: Db
  end: (commit: boolean) => void
  ended: Promise<unknown>
  /** Rolls the transaction back when it sits idle too long (ClientSession.touch). */
  timer?: NodeJS.Timeout
}

interface SessionOptions {
  key: string
  idleInTransactionMs: number
  /** The data directory, for messages. */
  where: string
  stopServer: () => void
}

/** One client's requests: statements, and transactions it drives statement by statement. */
class ClientSession {
  private readonly transactions = new Map<number, OpenTransaction>()
  /** Transactions rolled back for sitting idle: their client hears why at its next statement. */
  private readonly expired = new Set<number>()
  private nextTransaction = 1
  private greeted = false

  constructor(
    private readonly db: Db,
    private readonly reply: (reply: StoreReply) => void,
    private readonly options: SessionOptions,
  ) {}

  handle(request: StoreRequest): void {
    this.answer(request).then(
      (value) => this.reply({id: request.id, ok: true, value}),
      (error: unknown) => this.reply({id: request.id, ok: false, error: toWireError(error)}),
    )
  }

  private async answer(request: StoreRequest): Promise<unknown> {
    if (request.op === 'hello') return this.greet(request.key)
    if (!this.greeted) throw new Error('say hello first')
    switch (request.op) {
      case 'query':
        return this.statementTarget(request.tx).query(request.sql, request.params)
      case 'begin':
        return this.begin()
      case 'end':
        return this.end(request.tx, request.commit)
    }
  }

  /** A client of another build makes this server retire (store-server.ts, Lifetime); it starts its own. */
  private greet(key: string): null {
    if (key !== this.options.key) {
      this.options.stopServer()
      throw new Error('stale server')
    }
    this.greeted = true
    return null
  }

  private statementTarget(tx: number | undefined): Db {
    if (tx === undefined) return this.db
    const open = this.openTransaction(tx)
    this.touch(tx, open)
    return open.tx
  }

  private async end(tx: number, commit: boolean): Promise<null> {
    const open = this.openTransaction(tx)
    clearTimeout(open.timer)
    open.end(commit)
    await open.ended
    return null
  }

  private openTransaction(tx: number): OpenTransaction {
    const open = this.transactions.get(tx)
    if (open) return open
    if (this.expired.delete(tx)) {
      const seconds = this.options.idleInTransactionMs / 1000
      throw new StoreError(
        `The state store at ${this.options.where} rolled back this command's transaction: it sat ${seconds} s without a statement while other commands waited for it.`,
        {hint: 'Run the command again.'},
      )
    }
    throw new Error(`no open transaction ${tx}`)
  }

  /** (Re)starts the transaction's idle clock: rolled back after idleInTransactionMs without a statement. */
  private touch(tx: number, open: OpenTransaction): void {
    clearTimeout(open.timer)
    open.timer = setTimeout(() => {
      this.expired.add(tx)
      open.end(false)
    }, this.options.idleInTransactionMs)
  }

  /** Opens a transaction that stays open until the client's `end` (Db.transaction holds PGlite's mutex until then). */
  private begin(): Promise<number> {
    const id = this.nextTransaction++
    return new Promise<number>((begun, failed) => {
      const open = {} as OpenTransaction
      const decided = new Promise<boolean>((resolve) => {
        open.end = resolve
      })
      // Db.transaction runs its work after BEGIN, asynchronously: `open.ended` is set by then.
      open.ended = this.db
        .transaction(async (tx) => {
          open.tx = tx
          this.transactions.set(id, open)
          this.touch(id, open)
          begun(id)
          if (!(await decided)) throw new Abandoned()
        })
        .catch((error: unknown) => {
          if (!(error instanceof Abandoned)) throw error
        })
        .finally(() => {
          clearTimeout(open.timer)
          this.transactions.delete(id)
        })
      open.ended.catch(failed)
    })
  }

  /** The client is gone: whatever it left open is rolled back. */
  abandon(): void {
    for (const open of this.transactions.values()) open.end(false)
  }
}
