import assert from 'node:assert/strict'
import {beforeEach, describe, it} from 'node:test'
import type {Demo, LifetimePolicy} from '../../src/core/demo.js'
import {ConflictError, DemoExpiredError, LimitError, NotFoundError, PermissionError, UsageError, VersionConflictError} from '../../src/core/errors.js'
import {extendDemo, type ExtendRequest} from '../../src/core/extend-demo.js'
import type {DemoEvent, DemoPatch} from '../../src/core/ports.js'
import {defaultProjectConfig} from '../../src/core/project-config.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock} from '../fakes/builders.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {
  EXPIRES_AT_ANNOTATION,
  INSTANCE_ANNOTATION,
  INSTANCE_LABEL,
  JANITOR_EXPIRES_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
} from '../../src/core/labels.js'

const HOUR = 3_600_000
const CREATED = '2026-11-25T12:00:00.000Z'
const policy: LifetimePolicy = defaultProjectConfig().lifetime

/** A store whose next updates are preceded by someone else's write to the same row (a concurrent extend). */
class RacingStore extends MemoryDemoStore {
  racesLeft = 0

  override async update(id: string, expectedVersion: number, patch: DemoPatch, event?: DemoEvent): Promise<Demo> {
    if (this.racesLeft > 0) {
      this.racesLeft -= 1
      const current = this.rows.get(id)!
      await super.update(
        id,
        current.version,
        {expiresAt: new Date(current.expiresAt.getTime() + HOUR), extensionCount: current.extensionCount + 1},
        {
          demoId: id,
          type: 'extended',
          at: new Date(CREATED),
          actor: 'someone-else',
          data: {hours: 1},
        },
      )
    }
    return super.update(id, expectedVersion, patch, event)
  }
}

async function seed(store: MemoryDemoStore, overrides: Parameters<typeof aNewDemo>[0] = {}): Promise<Demo> {
  const demo = aNewDemo({id: 'k3x9a2bq', status: 'ready', createdAt: new Date(CREATED), createdBy: 'alice@example.com', ...overrides})
  const result = await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
  assert.ok('inserted' in result)
  return result.inserted
}

function request(overrides: Partial<ExtendRequest> = {}): ExtendRequest {
  return {id: 'k3x9a2bq', hours: 2, actor: 'alice@example.com', admins: [], trustedIdentities: [], explicitContext: false, ...overrides}
}

describe('extendDemo', () => {
  let store: RacingStore
  let cluster: FakeCluster
  const clock = fixedClock('2026-11-25T13:00:00Z')
  const deps = () => ({store, clock, policy, cluster: async () => cluster})

  beforeEach(() => {
    store = new RacingStore()
    cluster = new FakeCluster('test')
    clock.set('2026-11-25T13:00:00Z')
  })

  it('pushes the expiry back, counts the extension and records an event', async () => {
    await seed(store)
    const {demo} = await extendDemo(deps(), request({hours: 2}))
    assert.equal(demo.expiresAt.toISOString(), '2026-11-25T16:00:00.000Z')
    assert.equal(demo.extensionCount, 1)
    const stored = await store.get('k3x9a2bq')
    assert.equal(stored?.expiresAt.toISOString(), '2026-11-25T16:00:00.000Z')
    const events = (await store.events('k3x9a2bq')).filter((e) => e.type === 'extended')
    assert.equal(events.length, 1)
    assert.deepEqual(events[0]?.data, {hours: 2, from: '2026-11-25T14:00:00.000Z', to: '2026-11-25T16:00:00.000Z'})
    assert.equal(events[0]?.actor, 'alice@example.com')
  })

  it('accepts fractions of an hour within the bounds', async () => {
    await seed(store)
    const {demo} = await extendDemo(deps(), request({hours: 1.5}))
    assert.equal(demo.expiresAt.toISOString(), '2026-11-25T15:30:00.000Z')
  })

  for (const hours of [0, 0.5, 4.01, 5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`refuses ${hours} hours as a usage error and leaves the row alone`, async () => {
      const before = await seed(store)
      await assert.rejects(extendDemo(deps(), request({hours})), (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.exitCode, 2)
        assert.match(error.message, /^--by must be between 1h and 4h, got /)
        assert.equal(error.hint, 'Run `demo extend k3x9a2bq --by 2h`.')
        return true
      })
      assert.deepEqual(await store.get('k3x9a2bq'), before)
    })
  }

  it('accepts the bounds themselves', async () => {
    await seed(store)
    assert.equal((await extendDemo(deps(), request({hours: 1}))).demo.extensionCount, 1)
    assert.equal((await extendDemo(deps(), request({hours: 4}))).demo.extensionCount, 2)
  })

  it('refuses to go past the maximum lifetime with a LimitError and says how much is left', async () => {
    await seed(store, {expiresAt: new Date('2026-11-26T10:00:00Z')}) // 22h after creation; max is 24h
    await assert.rejects(extendDemo(deps(), request({hours: 3})), (error: unknown) => {
      assert.ok(error instanceof LimitError)
      assert.equal(error.code, 'E_LIMIT')
      assert.match(error.message, /may live at most 24h in all \(until 2026-11-26 12:00 UTC\)/)
      assert.equal(error.hint, 'Extend by at most 2h 00m.')
      return true
    })
    const {demo} = await extendDemo(deps(), request({hours: 2}))
    assert.equal(demo.expiresAt.toISOString(), '2026-11-26T12:00:00.000Z')
  })

  it('refuses with a LimitError once the maximum number of extensions is reached', async () => {
    await seed(store)
    for (let i = 0; i < policy.maxExtensions; i++) await extendDemo(deps(), request({hours: 1}))
    const before = await store.get('k3x9a2bq')
    await assert.rejects(extendDemo(deps(), request({hours: 1})), (error: unknown) => {
      assert.ok(error instanceof LimitError)
      assert.match(error.message, /already extended 3 times, and lifetime\.maxExtensions is 3\./)
      return true
    })
    assert.deepEqual(await store.get('k3x9a2bq'), before)
  })

  it('refuses someone who is neither owner nor admin with a PermissionError, and leaves the row alone', async () => {
    const before = await seed(store)
    await assert.rejects(extendDemo(deps(), request({actor: 'bob@example.com'})), (error: unknown) => {
      assert.ok(error instanceof PermissionError)
      assert.equal(error.exitCode, 1)
      assert.match(error.message, /belongs to alice@example.com, and you are bob@example.com/)
      assert.match(error.hint ?? '', /admins/)
      return true
    })
    assert.deepEqual(await store.get('k3x9a2bq'), before)
  })

  it("lets an admin extend someone else's demo, recording the admin as actor", async () => {
    await seed(store)
    const {demo} = await extendDemo(deps(), request({actor: 'root@example.com', admins: ['root@example.com']}))
    assert.equal(demo.extensionCount, 1)
    assert.equal(demo.createdBy, 'alice@example.com')
    const [event] = (await store.events('k3x9a2bq')).filter((e) => e.type === 'extended')
    assert.equal(event?.actor, 'root@example.com')
  })

  for (const status of ['destroyed', 'destroying', 'failed'] as const) {
    it(`refuses a ${status} demo`, async () => {
      const before = await seed(store, {status})
      await assert.rejects(
        extendDemo(deps(), request()),
        (error: unknown) => error instanceof ConflictError && error.message.includes(`it is ${status}`),
      )
      assert.deepEqual(await store.get('k3x9a2bq'), before)
    })
  }

  it('refuses an expired demo with a DemoExpiredError, naming when it expired', async () => {
    await seed(store)
    clock.set('2026-11-25T14:05:00Z')
    await assert.rejects(extendDemo(deps(), request()), (error: unknown) => {
      assert.ok(error instanceof DemoExpiredError)
      assert.equal(error.code, 'E_EXPIRED')
      assert.equal(error.message, 'Cannot extend demo "k3x9a2bq": it expired at 2026-11-25 14:00 UTC.')
      return true
    })
    assert.equal((await store.get('k3x9a2bq'))?.extensionCount, 0)
  })

  it('throws NotFoundError for an unknown id and UsageError for a malformed one', async () => {
    await assert.rejects(
      extendDemo(deps(), request({id: 'zzzzzzzz'})),
      (error: unknown) => error instanceof NotFoundError && /demo list --status all/.test(error.hint ?? ''),
    )
    await assert.rejects(extendDemo(deps(), request({id: 'NOT-AN-ID'})), UsageError)
  })

  it('re-reads and counts both when another extend wrote first (no lost update)', async () => {
    await seed(store)
    store.racesLeft = 1
    const {demo} = await extendDemo(deps(), request({hours: 2}))
    // Someone else's +1h landed between our read and our write; ours is applied on top of it.
    assert.equal(demo.extensionCount, 2)
    assert.equal(demo.expiresAt.toISOString(), '2026-11-25T17:00:00.000Z')
    const events = (await store.events('k3x9a2bq')).filter((e) => e.type === 'extended')
    assert.deepEqual(
      events.map((e) => e.actor),
      ['someone-else', 'alice@example.com'],
    )
    assert.deepEqual(events[1]?.data, {hours: 2, from: '2026-11-25T15:00:00.000Z', to: '2026-11-25T17:00:00.000Z'})
  })

  it('refuses by policy, not by losing an update, when a concurrent extend used the last allowed extension', async () => {
    await seed(store)
    await extendDemo(deps(), request({hours: 1}))
    await extendDemo(deps(), request({hours: 1}))
    store.racesLeft = 1
    await assert.rejects(
      extendDemo(deps(), request({hours: 1})),
      (error: unknown) => error instanceof LimitError && /already extended 3 times, and lifetime.maxExtensions is 3\./.test(error.message),
    )
    const demo = await store.get('k3x9a2bq')
    assert.equal(demo?.extensionCount, 3)
    assert.equal(demo?.expiresAt.toISOString(), '2026-11-25T17:00:00.000Z')
  })

  it('passes its `decided` checkpoint once, before the write, also when the write is retried', async () => {
    await seed(store)
    store.racesLeft = 1
    const passed: Array<{name: string; demoId: string; extensionsThen: number | undefined}> = []
    const checkpoint = (name: string, demoId: string) => {
      passed.push({name, demoId, extensionsThen: store.rows.get(demoId)?.extensionCount})
    }
    const {demo} = await extendDemo({...deps(), checkpoint}, request({hours: 1}))
    assert.equal(demo.extensionCount, 2)
    // Before anything was written (the concurrent extend comes with our first write), and not again on the retry.
    assert.deepEqual(passed, [{name: 'decided', demoId: 'k3x9a2bq', extensionsThen: 0}])
  })

  it('gives up with VersionConflictError after five lost races in a row', async () => {
    await seed(store, {expiresAt: new Date('2026-11-25T14:00:00Z')})
    const relaxed = {...policy, maxExtensions: 100}
    store.racesLeft = 5
    await assert.rejects(extendDemo({...deps(), policy: relaxed}, request({hours: 1})), VersionConflictError)
    assert.equal((await store.get('k3x9a2bq'))?.extensionCount, 5)
  })

  it('counts two extends started at the same moment', async () => {
    await seed(store)
    const results = await Promise.allSettled([extendDemo(deps(), request({hours: 1})), extendDemo(deps(), request({hours: 2}))])
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
    )
    const demo = await store.get('k3x9a2bq')
    assert.equal(demo?.extensionCount, 2)
    assert.equal(demo?.expiresAt.toISOString(), '2026-11-25T17:00:00.000Z')
  })

  it('names the limit in force, not the number of extensions, when a stricter config applies', async () => {
    await seed(store)
    const generous = {...policy, maxExtensions: 10, maxLifetimeHours: 100}
    for (let i = 0; i < 4; i++) await extendDemo({...deps(), policy: generous}, request({hours: 1}))
    await assert.rejects(extendDemo(deps(), request({hours: 1})), (error: unknown) => {
      assert.ok(error instanceof LimitError)
      assert.equal(error.message, 'Cannot extend demo "k3x9a2bq": it was already extended 4 times, and lifetime.maxExtensions is 3.')
      return true
    })
  })

  it('moves the namespace expiry annotations after writing the row, and says when the namespace is gone', async () => {
    const demo = await seed(store)
    const marks = {
      labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: demo.id},
      annotations: {[INSTANCE_ANNOTATION]: demo.id, [JANITOR_EXPIRES_ANNOTATION]: 'x'},
    }
    await cluster.ensureNamespace(
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: demo.namespace, ...marks}},
      {demoId: demo.id, namespace: demo.namespace},
    )
    const moved = await extendDemo(deps(), request({hours: 2}))
    assert.deepEqual(moved.namespaceExpiry, {kind: 'moved'})
    assert.equal(cluster.namespaces.get(demo.namespace)?.annotations[EXPIRES_AT_ANNOTATION], '2026-11-25T16:00:00.000Z')
    assert.equal(cluster.namespaces.get(demo.namespace)?.annotations[JANITOR_EXPIRES_ANNOTATION], '2026-11-25T16:00:00Z')
    cluster.namespaces.delete(demo.namespace)
    assert.deepEqual((await extendDemo(deps(), request({hours: 1}))).namespaceExpiry, {kind: 'namespace-gone'})
  })

  it('keeps the extend when the cluster does not answer, and reports why the annotations were not moved', async () => {
    await seed(store)
    const unreachable = {...deps(), cluster: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'))}
    const {demo, namespaceExpiry} = await extendDemo(unreachable, request({hours: 2}))
    assert.equal(demo.extensionCount, 1)
    assert.deepEqual(namespaceExpiry, {kind: 'not-updated', reason: 'connect ECONNREFUSED 127.0.0.1:6443'})
  })

  it("refuses an explicit --context that is not the demo's own, before writing anything (exit 2)", async () => {
    await seed(store, {kubeContext: 'test'})
    const before = await store.get('k3x9a2bq')
    const other = {...deps(), cluster: async () => new FakeCluster('other')}
    await assert.rejects(extendDemo(other, request({explicitContext: true})), (error: unknown) => {
      assert.ok(error instanceof UsageError)
      assert.equal(error.message, 'Demo "k3x9a2bq" was created in kubeconfig context "test", not "other".')
      assert.equal(error.hint, 'Run `demo extend k3x9a2bq --by 2h --context test`, or leave --context out.')
      return true
    })
    assert.deepEqual(await store.get('k3x9a2bq'), before)
  })

  it('refuses an explicit --context the kubeconfig does not have, before writing anything', async () => {
    await seed(store)
    const before = await store.get('k3x9a2bq')
    const unknown = {...deps(), cluster: () => Promise.reject(new UsageError('The kubeconfig has no context "other".'))}
    await assert.rejects(extendDemo(unknown, request({explicitContext: true})), UsageError)
    assert.deepEqual(await store.get('k3x9a2bq'), before)
  })
})
