import {mkdirSync} from 'node:fs'
import type {PGlite} from '@electric-sql/pglite'
import {StoreUnavailableError} from '../../core/errors.js'
import type {Db, QueryResult} from './db.js'
import {acquireLock, isLockWanted, type LockOptions} from './embedded-lock.js'
import {seedFromTemplate} from './embedded-template.js'
import {toStoreError, type StoreErrorContext} from './store-errors.js'

/**
 * When the embedded store is closed (and its lock released) after its last use. Opening PGlite's data
 * directory costs 0.34–0.96 s (median 0.39 s on a 2-core machine under load; closing 5–19 ms), and a create
 * on the local test bed spends 1.8–4.5 s in Kubernetes between its first write and its last, so a fixed short
 * idle time (1 s was tried) made nearly every create pay a second open. Instead the holder keeps the store
 * open while nobody else wants it, for up to EMBEDDED_IDLE_MS, and yields after EMBEDDED_YIELD_MS of idleness
 * once another process waits (the waiter marks the lock wanted): a create pays a reopen only when someone
 * used the store in between, or when its wait on Kubernetes outlasts 5 s (then ~0.4 s on a create that takes
 * that long anyway); a `demo list` waits for the holder's current burst plus ~0.1–0.2 s, not for the create.
 * See docs/benchmarks.md, "The embedded store lock".
 */
export const EMBEDDED_IDLE_MS = 5_000
/** Idle time after which a holder yields to a waiting process: long enough not to split one burst (a get and its update). */
export const EMBEDDED_YIELD_MS = 100
const WATCH_MS = 50

/**
 * PostgreSQL's default 128 MB of shared buffers is set up (and so resident) at every start of PGlite: it took
 * `demo list` from ~143 to ~260 MiB peak (8 MB: ~149, 4 MB: ~143). 4 MB (512 pages) holds the rows of thousands of demos.
 */
const START_PARAMS = ['-c', 'shared_buffers=4MB']

export interface EmbeddedOptions extends LockOptions {
  /** A pre-initialised data directory to start a new store from (default: the one the build made, see embedded-template.ts). */
  template?: string
  /** How long to keep the store open after its last use when nobody waits (default EMBEDDED_IDLE_MS). */
  idleMs?: number
  /** How long to keep it open after its last use when another process waits (default EMBEDDED_YIELD_MS). */
  yieldMs?: number
}

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{rows: T[]; affectedRows?: number}>
  exec(sql: string): Promise<Array<{rows: unknown[]; affectedRows?: number}>>
}

/*
 * No lock_timeout here (fault matrix T14 does not apply): PGlite is one session in one process, and other
 * processes wait for the file lock (embedded-lock.ts, bounded, naming its holder), so no statement ever waits
 * for a lock another session holds.
 */
function facade(q: PgliteLike, context: StoreErrorContext): Pick<Db, 'query' | 'embedded'> {
  return {
    embedded: true,
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      try {
        // PGlite's query() speaks the extended protocol (one statement); exec() takes a script, as pg does without params.
        const result = params && params.length > 0 ? await q.query<T>(sql, params) : (await q.exec(sql)).at(-1)
        return {rows: (result?.rows ?? []) as T[], rowCount: result?.affectedRows ?? result?.rows.length ?? 0}
      } catch (error) {
        throw toStoreError(error, context)
      }
    },
  }
}

interface Opened {
  pglite: PGlite
  release: () => void
}

async function openLocked(dataDir: string, options: EmbeddedOptions): Promise<Opened> {
  const release = await acquireLock(`${dataDir}.lock`, options)
  try {
    const {PGlite} = await import('@electric-sql/pglite')
    seedFromTemplate(dataDir, options.template)
    mkdirSync(dataDir, {recursive: true})
    return {pglite: await PGlite.create(dataDir, {startParams: [...PGlite.defaultStartParams, ...START_PARAMS]}), release}
  } catch (error) {
    release()
    throw new StoreUnavailableError(`Cannot open the embedded state store at ${dataDir}.`, {
      cause: error,
      hint: 'If the directory is damaged, move it aside; `demo` creates a fresh one. Or set DEMO_DATABASE_URL.',
    })
  }
}

/**
 * The embedded store opened on demand: the first use takes the lock and opens PGlite, later uses share it, and
 * once idle (see EMBEDDED_IDLE_MS) it is closed and the lock released, so other processes can use the store
 * while this one waits on something else. It is never open without the lock: the lock is released only after
 * PGlite's close, and a use that comes during a close waits for it and opens again.
 */
class EmbeddedSession {
  private opened: Promise<Opened> | undefined
  private closing: Promise<void> = Promise.resolve()
  private readonly inUse = new Set<Promise<unknown>>()
  private lastUsedAt = 0
  private watch: NodeJS.Timeout | undefined

  constructor(
    private readonly dataDir: string,
    private readonly options: EmbeddedOptions,
  ) {}

  use<R>(work: (pglite: PGlite) => Promise<R>): Promise<R> {
    const running = this.open().then(({pglite}) => work(pglite))
    this.inUse.add(running)
    const done = () => {
      this.inUse.delete(running)
      this.lastUsedAt = Date.now()
    }
    running.then(done, done)
    return running
  }

  private open(): Promise<Opened> {
    if (!this.opened) {
      const opening = this.closing.then(() => openLocked(this.dataDir, this.options))
      this.opened = opening
      opening.then(
        () => this.watchIdleness(opening),
        // A failed open is not remembered: the next use tries again (the holder may be gone by then).
        () => {
          if (this.opened === opening) this.opened = undefined
        },
      )
    }
    return this.opened
  }

  private watchIdleness(opening: Promise<Opened>): void {
    if (this.opened !== opening) return
    const lockPath = `${this.dataDir}.lock`
    const {idleMs = EMBEDDED_IDLE_MS, yieldMs = EMBEDDED_YIELD_MS} = this.options
    this.watch = setInterval(() => {
      if (this.inUse.size > 0) return
      const idleFor = Date.now() - this.lastUsedAt
      if (idleFor >= idleMs || (idleFor >= yieldMs && isLockWanted(lockPath))) void this.close()
    }, WATCH_MS).unref()
  }

  /** Closes PGlite and releases the lock once the uses in flight are done; a later use opens it again. */
  close(): Promise<void> {
    clearInterval(this.watch)
    this.watch = undefined
    const opened = this.opened
    if (!opened) return this.closing
    this.opened = undefined
    const inFlight = [...this.inUse]
    this.closing = (async () => {
      await Promise.allSettled(inFlight)
      const current = await opened.catch(() => undefined)
      if (!current) return
      try {
        await current.pglite.close()
      } finally {
        current.release()
      }
    })()
    return this.closing
  }
}

/**
 * The embedded PGlite store in `dataDir` (created on first use), holding its lock only while in use (see
 * EmbeddedSession). Throws StoreUnavailableError from a query when another process holds the lock for longer
 * than the wait, or when the directory cannot be opened.
 */
export function openEmbedded(dataDir: string, options: EmbeddedOptions = {}): Db {
  const session = new EmbeddedSession(dataDir, options)
  const context: StoreErrorContext = {where: `at ${dataDir}`, networked: false}
  return {
    embedded: true,
    query: (sql, params) => session.use((pglite) => facade(pglite, context).query(sql, params)),
    transaction: (work) =>
      session.use(async (pglite) => {
        try {
          return await pglite.transaction(async (t) => {
            const tx: Db = {...facade(t, context), transaction: (inner) => inner(tx), close: async () => {}}
            return work(tx)
          })
        } catch (error) {
          throw toStoreError(error, context)
        }
      }),
    close: () => session.close(),
  }
}
