import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {NewDemo} from '../../src/core/ports.js'
import {resetDemo} from '../../src/core/reset-demo.js'
import {PermissionError} from '../../src/core/errors.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock} from '../fakes/builders.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {databasesFor, FakeDatabases} from '../fakes/fake-databases.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

async function world(overrides: Partial<NewDemo> = {}) {
  const store = new MemoryDemoStore()
  const databases = new FakeDatabases('shared-schema')
  const demo = aNewDemo({database: {mode: 'shared-schema', schema: 'demo_x', supabase: null}, seedValue: 7, status: 'creating', ...overrides})
  await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
  await databases.provision({...demo})
  const cluster = new FakeCluster('test')
  const connected: Array<string | null> = []
  const clusterFor = async (kubeContext: string | null): Promise<FakeCluster> => {
    connected.push(kubeContext)
    return cluster
  }
  const deps = {store, clock: fixedClock('2026-11-25T13:00:00Z'), clusterFor, databasesFor: databasesFor(databases, new FakeDatabases())}
  return {store, databases, demo, deps, cluster, connected}
}

const ALICE_SA = 'system:serviceaccount:team:alice'
const BOB_SA = 'system:serviceaccount:team:bob'
const CI_SA = 'system:serviceaccount:ci:deployer'
const NOBODY = {admins: [], trustedIdentities: []}

describe('resetDemo', () => {
  it('re-seeds with the recorded seed value and records a reset event', async () => {
    const {store, databases, demo, deps} = await world()
    const result = await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: demo.createdBy, ...NOBODY})
    assert.deepEqual(databases.reseeded, [[demo.id, 7]])
    assert.equal(result.demo.seedValue, 7)
    assert.deepEqual((await store.events(demo.id)).map((e) => [e.type, e.data.seedValue]).slice(-1), [['reset', 7]])
  })

  it('re-seeds with --seed-value and records it on the row', async () => {
    const {store, databases, demo, deps} = await world()
    await resetDemo(deps, {id: demo.id, seedValue: 99, actor: demo.createdBy, ...NOBODY})
    assert.deepEqual(databases.reseeded, [[demo.id, 99]])
    assert.equal((await store.get(demo.id))?.seedValue, 99)
  })

  it('refuses someone who is neither the owner nor an admin, and lets an admin', async () => {
    const {databases, demo, deps} = await world()
    await assert.rejects(resetDemo(deps, {id: demo.id, seedValue: undefined, actor: 'mallory@example.com', ...NOBODY}), {code: 'E_PERMISSION'})
    assert.deepEqual(databases.reseeded, [])
    await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: 'boss@example.com', admins: ['boss@example.com'], trustedIdentities: []})
    assert.equal(databases.reseeded.length, 1)
  })

  it('refuses a failed demo and a demo without a database, changing nothing', async () => {
    const failed = await world({status: 'failed'})
    await assert.rejects(resetDemo(failed.deps, {id: failed.demo.id, seedValue: undefined, actor: failed.demo.createdBy, ...NOBODY}), {
      code: 'E_CONFLICT',
    })
    const none = await world({database: {mode: 'none'}})
    await assert.rejects(resetDemo(none.deps, {id: none.demo.id, seedValue: undefined, actor: none.demo.createdBy, ...NOBODY}), {code: 'E_USAGE'})
    assert.deepEqual(
      (await none.store.events(none.demo.id)).map((e) => e.type),
      ['created'],
    )
  })

  describe('who may: the rule of destroy and extend (authorizeCaller), fault matrix X9', () => {
    const recorded = {authenticatedAs: ALICE_SA, clusterId: 'cluster-uid-test'}

    it('refuses another authenticated identity that declares the owner’s name, changing nothing', async () => {
      const {store, databases, demo, deps, cluster} = await world(recorded)
      cluster.user = {username: BOB_SA}
      await assert.rejects(resetDemo(deps, {id: demo.id, seedValue: undefined, actor: demo.createdBy, ...NOBODY}), (error: unknown) => {
        assert.ok(error instanceof PermissionError)
        assert.match(
          error.message,
          /^Cannot reset demo ".*": it was created by alice@example.com, authenticated by the cluster as "system:serviceaccount:team:alice", and you are authenticated as "system:serviceaccount:team:bob"/,
        )
        assert.match(error.hint ?? '', /trustedIdentities/)
        return true
      })
      assert.deepEqual(databases.reseeded, [])
      assert.deepEqual(
        (await store.events(demo.id)).map((e) => e.type),
        ['created'],
      )
    })

    it('allows the creator’s authenticated identity, whatever name it declares, asking the demo’s own cluster', async () => {
      const {databases, demo, deps, cluster, connected} = await world(recorded)
      cluster.user = {username: ALICE_SA}
      await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: 'someone-else@example.com', ...NOBODY})
      assert.deepEqual(databases.reseeded, [[demo.id, 7]])
      assert.deepEqual(connected, ['test'])
      assert.ok(cluster.calls.some((c) => c.method === 'authenticatedUser'))
    })

    it('allows a trusted identity, also on an older row that records none', async () => {
      const policy = {admins: [], trustedIdentities: [CI_SA]}
      const {databases, demo, deps, cluster} = await world(recorded)
      cluster.user = {username: CI_SA}
      await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: 'ci', ...policy})
      assert.equal(databases.reseeded.length, 1)

      const older = await world()
      older.cluster.user = {username: CI_SA}
      await resetDemo(older.deps, {id: older.demo.id, seedValue: undefined, actor: 'ci', ...policy})
      assert.equal(older.databases.reseeded.length, 1)
    })

    it('refuses a caller the cluster cannot identify, even with the owner’s name', async () => {
      const {databases, demo, deps, cluster} = await world(recorded)
      cluster.user = {unavailable: 'the cluster does not serve SelfSubjectReview (404)'}
      await assert.rejects(resetDemo(deps, {id: demo.id, seedValue: undefined, actor: demo.createdBy, ...NOBODY}), {code: 'E_PERMISSION'})
      assert.deepEqual(databases.reseeded, [])
    })

    it('refuses when the identity comes from another cluster than the demo’s (same user name there)', async () => {
      const {databases, demo, deps, cluster} = await world({...recorded, clusterId: 'cluster-uid-prod'})
      cluster.user = {username: ALICE_SA}
      await assert.rejects(resetDemo(deps, {id: demo.id, seedValue: undefined, actor: demo.createdBy, ...NOBODY}), {code: 'E_WRONG_CLUSTER'})
      assert.deepEqual(databases.reseeded, [])
    })

    it('asks the cluster nothing for an older row whose declared owner decides', async () => {
      const {databases, demo, deps, connected} = await world()
      await resetDemo(deps, {id: demo.id, seedValue: undefined, actor: demo.createdBy, ...NOBODY})
      assert.equal(databases.reseeded.length, 1)
      assert.deepEqual(connected, [])
    })
  })
})
