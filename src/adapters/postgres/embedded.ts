import {mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync} from 'node:fs'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {StoreUnavailableError} from '../../core/errors.js'
import type {Db, QueryResult} from './db.js'
import {toStoreError, type StoreErrorContext} from './store-errors.js'

const LOCK_WAIT_MS = 10_000

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function tryLock(lockPath: string): number | null {
  try {
    const fd = openSync(lockPath, 'wx')
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return null
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10)
    if (!Number.isFinite(holder) || !isAlive(holder)) {
      // The holder died without releasing (SIGKILL); its lock is stale.
      rmSync(lockPath, {force: true})
      return tryLock(lockPath)
    }
    return holder
  }
}

/**
 * PGlite takes no lock of its own and two processes on one data directory corrupt it
 * (electric-sql/pglite#1106), so the embedded store is guarded by a pid lock file; a second
 * `demo` process waits up to 10 s, then fails with a clear message.
 */
export async function acquireLock(lockPath: string, waitMs = LOCK_WAIT_MS): Promise<() => void> {
  mkdirSync(dirname(lockPath), {recursive: true})
  const deadline = Date.now() + waitMs
  let holder = tryLock(lockPath)
  while (holder !== null) {
    if (Date.now() > deadline) {
      throw new StoreUnavailableError(`The embedded state store is in use by another demo process (pid ${holder}).`, {
        hint: 'Wait for it to finish, or set DEMO_DATABASE_URL to a shared Postgres so several processes can work at once.',
      })
    }
    await sleep(100)
    holder = tryLock(lockPath)
  }
  let released = false
  const release = () => {
    if (released) return
    released = true
    process.off('exit', release)
    rmSync(lockPath, {force: true})
  }
  process.once('exit', release)
  return release
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

/** Opens (creating on first use) the embedded PGlite store in `dataDir`, holding its lock until close. */
export async function openEmbedded(dataDir: string): Promise<Db> {
  const release = await acquireLock(`${dataDir}.lock`)
  try {
    const {PGlite} = await import('@electric-sql/pglite')
    mkdirSync(dataDir, {recursive: true})
    const pglite = await PGlite.create(dataDir)
    const context: StoreErrorContext = {where: `at ${dataDir}`, networked: false}
    return {
      ...facade(pglite, context),
      transaction: async (work) => {
        try {
          return await pglite.transaction(async (t) => {
            const tx: Db = {...facade(t, context), transaction: (inner) => inner(tx), close: async () => {}}
            return work(tx)
          })
        } catch (error) {
          throw toStoreError(error, context)
        }
      },
      async close() {
        await pglite.close()
        release()
      },
    }
  } catch (error) {
    release()
    throw new StoreUnavailableError(`Cannot open the embedded state store at ${dataDir}.`, {
      cause: error,
      hint: 'If the directory is damaged, move it aside; `demo` creates a fresh one. Or set DEMO_DATABASE_URL.',
    })
  }
}
