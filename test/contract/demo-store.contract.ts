import assert from 'node:assert/strict'
import {describe, it, beforeEach, after} from 'node:test'
import {DuplicateError, NotFoundError, StateTransitionError, VersionConflictError} from '../../src/core/errors.js'
import {DEMO_STATUSES, LIVE_STATUSES, type DemoDatabase} from '../../src/core/demo.js'
import type {DemoStore} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../fakes/builders.js'

export interface StoreHandle {
  store: DemoStore
  close(): Promise<void>
}

async function destroyedDemo(store: DemoStore, overrides: Parameters<typeof aNewDemo>[0] = {}) {
  const demo = await insertOk(store, {...overrides, status: 'destroying'})
  return store.update(demo.id, demo.version, {status: 'destroyed', destroyedAt: new Date('2026-11-25T14:00:00Z')})
}

/** One record of each shape a demo's database may have (core/demo.ts DemoDatabase). */
const DATABASES: DemoDatabase[] = [
  {mode: 'none'},
  {mode: 'shared-schema', schema: 'demo_k3x9a2bq', supabase: null},
  {
    mode: 'shared-schema',
    schema: 'demo_k3x9a2bq',
    supabase: {projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: 'eyJ.anon'},
  },
  {mode: 'supabase-project', projectRef: null, url: null, anonKey: null},
  {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: null},
  {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: 'eyJ.anon'},
]

const minute = (m: number) => new Date(Date.UTC(2026, 10, 25, 12, m))

async function insertOk(store: DemoStore, overrides: Parameters<typeof aNewDemo>[0] = {}) {
  const demo = aNewDemo(overrides)
  const result = await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
  assert.ok('inserted' in result, 'insert was refused')
  return result.inserted
}

/** The behaviour every DemoStore must have; run against PostgreSQL, PGlite and the in-memory fake. */
export function demoStoreContract(name: string, open: () => Promise<StoreHandle>): void {
  describe(`DemoStore contract: ${name}`, () => {
    let handle: StoreHandle
    let store: DemoStore

    beforeEach(async () => {
      await handle?.close()
      handle = await open()
      store = handle.store
    })
    after(async () => {
      await handle?.close()
    })

    it('returns an inserted demo with every field as written', async () => {
      const demo = aNewDemo({name: 'sales-call', metadata: {seed: 'v1'}, autoCleanup: false})
      const result = await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
      assert.ok('inserted' in result)
      const got = await store.get(demo.id)
      assert.ok(got)
      assert.equal(got.id, demo.id)
      assert.equal(got.name, 'sales-call')
      assert.equal(got.status, 'creating')
      assert.equal(got.autoCleanup, false)
      assert.deepEqual(got.metadata, {seed: 'v1'})
      assert.equal(got.expiresAt.toISOString(), demo.expiresAt.toISOString())
      assert.equal(got.createdAt.toISOString(), demo.createdAt.toISOString())
      assert.equal(got.version, 1)
      assert.equal(got.extensionCount, 0)
      assert.deepEqual(got.phaseTimings, {})
    })

    it('keeps the authenticated identity of the creator next to the declared owner, and null where there is none', async () => {
      const recorded = await insertOk(store, {createdBy: 'alice@example.com', authenticatedAs: 'system:serviceaccount:team:alice'})
      const older = await insertOk(store, {createdBy: 'alice@example.com'})
      assert.equal((await store.get(recorded.id))?.authenticatedAs, 'system:serviceaccount:team:alice')
      assert.equal((await store.get(recorded.id))?.createdBy, 'alice@example.com')
      assert.equal((await store.get(older.id))?.authenticatedAs, null)
    })

    it('keeps the cluster identity a demo was created in, and null for a row without one (migration 2)', async () => {
      const withId = aNewDemo({clusterId: '7152e640-b5c0-43af-b0f2-4ab26f0bf34f', kubeContext: 'ci'})
      const without = aNewDemo({clusterId: null})
      for (const demo of [withId, without]) assert.ok('inserted' in (await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))))
      assert.equal((await store.get(withId.id))?.clusterId, '7152e640-b5c0-43af-b0f2-4ab26f0bf34f')
      assert.equal((await store.get(without.id))?.clusterId, null)
    })

    it("tells the database's clock: the current time, moving forward", async () => {
      const first = await store.now()
      await new Promise((resolve) => setTimeout(resolve, 20))
      const second = await store.now()
      assert.ok(second.getTime() > first.getTime(), `${second.toISOString()} is not after ${first.toISOString()}`)
      // The tests' database runs on this machine's (unskewed) clock.
      assert.ok(Math.abs(first.getTime() - Date.now()) < 60_000, `${first.toISOString()} is not now`)
    })

    it('returns undefined for an unknown id', async () => {
      assert.equal(await store.get('zzzzzzzz'), undefined)
    })

    for (const database of DATABASES) {
      it(`keeps a demo's database of mode ${database.mode} as written (${JSON.stringify(database)})`, async () => {
        const demo = await insertOk(store, {database})
        assert.deepEqual(demo.database, database)
        assert.deepEqual((await store.get(demo.id))?.database, database)
      })
    }

    it('replaces the database record with a patch, and keeps it through patches of other fields', async () => {
      const demo = await insertOk(store, {database: {mode: 'supabase-project', projectRef: null, url: null, anonKey: null}})
      const learnt = {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: 'eyJ.anon'} as const
      const patched = await store.update(demo.id, demo.version, {database: learnt})
      assert.deepEqual(patched.database, learnt)
      const ready = await store.update(demo.id, patched.version, {status: 'ready', readyAt: new Date('2026-11-25T12:05:00Z')})
      assert.deepEqual(ready.database, learnt)
      assert.deepEqual((await store.get(demo.id))?.database, learnt)
    })

    it('refuses an insert over the per-owner cap and lists the owner’s live demos', async () => {
      const first = await insertOk(store, {createdBy: 'bob'})
      await insertOk(store, {createdBy: 'carol'})
      const extra = aNewDemo({createdBy: 'bob'})
      const result = await store.insert(extra, {perOwner: 1, global: 10}, aCreatedEvent(extra))
      assert.ok('refused' in result)
      assert.equal(result.refused, 'owner')
      assert.deepEqual(
        result.live.map((d) => d.id),
        [first.id],
      )
      assert.equal(await store.get(extra.id), undefined)
    })

    it('refuses an insert over the global cap', async () => {
      await insertOk(store, {createdBy: 'bob'})
      await insertOk(store, {createdBy: 'carol'})
      const extra = aNewDemo({createdBy: 'dave'})
      const result = await store.insert(extra, {perOwner: 5, global: 2}, aCreatedEvent(extra))
      assert.ok('refused' in result)
      assert.equal(result.refused, 'global')
      assert.equal(result.live.length, 2)
    })

    it('refuses a second demo with the same id with a DuplicateError naming it, and keeps the first', async () => {
      const first = await insertOk(store, {createdBy: 'bob'})
      const again = aNewDemo({id: first.id, namespace: first.namespace, createdBy: 'carol'})
      await assert.rejects(store.insert(again, BIG_CAPS, aCreatedEvent(again)), (error: unknown) => {
        assert.ok(error instanceof DuplicateError, String(error))
        assert.equal(error.code, 'E_DUPLICATE')
        assert.match(error.message, new RegExp(`demo "${first.id}"`))
        return true
      })
      assert.equal((await store.get(first.id))?.createdBy, 'bob')
      assert.deepEqual(
        (await store.events(first.id)).map((e) => e.type),
        ['created'],
      )
    })

    it('does not count destroyed or failed demos against the caps', async () => {
      const a = await insertOk(store, {createdBy: 'erin'})
      await store.update(a.id, a.version, {status: 'failed', lastError: 'boom'})
      const b = aNewDemo({createdBy: 'erin'})
      const result = await store.insert(b, {perOwner: 1, global: 1}, aCreatedEvent(b))
      assert.ok('inserted' in result)
    })

    it('counts exactly the live statuses of core (LIVE_STATUSES) against the caps', async () => {
      for (const status of DEMO_STATUSES) {
        const owner = `owner-${status}@example.com`
        if (status === 'destroyed') await destroyedDemo(store, {createdBy: owner})
        else await insertOk(store, {createdBy: owner, status})
        const next = aNewDemo({createdBy: owner})
        const result = await store.insert(next, {perOwner: 1, global: 100}, aCreatedEvent(next))
        assert.equal(
          'refused' in result,
          LIVE_STATUSES.includes(status),
          `a ${status} demo ${LIVE_STATUSES.includes(status) ? 'counts' : 'does not count'} against the per-owner cap`,
        )
        if ('inserted' in result) await store.update(next.id, result.inserted.version, {status: 'failed', lastError: 'not live'})
      }
      // One demo in each live status now: a global cap of that many refuses, one more admits.
      const extra = aNewDemo({createdBy: 'zoe@example.com'})
      const full = await store.insert(extra, {perOwner: 100, global: LIVE_STATUSES.length}, aCreatedEvent(extra))
      assert.ok('refused' in full && full.refused === 'global', 'the global cap counts every live demo')
      assert.deepEqual(full.live.map((d) => d.status).sort(), [...LIVE_STATUSES].sort())
      assert.ok(
        'inserted' in (await store.insert(extra, {perOwner: 100, global: LIVE_STATUSES.length + 1}, aCreatedEvent(extra))),
        'the global cap counts only live demos',
      )
    })

    it('applies a patch, bumps the version and records the event in the same step', async () => {
      const demo = await insertOk(store)
      const readyAt = new Date('2026-11-25T12:01:00Z')
      const updated = await store.update(
        demo.id,
        1,
        {status: 'ready', readyAt, phaseTimings: {apply: 1.5}},
        {demoId: demo.id, type: 'ready', at: readyAt, actor: 'alice', data: {seconds: 60}},
      )
      assert.equal(updated.status, 'ready')
      assert.equal(updated.version, 2)
      assert.equal(updated.readyAt?.toISOString(), readyAt.toISOString())
      assert.deepEqual(updated.phaseTimings, {apply: 1.5})
      const events = await store.events(demo.id)
      assert.deepEqual(
        events.map((e) => e.type),
        ['created', 'ready'],
      )
      assert.deepEqual(events[1]?.data, {seconds: 60})
    })

    it('appends an event with an empty patch (gc\u2019s expiry notice): the row unchanged but its version, compare-and-set', async () => {
      const demo = await insertOk(store)
      const at = new Date('2026-11-25T12:40:00Z')
      const event = {demoId: demo.id, type: 'expiry-notice' as const, at, actor: 'gc', data: {expiresAt: demo.expiresAt.toISOString()}}
      const updated = await store.update(demo.id, 1, {}, event)
      assert.equal(updated.version, 2)
      assert.equal(updated.status, demo.status)
      assert.equal(updated.expiresAt.toISOString(), demo.expiresAt.toISOString())
      await assert.rejects(store.update(demo.id, 1, {}, event), VersionConflictError)
      const events = await store.events(demo.id)
      assert.deepEqual(
        events.map((e) => [e.type, e.actor, e.data.expiresAt ?? null]),
        [
          ['created', demo.createdBy, null],
          ['expiry-notice', 'gc', demo.expiresAt.toISOString()],
        ],
      )
    })

    it('refuses an illegal status transition and leaves the row unchanged', async () => {
      const demo = await insertOk(store)
      await assert.rejects(store.update(demo.id, 1, {status: 'destroyed', destroyedAt: new Date()}), StateTransitionError)
      const after = await store.get(demo.id)
      assert.equal(after?.status, 'creating')
      assert.equal(after?.version, 1)
    })

    it('refuses a write based on a stale version (no lost update)', async () => {
      const demo = await insertOk(store)
      await store.update(demo.id, 1, {extensionCount: 1})
      await assert.rejects(store.update(demo.id, 1, {extensionCount: 1}), VersionConflictError)
      assert.equal((await store.get(demo.id))?.extensionCount, 1)
    })

    it('reports an update of an unknown id as not found', async () => {
      await assert.rejects(store.update('zzzzzzzz', 1, {extensionCount: 1}), NotFoundError)
    })

    it('walks the whole life cycle: creating → ready → degraded → ready → destroying → destroyed', async () => {
      let demo = await insertOk(store)
      for (const status of ['ready', 'degraded', 'ready', 'destroying'] as const) demo = await store.update(demo.id, demo.version, {status})
      demo = await store.update(demo.id, demo.version, {status: 'destroyed', destroyedAt: new Date('2026-11-25T13:00:00Z')})
      assert.equal(demo.status, 'destroyed')
      await assert.rejects(store.update(demo.id, demo.version, {status: 'ready'}), StateTransitionError)
    })

    it('lists newest first with filters and pages', async () => {
      const base = Date.parse('2026-11-20T00:00:00Z')
      for (let i = 0; i < 7; i++) {
        await insertOk(store, {
          createdAt: new Date(base + i * 60_000),
          expiresAt: new Date(base + i * 60_000 + 7_200_000),
          createdBy: i % 2 ? 'odd' : 'even',
          demoType: i < 3 ? 'startup' : 'enterprise',
        })
      }
      const page1 = await store.list({}, {limit: 3, offset: 0})
      assert.equal(page1.total, 7)
      assert.equal(page1.items.length, 3)
      assert.ok(page1.items[0]!.createdAt > page1.items[1]!.createdAt)
      const page3 = await store.list({}, {limit: 3, offset: 6})
      assert.equal(page3.items.length, 1)
      assert.equal(page3.total, 7, 'a partial last page still knows the total')
      const exactlyFull = await store.list({}, {limit: 7, offset: 0})
      assert.equal(exactlyFull.total, 7)
      const fullSecondPage = await store.list({}, {limit: 3, offset: 3})
      assert.equal(fullSecondPage.total, 7)
      const beyond = await store.list({}, {limit: 3, offset: 30})
      assert.equal(beyond.items.length, 0)
      assert.equal(beyond.total, 7)
      const odd = await store.list({createdBy: 'odd'}, {limit: 100, offset: 0})
      assert.equal(odd.total, 3)
      assert.ok(odd.items.every((d) => d.createdBy === 'odd'))
      const startups = await store.list({demoType: 'startup', statuses: ['creating']}, {limit: 100, offset: 0})
      assert.equal(startups.total, 3)
      const none = await store.list({statuses: ['destroyed']}, {limit: 100, offset: 0})
      assert.equal(none.total, 0)
    })

    it('lists failed demos with leftovers (cleanup kept or incomplete) too when asked, under the other filters', async () => {
      const ready = await insertOk(store, {status: 'ready', createdAt: minute(1)})
      const kept = await insertOk(store, {status: 'failed', metadata: {cleanup: 'kept', seed: 'v1'}, createdAt: minute(2)})
      const incomplete = await insertOk(store, {status: 'failed', metadata: {cleanup: 'incomplete'}, createdAt: minute(3), createdBy: 'bob'})
      await insertOk(store, {status: 'failed', metadata: {cleanup: 'done'}, createdAt: minute(4)})
      await insertOk(store, {status: 'failed', createdAt: minute(5)})
      await destroyedDemo(store, {metadata: {cleanup: 'kept'}, createdAt: minute(6)})
      const live = ['creating', 'ready', 'degraded', 'destroying'] as const
      const withLeftovers = await store.list({statuses: [...live], includeFailedWithLeftovers: true}, {limit: 2, offset: 0})
      assert.deepEqual(
        withLeftovers.items.map((d) => d.id),
        [incomplete.id, kept.id],
      )
      assert.equal(withLeftovers.total, 3)
      const rest = await store.list({statuses: [...live], includeFailedWithLeftovers: true}, {limit: 2, offset: 2})
      assert.deepEqual(
        rest.items.map((d) => d.id),
        [ready.id],
      )
      const without = await store.list({statuses: [...live]}, {limit: 100, offset: 0})
      assert.deepEqual(
        without.items.map((d) => d.id),
        [ready.id],
      )
      const bobs = await store.list({statuses: [...live], includeFailedWithLeftovers: true, createdBy: 'bob'}, {limit: 100, offset: 0})
      assert.deepEqual(
        bobs.items.map((d) => d.id),
        [incomplete.id],
      )
    })

    it('does not count failed demos with leftovers against the caps', async () => {
      await insertOk(store, {createdBy: 'erin', status: 'failed', metadata: {cleanup: 'kept'}})
      const next = aNewDemo({createdBy: 'erin'})
      assert.ok('inserted' in (await store.insert(next, {perOwner: 1, global: 1}, aCreatedEvent(next))))
    })

    it('finds the candidates of a reference by exact id, namespace, name and id prefix', async () => {
      const a = await insertOk(store, {id: 'refaa1xx', name: 'sales-call', status: 'ready', createdAt: minute(1)})
      const b = await insertOk(store, {id: 'refab2xx', name: 'sales-call', status: 'ready', createdAt: minute(2)})
      const c = await insertOk(store, {id: 'zzzz0001', name: 'refaa1xx', status: 'ready', createdAt: minute(3)})
      const ids = async (ref: string) => (await store.findByReference(ref)).map((d) => d.id)
      assert.deepEqual(await ids('refaa1xx'), [a.id, c.id], 'the exact id first, then the demo with that name')
      assert.deepEqual(await ids(a.namespace), [a.id])
      assert.deepEqual(await ids('sales-call'), [b.id, a.id])
      assert.deepEqual(await ids('refa'), [b.id, a.id])
      assert.deepEqual(await ids('refaa'), [a.id])
      assert.deepEqual(await ids('zzz'), [c.id])
      assert.deepEqual(await ids('re'), [], 'two characters are no id prefix')
      assert.deepEqual(await ids('nosuch'), [])
      const found = (await store.findByReference('sales-call'))[1]
      assert.equal(found?.createdAt.toISOString(), a.createdAt.toISOString())
      assert.equal(found?.version, 1)
    })

    it('matches "_" and "%" in an id prefix literally', async () => {
      await insertOk(store, {id: 'abc12345'})
      assert.deepEqual(await store.findByReference('ab_'), [])
      assert.deepEqual(await store.findByReference('ab%'), [])
      assert.deepEqual(await store.findByReference('a%c'), [])
      assert.deepEqual(await store.findByReference('ab\\'), [])
    })

    it('puts an exact namespace first, then demos that may hold objects, newest first, destroyed ones too', async () => {
      const old = await destroyedDemo(store, {id: 'cand0001', name: 'workshop', createdAt: minute(9)})
      const kept = await insertOk(store, {id: 'cand0002', name: 'workshop', status: 'failed', metadata: {cleanup: 'kept'}, createdAt: minute(1)})
      const done = await insertOk(store, {id: 'cand0003', name: 'workshop', status: 'failed', metadata: {cleanup: 'done'}, createdAt: minute(8)})
      const live = await insertOk(store, {id: 'cand0004', name: 'workshop', status: 'creating', createdAt: minute(2)})
      const named = await insertOk(store, {id: 'other001', name: 'demo-cand0003', status: 'ready', createdAt: minute(3)})
      const ids = async (ref: string) => (await store.findByReference(ref)).map((d) => d.id)
      assert.deepEqual(await ids('workshop'), [live.id, kept.id, old.id, done.id])
      assert.deepEqual(await ids('cand'), [live.id, kept.id, old.id, done.id])
      assert.deepEqual(await ids('demo-cand0003'), [done.id, named.id])
    })

    it('returns at most 20 candidates, those that may hold objects first', async () => {
      for (let i = 0; i < 21; i++) await destroyedDemo(store, {name: 'party', createdAt: minute(30 + i)})
      const live = await insertOk(store, {name: 'party', status: 'ready', createdAt: minute(1)})
      const found = await store.findByReference('party')
      assert.equal(found.length, 20)
      assert.equal(found[0]?.id, live.id)
      assert.equal(found[1]?.createdAt.toISOString(), minute(50).toISOString())
    })
  })
}
