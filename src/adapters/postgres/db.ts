import {StoreError, StoreUnavailableError} from '../../core/errors.js'

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

interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{rows: unknown[]; rowCount: number | null}>
}

function sqlState(error: unknown): string | undefined {
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

// SQLSTATE classes 08 (connection exception) and 57P0x (admin shutdown, cannot connect now) mean "unreachable".
function wrapQueryError(error: unknown): Error {
  const state = sqlState(error)
  if (state?.startsWith('08') || state?.startsWith('57P')) {
    return new StoreUnavailableError('The state database closed the connection.', {cause: error, hint: 'Check that the database is up, then retry.'})
  }
  return error instanceof Error ? error : new StoreError(String(error))
}

function pgFacade(q: PgQueryable, embedded: boolean): Pick<Db, 'query' | 'embedded'> {
  return {
    embedded,
    async query<T>(sql: string, params?: unknown[]) {
      try {
        const result = await q.query(sql, params)
        return {rows: result.rows as T[], rowCount: result.rowCount ?? 0}
      } catch (error) {
        throw wrapQueryError(error)
      }
    },
  }
}

/** Opens a pool on a shared PostgreSQL server. Fails within seconds with StoreUnavailableError when it is down. */
export async function openPostgres(url: string): Promise<Db> {
  const {default: pg} = await import('pg')
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    application_name: 'demo-cli',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 5_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 2_000,
    keepAlive: true,
  })
  // An idle client that loses its server emits 'error' on the pool; without a listener Node would crash.
  pool.on('error', () => {})
  const connect = async () => {
    try {
      return await pool.connect()
    } catch (error) {
      throw new StoreUnavailableError(`Cannot reach the state database at ${redactUrl(url)}.`, {
        cause: error,
        hint: 'Check DEMO_DATABASE_URL (host, port, credentials) and that the server is up; unset it to use the embedded store.',
      })
    }
  }
  // Connect once up front so a wrong URL fails here, with one clear message, not deep inside a command.
  const probe = await connect()
  probe.release()
  const db: Db = {
    ...pgFacade(pool, false),
    async transaction(work) {
      const client = await connect()
      try {
        await client.query('BEGIN')
        const tx: Db = {...pgFacade(client, false), transaction: (inner) => inner(tx), close: async () => {}}
        const result = await work(tx)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw wrapQueryError(error)
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
  return db
}
