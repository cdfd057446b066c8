import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import pg from 'pg'
import {openStore, type OpenedStore} from '../../../src/adapters/postgres/open-store.js'
import type {Demo, LifetimePolicy} from '../../../src/core/demo.js'
import {LimitError, VersionConflictError} from '../../../src/core/errors.js'
import {extendDemo} from '../../../src/core/extend-demo.js'
import type {Clock, DemoStore} from '../../../src/core/ports.js'
import {defaultProjectConfig} from '../../../src/core/project-config.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../../fakes/builders.js'
import {scratchDatabase} from '../../support/databases.js'

/*
 * Many `demo extend` runs on one demo at the same moment, each with its own connection pool (as separate
 * processes would have), against real Postgres: every extension either counts or is refused; none is lost.
 */

const HOUR = 3_600_000
const CONTENDERS = 8
const clock: Clock = {now: () => new Date()}

/** Holds every contender's first read until all have read, so all start from the same version; counts write attempts. */
function withReadBarrier(stores: DemoStore[], attempts: {updates: number}): DemoStore[] {
  let waiting = 0
  let release: () => void = () => {}
  const allRead = new Promise<void>((resolve) => (release = resolve))
  return stores.map((store) => {
    let first = true
    return {
      insert: (...args) => store.insert(...args),
      list: (...args) => store.list(...args),
      update: (...args) => {
        attempts.updates += 1
        return store.update(...args)
      },
      events: (id) => store.events(id),
      describe: () => store.describe(),
      now: () => store.now(),
      get: (id) => store.get(id),
      // extend reads the demo through findDemo, which asks for the candidates of the reference.
      async findByReference(ref) {
        const demos = await store.findByReference(ref)
        if (first) {
          first = false
          waiting += 1
          if (waiting === stores.length) release()
          await allRead
        }
        return demos
      },
    }
  })
}

describe('concurrent extends on one demo (PostgreSQL)', () => {
  let url = ''
  let drop: () => Promise<void> = async () => {}
  let stores: OpenedStore[] = []
  let sql: pg.Client

  before(async () => {
    const scratch = await scratchDatabase('concurrent_extend')
    url = scratch.url
    drop = scratch.drop
    stores = await Promise.all(Array.from({length: CONTENDERS}, () => openStore({databaseUrl: url, stateDir: '/nonexistent'})))
    sql = new pg.Client({connectionString: url})
    await sql.connect()
  })

  after(async () => {
    await sql?.end()
    await Promise.all(stores.map((s) => s.close()))
    await drop()
  })

  async function seed(id: string): Promise<Demo> {
    const now = Date.now()
    const demo = aNewDemo({
      id,
      status: 'ready',
      createdBy: 'alice@example.com',
      createdAt: new Date(now - 10 * 60_000),
      expiresAt: new Date(now + 2 * HOUR),
    })
    const result = await stores[0]!.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    assert.ok('inserted' in result)
    return result.inserted
  }

  async function race(id: string, policy: LifetimePolicy) {
    const attempts = {updates: 0}
    const contenders = withReadBarrier(
      stores.map((s) => s.store),
      attempts,
    )
    const hoursOf = (i: number) => (i % 4) + 1
    const results = await Promise.allSettled(
      contenders.map((store, i) =>
        extendDemo(
          {store, clock, policy, cluster: () => Promise.reject(new Error('no cluster in this test'))},
          {id, hours: hoursOf(i), actor: `alice@example.com`, admins: [], trustedIdentities: [], explicitContext: false},
        ),
      ),
    )
    const succeeded = results.flatMap((r, i) => (r.status === 'fulfilled' ? [hoursOf(i)] : []))
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
    const {rows} = await sql.query<{extension_count: number; expires_at: Date; created_at: Date; version: string}>(
      'SELECT extension_count, expires_at, created_at, version FROM demo_orchestrator.demo_instances WHERE id = $1',
      [id],
    )
    const events = await sql.query<{hours: number}>(
      `SELECT (data->>'hours')::float AS hours FROM demo_orchestrator.demo_events WHERE demo_id = $1 AND type = 'extended' ORDER BY id`,
      [id],
    )
    // More write attempts than successes: the contenders really collided and retried.
    assert.ok(attempts.updates > succeeded.length, `no collision: ${attempts.updates} writes for ${succeeded.length} successes`)
    return {succeeded, refused, row: rows[0]!, eventHours: events.rows.map((r) => r.hours)}
  }

  it('lets exactly maxExtensions of eight simultaneous extends through and refuses the rest by policy', async () => {
    const seeded = await seed('racer001')
    const policy = defaultProjectConfig().lifetime
    const {succeeded, refused, row, eventHours} = await race('racer001', policy)
    assert.equal(succeeded.length, policy.maxExtensions)
    assert.equal(refused.length, CONTENDERS - policy.maxExtensions)
    for (const error of refused) {
      assert.ok(error instanceof LimitError, `not a policy refusal: ${String(error)}`)
      assert.match((error as Error).message, /already extended 3 times, and lifetime\.maxExtensions is 3\./)
    }
    assert.equal(row.extension_count, succeeded.length)
    const total = succeeded.reduce((a, b) => a + b, 0)
    assert.equal(row.expires_at.getTime(), seeded.expiresAt.getTime() + total * HOUR)
    assert.equal(Number(row.version), seeded.version + succeeded.length)
    assert.deepEqual([...eventHours].sort(), [...succeeded].sort())
  })

  it('counts every one that succeeds when the policy allows them all, and refuses the rest honestly', async () => {
    const seeded = await seed('racer002')
    const policy: LifetimePolicy = {...defaultProjectConfig().lifetime, maxExtensions: 100, maxLifetimeHours: 1000}
    const {succeeded, refused, row, eventHours} = await race('racer002', policy)
    // Each round of compare-and-set has one winner; a contender that loses five rounds is told to retry.
    assert.ok(succeeded.length >= 5, `only ${succeeded.length} succeeded`)
    for (const error of refused) assert.ok(error instanceof VersionConflictError, `unexpected refusal: ${String(error)}`)
    assert.equal(succeeded.length + refused.length, CONTENDERS)
    assert.equal(row.extension_count, succeeded.length)
    const total = succeeded.reduce((a, b) => a + b, 0)
    assert.equal(row.expires_at.getTime(), seeded.expiresAt.getTime() + total * HOUR)
    assert.deepEqual([...eventHours].sort(), [...succeeded].sort())
  })

  it('refuses by the lifetime cap, not by losing updates, when the sum would pass it', async () => {
    const seeded = await seed('racer003')
    // 2h left of a 7h lifetime after the initial 2h10m: room for a few small extensions, not for all.
    const policy: LifetimePolicy = {...defaultProjectConfig().lifetime, maxExtensions: 100, maxLifetimeHours: 7}
    const {succeeded, refused, row, eventHours} = await race('racer003', policy)
    const total = succeeded.reduce((a, b) => a + b, 0)
    assert.ok(succeeded.length >= 1)
    assert.ok(seeded.expiresAt.getTime() + total * HOUR <= seeded.createdAt.getTime() + 7 * HOUR, 'the lifetime cap was passed')
    for (const error of refused)
      assert.ok(error instanceof LimitError || error instanceof VersionConflictError, `unexpected refusal: ${String(error)}`)
    assert.equal(row.extension_count, succeeded.length)
    assert.equal(row.expires_at.getTime(), seeded.expiresAt.getTime() + total * HOUR)
    assert.deepEqual([...eventHours].sort(), [...succeeded].sort())
  })
})
