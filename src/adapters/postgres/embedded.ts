import {mkdirSync} from 'node:fs'
import type {PGlite} from '@electric-sql/pglite'
import {StoreUnavailableError} from '../../core/errors.js'
import type {Db, QueryResult} from './db.js'
import {acquireLock, type LockOptions} from './embedded-lock.js'
import {toStoreError, type StoreErrorContext} from './store-errors.js'

/**
 * How long the embedded store stays open (and locked) after its last use. Opening PGlite's data directory
 * costs 0.34–0.96 s (median 0.39 s, 2-core machine under load; closing 5–19 ms), so closing after every
 * query would make each command pay it several times; holding it for the whole command made a `demo list`
 * wait for a `create` that spends minutes waiting on Kubernetes. A second of idleness covers the bursts of one
 * use case (a create's insert and the Kubernetes calls right after it; its final get and update), and is what
 * another process waits at most beyond the queries themselves. See docs/benchmarks.md, "The embedded store lock".
 */
export const EMBEDDED_IDLE_MS = 1_000

export interface EmbeddedOptions extends LockOptions {
  /** How long to keep the store open after its last use (default EMBEDDED_IDLE_MS). */
  idleMs?: number
}

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{rows: T[]; affectedRows?: number}>
  exec(sql: string): Promise<Array<{rows: unknown[]; affectedRows?: number}>>
}

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
    mkdirSync(dataDir, {recursive: true})
    return {pglite: await PGlite.create(dataDir), release}
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
 * after `idleMs` without a use it is closed and the lock released, so other processes can use the store while
 * this one waits on something else. It is never open without the lock: the lock is released only after
 * PGlite's close, and a use that comes during a close waits for it and opens again.
 */
class EmbeddedSession {
  private opened: Promise<Opened> | undefined
  private closing: Promise<void> = Promise.resolve()
  private readonly inUse = new Set<Promise<unknown>>()
  private idleTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly dataDir: string,
    private readonly options: EmbeddedOptions,
  ) {}

  use<R>(work: (pglite: PGlite) => Promise<R>): Promise<R> {
    clearTimeout(this.idleTimer)
    const running = this.open().then(({pglite}) => work(pglite))
    this.inUse.add(running)
    const done = () => {
      this.inUse.delete(running)
      if (this.inUse.size === 0 && this.opened) this.idleTimer = setTimeout(() => void this.close(), this.options.idleMs ?? EMBEDDED_IDLE_MS).unref()
    }
    running.then(done, done)
    return running
  }

  private open(): Promise<Opened> {
    if (!this.opened) {
      const opening = this.closing.then(() => openLocked(this.dataDir, this.options))
      this.opened = opening
      // A failed open is not remembered: the next use tries again (the holder may be gone by then).
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined
      })
    }
    return this.opened
  }

  /** Closes PGlite and releases the lock once the uses in flight are done; a later use opens it again. */
  close(): Promise<void> {
    clearTimeout(this.idleTimer)
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
