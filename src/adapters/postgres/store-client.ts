import {spawn} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {DemoError, StoreUnavailableError} from '../../core/errors.js'
import type {Db, QueryResult} from './db.js'
import {FrameReader, frame, fromWireError, type StoreReply, type StoreRequest} from './store-protocol.js'
import {socketPathFor} from './store-socket.js'

/**
 * How long the server stays up after its last client left. The next command within this time skips PGlite's
 * start (~0.3 s); an idle server costs ~140 MiB of memory until then.
 */
export const SERVER_IDLE_MS = 60_000
/** How long a command waits for a server it started to listen (it listens before PGlite opens: well under 1 s). */
const START_TIMEOUT_MS = 20_000
const RETRY_MS = 20
/** The servers' log is appended to (a server's start, first client and stop: a few lines each) and begun anew past this size. */
const LOG_MAX_BYTES = 256 * 1024

export interface ServedOptions {
  /** Told when the server has to wait for another process's lock on the store (an older `demo` holding it). */
  notice?: (message: string) => void
  /** How long the server stays up without clients (default SERVER_IDLE_MS); only a server this starts. */
  idleMs?: number
  /** The build identity to greet the server with (default serverKey()); tests play two builds with it. */
  key?: string
  /** The server's limit on an idle transaction (store-server.ts, default 60 s); only a server this starts. */
  idleInTransactionMs?: number
}

const SERVER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './store-server-main.ts' : './store-server-main.js', import.meta.url)

/**
 * This build's identity: the server's entry file and when it was written. A server of another build (the
 * package was upgraded or rebuilt while it ran) is told to stop, and this command starts its own.
 */
export function serverKey(): string {
  const entry = fileURLToPath(SERVER_ENTRY)
  return `${entry}@${statSync(entry).mtimeMs}`
}

function unreachable(dataDir: string, detail: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`Cannot open the embedded state store at ${dataDir}: ${detail}.`, {
    cause,
    hint: `See ${dataDir}.server.log. If the directory is damaged, move it aside; \`demo\` creates a fresh one. Or set DEMO_DATABASE_URL.`,
  })
}

/**
 * Starts the server for `dataDir`, detached: it outlives this command. Its stderr is appended to
 * `<dataDir>.server.log`: appended, so that a server retiring while its successor starts keeps its lines.
 * Resolves with its exit code if it exits while this command still waits (0: another server serves the directory).
 */
function startServer(dataDir: string, key: string, idleMs: number, idleInTransactionMs?: number): Promise<number | null> {
  mkdirSync(dirname(dataDir), {recursive: true})
  const logFile = `${dataDir}.server.log`
  const log = openSync(logFile, (statSync(logFile, {throwIfNoEntry: false})?.size ?? 0) > LOG_MAX_BYTES ? 'w' : 'a')
  try {
    const entry = fileURLToPath(SERVER_ENTRY)
    // Run from the sources (tests), the server needs tsx, found from here: its working directory is elsewhere.
    const loader = entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : []
    const limits = [String(idleMs), ...(idleInTransactionMs === undefined ? [] : [String(idleInTransactionMs)])]
    const child = spawn(process.execPath, ['--liftoff-only', ...loader, entry, dataDir, key, ...limits], {
      // Not the command's working directory: the server outlives it and must not keep it busy (an unmounted drive).
      cwd: dirname(dataDir),
      detached: true,
      stdio: ['ignore', 'ignore', log],
      windowsHide: true,
    })
    child.unref()
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)).once('error', () => resolve(-1)))
  } finally {
    closeSync(log)
  }
}

/** A connection that answers `hello` with this build's key, or null when nobody listens (yet). */
async function tryConnect(socketPath: string, key: string, notice: ServedOptions['notice']): Promise<Connection | 'stale' | null> {
  if (process.platform !== 'win32' && typeof process.getuid === 'function') {
    // A socket in the shared temp directory must be ours (store-socket.ts); one next to the data directory is.
    try {
      if (statSync(socketPath).uid !== process.getuid()) throw new StoreUnavailableError(`${socketPath} belongs to another user.`)
    } catch (error) {
      if (error instanceof DemoError) throw error
      return null
    }
  }
  const socket = await new Promise<Socket | null>((resolve) => {
    const attempt = connect(socketPath)
    attempt.once('connect', () => resolve(attempt))
    attempt.once('error', () => resolve(null))
  })
  if (!socket) return null
  const connection = new Connection(socket, notice)
  try {
    await connection.request({op: 'hello', key})
    return connection
  } catch {
    connection.close()
    return 'stale'
  }
}

/** Servers started by startServerEarly, for the command's openServedEmbedded of the same directory. */
const startedEarly = new Map<string, Promise<number | null>>()

/**
 * Starts the server for `dataDir` now when no socket is there, without waiting for it: bin/run.js calls this
 * before oclif loads, so the server's start (~0.4 s, most of it PGlite opening) runs in its own process while
 * this one loads the command, instead of after it.
 */
export function startServerEarly(dataDir: string): void {
  if (startedEarly.has(dataDir) || existsSync(socketPathFor(dataDir))) return
  startedEarly.set(dataDir, startServer(dataDir, serverKey(), SERVER_IDLE_MS))
}

/**
 * The embedded store in `dataDir`, served by its server (store-server.ts), which this starts when none runs.
 * Throws StoreUnavailableError when the server cannot be started or reached, naming its log.
 */
export async function openServedEmbedded(dataDir: string, options: ServedOptions = {}): Promise<Db> {
  const socketPath = socketPathFor(dataDir)
  const key = options.key ?? serverKey()
  const deadline = Date.now() + START_TIMEOUT_MS
  let starting = startedEarly.get(dataDir)
  startedEarly.delete(dataDir)
  for (;;) {
    const connection = await tryConnect(socketPath, key, options.notice)
    if (connection instanceof Connection) return servedDb(connection)
    if (Date.now() > deadline) throw unreachable(dataDir, `its server did not answer within ${START_TIMEOUT_MS / 1000} s`)
    // Nobody listens: start a server (one at a time). A stale one answered: it is stopping, try again shortly.
    if (connection === null) starting ??= startServer(dataDir, key, options.idleMs ?? SERVER_IDLE_MS, options.idleInTransactionMs)
    if ((await exitWithin(starting, RETRY_MS, dataDir)) === 0) starting = undefined
  }
}

/**
 * Waits up to `ms` for the server this command started to exit: its exit code, or undefined while it runs.
 * Exit 0 means another command's server won the race (or a retiring one still held the place): start again.
 * Any other exit is the server failing, reported with the last line of its log.
 */
async function exitWithin(starting: Promise<number | null> | undefined, ms: number, dataDir: string): Promise<number | undefined> {
  const exited = await Promise.race([starting ?? new Promise<never>(() => {}), sleep(ms).then(() => undefined)])
  if (exited === undefined || exited === 0) return exited
  throw unreachable(dataDir, `its server stopped (${lastLine(`${dataDir}.server.log`)})`)
}

function lastLine(file: string): string {
  try {
    // Without the time and pid the server puts before its lines (store-server.ts).
    return (
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .at(-1)
        ?.replace(/^\S+ pid \d+: /, '') || 'no output'
    )
  } catch {
    return 'no log'
  }
}

/** One session with the server: requests answered by id, unasked notices passed on. */
class Connection {
  private readonly pending = new Map<number, {resolve: (value: unknown) => void; reject: (error: Error) => void}>()
  private nextId = 1
  private lost: Error | undefined

  constructor(
    private readonly socket: Socket,
    notice: ServedOptions['notice'],
  ) {
    const reader = new FrameReader<StoreReply>()
    socket.on('data', (chunk) => {
      for (const reply of reader.push(chunk)) {
        if ('notice' in reply) {
          notice?.(reply.notice)
          continue
        }
        const waiting = this.pending.get(reply.id)
        this.pending.delete(reply.id)
        if (this.pending.size === 0) socket.unref()
        if (reply.ok) waiting?.resolve(reply.value)
        else waiting?.reject(fromWireError(reply.error))
      }
    })
    const fail = (): void => {
      this.lost ??= new StoreUnavailableError('The embedded state store’s server went away mid-command.', {
        hint: 'Run the command again: it starts the server anew. `demo get <id>` shows what was recorded.',
      })
      for (const {reject} of this.pending.values()) reject(this.lost)
      this.pending.clear()
    }
    socket.on('error', fail)
    socket.on('close', fail)
    socket.unref()
  }

  request(message: DistributiveOmit<StoreRequest, 'id'>): Promise<unknown> {
    if (this.lost) return Promise.reject(this.lost)
    const id = this.nextId++
    // Keeps the process alive while an answer is due (an idle connection does not).
    this.socket.ref()
    const answer = new Promise((resolve, reject) => this.pending.set(id, {resolve, reject}))
    this.socket.write(frame({...message, id}))
    return answer
  }

  close(): void {
    this.socket.end()
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function servedDb(connection: Connection, tx?: number): Db {
  return {
    embedded: true,
    query: async <T>(sql: string, params?: unknown[]) => (await connection.request({op: 'query', sql, params, tx})) as QueryResult<T>,
    transaction: async (work) => {
      if (tx !== undefined) return work(servedDb(connection, tx))
      const opened = (await connection.request({op: 'begin'})) as number
      let result
      try {
        result = await work(servedDb(connection, opened))
      } catch (error) {
        await connection.request({op: 'end', tx: opened, commit: false}).catch(() => {})
        throw error
      }
      await connection.request({op: 'end', tx: opened, commit: true})
      return result
    },
    close: () => {
      if (tx === undefined) connection.close()
      return Promise.resolve()
    },
  }
}
