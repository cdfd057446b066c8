import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {NewDemo} from '../../src/core/ports.js'
import {resetDemo} from '../../src/core/reset-demo.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock} from '../fakes/builders.js'
import {databasesFor, FakeDatabases} from '../fakes/fake-databases.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

async function world(overrides: Partial<NewDemo> = {}) {
  const store = new MemoryDemoStore()
  const databases = new FakeDatabases('shared-schema')
  const demo = aNewDemo({database: {mode: 'shared-schema', schema: 'demo_x', supabase: null}, seedValue: 7, status: 'creating', ...overrides})
  await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
  await databases.provision({...demo})
  const deps = {store, clock: fixedClock('2026-11-25T13:00:00Z'), databasesFor: databasesFor(databases, new FakeDatabases())}
  return {store, databases, demo, deps}
}

describe('resetDemo', () => {
  it('re-seeds with the recorded seed value and records a reset event', async () => {
    const {store, databases, demo, deps} = await world()
    const result = await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: demo.createdBy, admins: []})
    assert.deepEqual(databases.reseeded, [[demo.id, 7]])
    assert.equal(result.demo.seedValue, 7)
    assert.deepEqual((await store.events(demo.id)).map((e) => [e.type, e.data.seedValue]).slice(-1), [['reset', 7]])
  })

  it('re-seeds with --seed-value and records it on the row', async () => {
    const {store, databases, demo, deps} = await world()
    await resetDemo(deps, {id: demo.id, seedValue: 99, actor: demo.createdBy, admins: []})
    assert.deepEqual(databases.reseeded, [[demo.id, 99]])
    assert.equal((await store.get(demo.id))?.seedValue, 99)
  })

  it('refuses someone who is neither the owner nor an admin, and lets an admin', async () => {
    const {databases, demo, deps} = await world()
    await assert.rejects(resetDemo(deps, {id: demo.id, seedValue: undefined, actor: 'mallory@example.com', admins: []}), {code: 'E_PERMISSION'})
    assert.deepEqual(databases.reseeded, [])
    await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: 'boss@example.com', admins: ['boss@example.com']})
    assert.equal(databases.reseeded.length, 1)
  })

  it('refuses a failed demo and a demo without a database, changing nothing', async () => {
    const failed = await world({status: 'failed'})
    await assert.rejects(resetDemo(failed.deps, {id: failed.demo.id, seedValue: undefined, actor: failed.demo.createdBy, admins: []}), {
      code: 'E_CONFLICT',
    })
    const none = await world({database: {mode: 'none'}})
    await assert.rejects(resetDemo(none.deps, {id: none.demo.id, seedValue: undefined, actor: none.demo.createdBy, admins: []}), {code: 'E_USAGE'})
    assert.deepEqual(
      (await none.store.events(none.demo.id)).map((e) => e.type),
      ['created'],
    )
  })
})
