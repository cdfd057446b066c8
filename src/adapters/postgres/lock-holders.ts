import {StoreLockTimeoutError} from '../../core/errors.js'
import {INSERT_LOCK_KEY} from './demo-store.js'
import type {StoreErrorContext} from './store-errors.js'

/** SQLSTATE of a statement that gave up waiting for a lock (lock_timeout). */
export const LOCK_NOT_AVAILABLE = '55P03'

/** Another session holding a lock a statement of ours may wait for. Never its query text: that may hold secrets. */
export interface LockHolder {
  pid: number
  applicationName: string
  /** pg_stat_activity.state ("idle in transaction", "active" ...); null when the server does not show it to us. */
  state: string | null
  /** Since the start of its transaction. */
  heldSeconds: number
  /** What it holds: the lock of new demos (insert's advisory lock), or rows of the demos table. */
  holds: 'insert-lock' | 'rows'
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{rows: unknown[]}>
}

/*
 * Who holds what our statements wait for: the insert's advisory lock (a bigint key, shown in pg_locks as classid
 * and objid), or a lock on demo_instances stronger than a plain read's (FOR UPDATE, UPDATE, INSERT: their row
 * locks live in the rows, not in pg_locks, but their transaction holds the table this way).
 * https://www.postgresql.org/docs/current/view-pg-locks.html
 */
const HOLDERS_SQL = `
SELECT a.pid, coalesce(a.application_name, '') AS application_name, a.state,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start, clock_timestamp()))::float8 AS held_seconds,
       bool_or(l.locktype = 'advisory') AS insert_lock
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.granted AND a.pid <> pg_backend_pid() AND a.pid <> ALL($1::int[])
   AND ((l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((l.classid::int8 << 32) | l.objid::int8) = ${INSERT_LOCK_KEY})
     OR (l.locktype = 'relation' AND l.relation = to_regclass('demo_orchestrator.demo_instances') AND l.mode <> 'AccessShareLock'))
 GROUP BY a.pid, a.application_name, a.state, a.xact_start, a.query_start
 ORDER BY insert_lock DESC, held_seconds DESC
 LIMIT 3`

/** The sessions holding locks our statements wait for, longest first; none when that cannot be read. `exclude`: our own waiting session. */
export async function describeLockHolders(db: Queryable, exclude: number[] = []): Promise<LockHolder[]> {
  try {
    const {rows} = await db.query(HOLDERS_SQL, [exclude])
    return (rows as Array<Record<string, unknown>>).map((row) => ({
      pid: Number(row.pid),
      applicationName: String(row.application_name),
      state: typeof row.state === 'string' ? row.state : null,
      heldSeconds: Math.round(Number(row.held_seconds)),
      holds: row.insert_lock === true ? 'insert-lock' : 'rows',
    }))
  } catch {
    return []
  }
}

function describeHolder(holder: LockHolder): string {
  const what = holder.holds === 'insert-lock' ? 'the lock on new demos' : 'rows of the demos table'
  const app = holder.applicationName ? `application "${holder.applicationName}"` : 'no application name'
  const state = holder.state ? `${holder.state}, ` : ''
  return `session ${holder.pid} (${app}, ${state}for ${holder.heldSeconds}s) holds ${what}`
}

/** A lock timeout (55P03) as a StoreLockTimeoutError naming who holds the lock, with the way out. */
export function lockTimeoutError(cause: unknown, context: StoreErrorContext, holders: LockHolder[], waitedMs: number): StoreLockTimeoutError {
  const seconds = Math.round(waitedMs / 1000)
  if (holders.length === 0) {
    return new StoreLockTimeoutError(`The state store ${context.where} waited ${seconds}s for a lock another session held, and gave up.`, {
      cause,
      hint: 'Retry; if it happens again, look for a stuck session in pg_stat_activity (state "idle in transaction").',
    })
  }
  const [first] = holders
  return new StoreLockTimeoutError(
    `The state store ${context.where} waited ${seconds}s for a lock and gave up: ${holders.map(describeHolder).join('; ')}.`,
    {
      cause,
      hint: `Retry when it lets go. If that session is stuck, its owner or an admin can end it: SELECT pg_terminate_backend(${first!.pid});`,
    },
  )
}
