import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import pg from 'pg'
import {LOCK_TIMEOUT_MS} from '../../../src/adapters/postgres/db.js'
import {openStore, type OpenedStore} from '../../../src/adapters/postgres/open-store.js'
import {StoreLockTimeoutError} from '../../../src/core/errors.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../../fakes/builders.js'
import {scratchDatabase} from '../../support/databases.js'

/*
 * Fault matrix T14: another session (a stuck process, someone in psql) holds a lock a statement of ours needs.
 * Insert (create) and update (extend, destroy) give up after LOCK_TIMEOUT_MS with an error naming the holder,
 * instead of waiting forever. PGlite is one session in one process: no other session can hold a lock there.
 */

/** Generous: the wait plus the diagnosis, far below "forever" (and below statement_timeout, 20 s). */
const BOUND_MS = LOCK_TIMEOUT_MS + 5_000

async function timed<T>(work: () => Promise<T>): Promise<{error: unknown; ms: number}> {
  const started = Date.now()
  try {
    await work()
    return {error: undefined, ms: Date.now() - started}
  } catch (error) {
    return {error, ms: Date.now() - started}
  }
}

describe('a lock held by another session (PostgreSQL)', () => {
  let url = ''
  let drop: () => Promise<void> = async () => {}
  let opened: OpenedStore
  let holder: pg.Client

  before(async () => {
    ;({url, drop} = await scratchDatabase('lock_timeout'))
    opened = await openStore({databaseUrl: url, stateDir: '/nonexistent'})
    holder = new pg.Client({connectionString: url, application_name: 'stuck-psql'})
    await holder.connect()
  })
  after(async () => {
    await holder?.end()
    await opened?.close()
    await drop()
  })

  it('makes create give up, naming the session that holds the lock on new demos', async () => {
    await holder.query('BEGIN')
    await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('demo_orchestrator:insert', 0))`)
    try {
      const demo = aNewDemo()
      const {error, ms} = await timed(() => opened.store.insert(demo, BIG_CAPS, aCreatedEvent(demo)))
      assert.ok(error instanceof StoreLockTimeoutError, `not a lock timeout: ${String(error)}`)
      assert.ok(ms < BOUND_MS, `took ${ms} ms`)
      assert.equal(error.code, 'E_STORE_LOCKED')
      const pid = (await holder.query<{pid: number}>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      assert.match(
        error.message,
        new RegExp(`session ${pid} \\(application "stuck-psql", idle in transaction, for \\d+s\\) holds the lock on new demos`),
      )
      assert.match(error.hint ?? '', new RegExp(`pg_terminate_backend\\(${pid}\\)`))
      assert.doesNotMatch(error.message + (error.hint ?? ''), /demo_test|password/)
    } finally {
      await holder.query('ROLLBACK')
    }
  })

  it('makes an update (extend) give up while another session holds the row FOR UPDATE, and works once it lets go', async () => {
    const demo = aNewDemo()
    const result = await opened.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    assert.ok('inserted' in result)
    await holder.query('BEGIN')
    await holder.query('SELECT * FROM demo_orchestrator.demo_instances WHERE id = $1 FOR UPDATE', [demo.id])
    try {
      const {error, ms} = await timed(() => opened.store.update(demo.id, 1, {extensionCount: 1}))
      assert.ok(error instanceof StoreLockTimeoutError, `not a lock timeout: ${String(error)}`)
      assert.ok(ms < BOUND_MS, `took ${ms} ms`)
      assert.match(error.message, /application "stuck-psql", idle in transaction, for \d+s\) holds rows of the demos table/)
    } finally {
      await holder.query('ROLLBACK')
    }
    assert.equal((await opened.store.update(demo.id, 1, {extensionCount: 1})).extensionCount, 1)
  })
})
