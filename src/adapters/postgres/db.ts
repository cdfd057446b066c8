import {StoreUnavailableError} from '../../core/errors.js'
import {describeLockHolders, LOCK_NOT_AVAILABLE, lockTimeoutError} from './lock-holders.js'
import {loadPg} from './pg-module.js'
import {sqlStateOf, toStoreError, type StoreErrorContext} from './store-errors.js'

export interface QueryResult<T> {
  rows: T[]
  rowCount: number
}

/** The little SQL surface both backends share: `$1` parameters, transactions, close. */
export interface Db {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>
  transaction<R>(work: (tx: Db) => Promise<R>): Promise<R>
  close(): Promise<void>
  /** True for the embedded single-process store, where cross-process locks are moot. */
  readonly embedded: boolean
}

const CONNECT_TIMEOUT_MS = 5_000
const STATEMENT_TIMEOUT_MS = 20_000
/**
 * How long a statement waits for a lock (the insert's advisory lock, a row another session updates) before it
 * gives up with SQLSTATE 55P03, which becomes a StoreError naming the holder (fault matrix T14). Our own
 * transactions hold them for milliseconds; a longer wait is a stuck session, and waiting on would hang.
 */
export const LOCK_TIMEOUT_MS = 5_000
/** How long an idle connection of the pool stays open. */
const IDLE_CONNECTION_MS = 60_000
/** A session of ours left idle inside a transaction (a hung process) is ended by the server, freeing its locks. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000

/** Removes the password from a connection URL so it can be shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|key|token/i.test(key)) parsed.searchParams.set(key, '***')
    }
    return parsed.toString()
  } catch {
    return '(an unparseable database URL)'
  }
}

/** Host and port of a connection URL, for messages: never the user or the password. */
export function hostOf(url: string): string {
  try {
    const {host} = new URL(url)
    return host || redactUrl(url)
  } catch {
    return redactUrl(url)
  }
}

interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{rows: unknown[]; rowCount: number | null}>
}

/**
 * `q` runs the statement. A lock timeout is explained through `pool`, on another connection: `own`, the
 * session that waited, still holds its aborted transaction's locks until the rollback, so it is left out.
 */
function pgFacade(q: PgQueryable, context: StoreErrorContext, explain: {pool: PgQueryable; own?: number}): Pick<Db, 'query' | 'embedded'> {
  return {
    embedded: false,
    async query<T>(sql: string, params?: unknown[]) {
      try {
        const result = await q.query(sql, params)
        return {rows: result.rows as T[], rowCount: result.rowCount ?? 0}
      } catch (error) {
        if (sqlStateOf(error) !== LOCK_NOT_AVAILABLE) throw toStoreError(error, context)
        throw lockTimeoutError(
          error,
          context,
          await describeLockHolders(explain.pool, explain.own === undefined ? [] : [explain.own]),
          LOCK_TIMEOUT_MS,
        )
      }
    },
  }
}

/** A connect attempt that timed out while this process's event loop was stalled this long is tried again. */
const STALL_MS = 1_000
const CONNECT_ATTEMPTS = 3
const STALL_TICK_MS = 100

/**
 * The longest stretch the event loop could not run a timer while `work` ran. pg's connect timeout is a timer,
 * and Node runs due timers before it reads sockets: a process that spends seconds on synchronous work while it
 * connects (loading modules while 20 CLIs share 2 cores) times out although the server answered long ago.
 */
async function measuringStalls<T>(work: () => Promise<T>): Promise<{result?: T; error?: unknown; stalledMs: number}> {
  let last = performance.now()
  let stalledMs = 0
  const tick = setInterval(() => {
    const now = performance.now()
    stalledMs = Math.max(stalledMs, now - last - STALL_TICK_MS)
    last = now
  }, STALL_TICK_MS)
  tick.unref()
  try {
    return {result: await work(), stalledMs}
  } catch (error) {
    return {error, stalledMs: Math.max(stalledMs, performance.now() - last - STALL_TICK_MS)}
  } finally {
    clearInterval(tick)
  }
}

function isConnectTimeout(error: unknown): boolean {
  return error instanceof Error && /timeout/i.test(error.message)
}

/**
 * Connects once up front so a wrong URL fails here, with one clear message, not deep inside a command. A
 * timeout that a stalled event loop explains (see measuringStalls) is retried (up to CONNECT_ATTEMPTS), so a
 * server that does not answer still fails after one CONNECT_TIMEOUT_MS when the process was free to listen.
 */
async function probe(pool: import('pg').Pool, url: string): Promise<void> {
  let failure: unknown
  for (let attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt += 1) {
    const {result: client, error, stalledMs} = await measuringStalls(() => pool.connect())
    if (client) {
      client.release()
      return
    }
    failure = error
    if (!isConnectTimeout(error) || stalledMs < STALL_MS) break
  }
  await pool.end().catch(() => {})
  throw new StoreUnavailableError(`Cannot reach the state database at ${redactUrl(url)}.`, {
    cause: failure,
    hint: 'Check DEMO_DATABASE_URL (host, port, credentials) and that the server is up; unset it to use the embedded store.',
  })
}

function poolOptions(url: string): import('pg').PoolConfig {
  return {
    connectionString: url,
    max: 4,
    application_name: 'demo-cli',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A command keeps its connection through its waits (destroy waits ~5 s for the namespace controller, create
    // for readiness): a new one costs TCP, TLS and SCRAM again, 3-5 round trips to a remote database, and ~15 ms
    // of CPU here. The command closes the pool when it ends; an idle connection alone never keeps the process alive.
    idleTimeoutMillis: IDLE_CONNECTION_MS,
    allowExitOnIdle: true,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    lock_timeout: LOCK_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 2_000,
    keepAlive: true,
  }
}

/**
 * Opens a pool on a shared PostgreSQL server. Fails within seconds with StoreUnavailableError when it is
 * down; a query or transaction that loses the server later fails with StoreUnavailableError naming the host.
 */
export async function openPostgres(url: string): Promise<Db> {
  const pg = await loadPg()
  const pool = new pg.Pool(poolOptions(url))
  // An idle client that loses its server emits 'error' on the pool; without a listener Node would crash.
  pool.on('error', () => {})
  const context: StoreErrorContext = {where: `at ${hostOf(url)}`, networked: true}
  await probe(pool, url)
  const connect = async () => {
    try {
      return await pool.connect()
    } catch (error) {
      throw toStoreError(error, context)
    }
  }
  const db: Db = {
    ...pgFacade(pool, context, {pool}),
    async transaction(work) {
      const client = await connect()
      let failure: Error | undefined
      try {
        const tx: Db = {
          ...pgFacade(client, context, {pool, own: (client as {processID?: number}).processID}),
          transaction: (inner) => inner(tx),
          close: async () => {},
        }
        await tx.query('BEGIN')
        const result = await work(tx)
        await tx.query('COMMIT')
        return result
      } catch (error) {
        failure = toStoreError(error, context)
        if (!(failure instanceof StoreUnavailableError)) await client.query('ROLLBACK').catch(() => {})
        throw failure
      } finally {
        // A client whose connection failed is destroyed, not handed back to the pool for the next query.
        client.release(failure instanceof StoreUnavailableError ? failure : undefined)
      }
    },
    close: () => pool.end(),
  }
  return db
}
