import assert from 'node:assert/strict'
import {beforeEach, describe, it} from 'node:test'
import type {Demo} from '../../src/core/demo.js'
import {DESTROY_STEPS, destroyDemo, type DestroyDeps, type DestroyRequest} from '../../src/core/destroy-demo.js'
import {
  CancelledError,
  DemoError,
  NotFoundError,
  PermissionError,
  TimeoutError,
  UnsupportedDatabaseModeError,
  UsageError,
} from '../../src/core/errors.js'
import {INSTANCE_ANNOTATION, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../../src/core/labels.js'
import type {NewDemo} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock} from '../fakes/builders.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {FakeSleeper, RecordingSteps} from '../fakes/fake-time.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'
import {databasesFor, FakeDatabases} from '../fakes/fake-databases.js'

const ID = 'k3x9a2bq'
const NS = `demo-${ID}`
const ALICE = 'alice@example.com'
const BOB = 'bob@example.com'
const ROOT = 'root@example.com'
const NOW = '2026-11-25T13:00:00.000Z'

function aDestroyRequest(overrides: Partial<DestroyRequest> = {}): DestroyRequest {
  return {id: ID, actor: ALICE, admins: [ROOT], trustedIdentities: [], wait: true, timeoutMs: 60_000, ...overrides}
}

describe('destroyDemo', () => {
  let store: MemoryDemoStore
  let cluster: FakeCluster
  let databases: FakeDatabases
  let sleeper: FakeSleeper
  let checkpoints: string[]
  const clock = fixedClock(NOW)

  const deps = (): DestroyDeps => ({
    store,
    clusterFor: async () => cluster,
    databasesFor: databasesFor(databases),
    clock,
    sleeper,
    steps: new RecordingSteps(),
    checkpoint: (name) => checkpoints.push(name),
    signal: new AbortController().signal,
  })
  const row = async () => {
    const found = await store.get(ID)
    assert.ok(found)
    return found
  }
  const eventTypes = async () => (await store.events(ID)).map((e) => e.type)

  /** A demo row of alice's, and its namespace in the cluster with the demo's marks and one Deployment. */
  async function seed(overrides: Partial<NewDemo> = {}, options: {namespace?: boolean} = {}): Promise<Demo> {
    const demo = aNewDemo({
      id: ID,
      namespace: NS,
      status: 'ready',
      createdBy: ALICE,
      kubeContext: 'test',
      createdAt: new Date('2026-11-25T12:00:00Z'),
      ...overrides,
    })
    const result = await store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    assert.ok('inserted' in result)
    if (options.namespace ?? true) {
      const ns = cluster.addNamespace(NS, {
        labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: ID},
        annotations: {[INSTANCE_ANNOTATION]: ID},
      })
      ns.objects.push({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'portal', namespace: NS}})
    }
    cluster.calls.length = 0
    return result.inserted
  }

  beforeEach(() => {
    clock.set(NOW)
    store = new MemoryDemoStore()
    databases = new FakeDatabases()
    sleeper = new FakeSleeper(clock)
    cluster = new FakeCluster('test').useSleeper(sleeper)
    checkpoints = []
  })

  it("destroys its owner's demo: namespace gone, database dropped, row destroyed", async () => {
    await seed()
    cluster.deletionTakes(3)
    const outcome = await destroyDemo(deps(), aDestroyRequest())
    assert.equal(outcome.kind, 'destroyed')
    assert.ok(outcome.kind === 'destroyed' && outcome.namespaceDeleted)
    assert.equal(cluster.namespaces.has(NS), false)
    assert.deepEqual(databases.dropped, [ID])
    const demo = await row()
    assert.deepEqual(outcome.demo, demo)
    assert.equal(demo.status, 'destroyed')
    assert.equal(demo.destroyedAt?.toISOString(), clock.now().toISOString())
    assert.ok(sleeper.slept.length >= 2, 'waited for the namespace to terminate')
    assert.deepEqual(
      checkpoints,
      DESTROY_STEPS.map((step) => step.key),
    )
  })

  it('drops the database with the adapter of the mode the demo was created with, not the one configured now', async () => {
    const shared = new FakeDatabases('shared-schema')
    const database = shared.planned(ID)
    shared.existing.set(ID, database)
    await seed({database})
    const outcome = await destroyDemo({...deps(), databasesFor: databasesFor(databases, shared)}, aDestroyRequest())
    assert.equal(outcome.kind, 'destroyed')
    assert.deepEqual(shared.dropped, [ID])
    assert.deepEqual(await shared.owned(), [])
    assert.deepEqual(databases.dropped, [])
    assert.deepEqual((await row()).database, {mode: 'shared-schema', schema: 'demo_k3x9a2bq', supabase: null})
  })

  for (const status of ['ready', 'destroying'] as const) {
    it(`refuses a ${status} demo whose database mode this version cannot drop, before touching the row or the namespace`, async () => {
      const before = await seed({status, database: {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: null, anonKey: null}})
      await assert.rejects(destroyDemo(deps(), aDestroyRequest()), (error: unknown) => {
        assert.ok(error instanceof UnsupportedDatabaseModeError)
        assert.equal(error.code, 'E_DATABASE_MODE')
        assert.equal(
          error.message,
          'Cannot destroy demo "k3x9a2bq": its database has mode "supabase-project", which this version of demo cannot drop. Nothing was changed.',
        )
        assert.equal(error.hint, 'Run `demo destroy k3x9a2bq` with a version of demo that supports database mode "supabase-project".')
        return true
      })
      assert.deepEqual(await row(), before)
      assert.deepEqual(await eventTypes(), ['created'])
      assert.deepEqual(cluster.calls, [])
      assert.equal(cluster.namespaces.get(NS)?.terminating, false)
      assert.deepEqual(databases.dropped, [])
    })
  }

  it('records the events destroying and destroyed, with who and from where', async () => {
    await seed()
    await destroyDemo(deps(), aDestroyRequest())
    const events = await store.events(ID)
    assert.deepEqual(
      events.map((e) => [e.type, e.actor, e.data]),
      [
        ['created', ALICE, {}],
        ['destroying', ALICE, {from: 'ready'}],
        ['destroyed', ALICE, {namespaceDeleted: true}],
      ],
    )
  })

  it('refuses someone who may not destroy it before asking anything', async () => {
    await seed()
    const asked: Demo[] = []
    const ask = async (demo: Demo) => {
      asked.push(demo)
    }
    await assert.rejects(destroyDemo({...deps(), confirm: ask}, aDestroyRequest({actor: 'mallory@example.com'})), PermissionError)
    assert.deepEqual(asked, [])
  })

  it('does not ask about a demo that is already destroyed', async () => {
    await seed()
    await destroyDemo(deps(), aDestroyRequest())
    const asked: Demo[] = []
    const outcome = await destroyDemo({...deps(), confirm: async (demo) => void asked.push(demo)}, aDestroyRequest())
    assert.equal(outcome.kind, 'already-destroyed')
    assert.deepEqual(asked, [])
  })

  it('asks confirm about the demo it found, and a refusal changes nothing', async () => {
    const before = await seed({name: 'acme-call'})
    const asked: Demo[] = []
    const refuse = async (demo: Demo) => {
      asked.push(demo)
      throw new DemoError('Not destroyed: not confirmed.')
    }
    await assert.rejects(destroyDemo({...deps(), confirm: refuse}, aDestroyRequest({id: 'acme-call'})), {message: 'Not destroyed: not confirmed.'})
    assert.deepEqual(asked, [before])
    assert.deepEqual(await row(), before)
    assert.deepEqual(await eventTypes(), ['created'])
    assert.deepEqual(cluster.calls, [])
  })

  it('destroys once confirm returns, in the cluster of the context the demo was created in', async () => {
    await seed({kubeContext: 'test'})
    const contexts: Array<string | null> = []
    const outcome = await destroyDemo(
      {
        ...deps(),
        confirm: async () => {},
        clusterFor: async (context) => {
          contexts.push(context)
          return cluster
        },
      },
      aDestroyRequest(),
    )
    assert.equal(outcome.kind, 'destroyed')
    assert.deepEqual(contexts, ['test'])
    assert.equal((await row()).status, 'destroyed')
  })

  it('writes nothing when interrupted before the first write (during the question, say)', async () => {
    const before = await seed()
    const interrupt = new AbortController()
    const confirm = async () => interrupt.abort(new Error('interrupted by SIGTERM'))
    await assert.rejects(destroyDemo({...deps(), confirm, signal: interrupt.signal}, aDestroyRequest()), (error: unknown) => {
      assert.ok(error instanceof CancelledError, String(error))
      assert.equal(error.message, 'Cancelled: interrupted by SIGTERM.')
      return true
    })
    assert.deepEqual(await row(), before)
    assert.deepEqual(await eventTypes(), ['created'])
    assert.deepEqual(cluster.calls, [])
  })

  it("refuses another user's demo with a PermissionError and changes nothing", async () => {
    const before = await seed()
    await assert.rejects(destroyDemo(deps(), aDestroyRequest({actor: BOB})), (error: unknown) => {
      assert.ok(error instanceof PermissionError)
      assert.match(error.message, /Cannot destroy demo "k3x9a2bq": it belongs to alice@example\.com, and you are bob@example\.com\./)
      return true
    })
    assert.deepEqual(await row(), before)
    assert.deepEqual(await eventTypes(), ['created'])
    assert.deepEqual(cluster.calls, [])
    assert.equal(cluster.namespaces.get(NS)?.terminating, false)
  })

  it("lets an admin destroy anyone's demo", async () => {
    await seed()
    const outcome = await destroyDemo(deps(), aDestroyRequest({actor: ROOT}))
    assert.equal(outcome.kind, 'destroyed')
    assert.equal((await row()).status, 'destroyed')
    assert.equal(cluster.namespaces.has(NS), false)
    const events = await store.events(ID)
    assert.deepEqual(
      events.slice(1).map((e) => e.actor),
      [ROOT, ROOT],
    )
  })

  it('succeeds without touching the cluster when the demo is already destroyed', async () => {
    const before = await seed({status: 'ready'}, {namespace: false})
    await store.update(ID, before.version, {status: 'destroying'})
    const destroyed = await store.update(ID, before.version + 1, {status: 'destroyed', destroyedAt: new Date('2026-11-25T12:30:00Z')})
    const outcome = await destroyDemo(deps(), aDestroyRequest())
    assert.deepEqual(outcome, {kind: 'already-destroyed', demo: destroyed})
    assert.deepEqual(cluster.calls, [])
    assert.deepEqual(await row(), destroyed)
    assert.deepEqual(databases.dropped, [])
  })

  for (const status of ['failed', 'creating'] as const) {
    it(`destroys a demo whose row is ${status}`, async () => {
      await seed({status})
      const outcome = await destroyDemo(deps(), aDestroyRequest())
      assert.equal(outcome.kind, 'destroyed')
      assert.equal((await row()).status, 'destroyed')
      assert.equal(cluster.namespaces.has(NS), false)
      assert.deepEqual((await store.events(ID))[1]?.data, {from: status})
    })
  }

  it('with wait=false returns once deletion is accepted, the row destroying; a second destroy finishes it', async () => {
    await seed()
    cluster.deletionTakes(5)
    const first = await destroyDemo(deps(), aDestroyRequest({wait: false}))
    assert.equal(first.kind, 'deleting')
    assert.equal(first.demo.status, 'destroying')
    assert.equal((await row()).status, 'destroying')
    assert.equal(cluster.namespaces.get(NS)?.terminating, true)
    assert.deepEqual(sleeper.slept, [])
    assert.deepEqual(databases.dropped, [])
    assert.deepEqual(await eventTypes(), ['created', 'destroying'])

    const second = await destroyDemo(deps(), aDestroyRequest())
    assert.equal(second.kind, 'destroyed')
    assert.equal((await row()).status, 'destroyed')
    assert.equal(cluster.namespaces.has(NS), false)
    assert.deepEqual(databases.dropped, [ID])
    assert.deepEqual(await eventTypes(), ['created', 'destroying', 'destroyed'], 'no second destroying event')
  })

  it('times out naming the finalizer when the namespace is stuck, and leaves the row destroying until a rerun finishes', async () => {
    await seed()
    cluster.addFinalizer(NS, 'kubernetes.io/pvc-protection')
    await assert.rejects(destroyDemo(deps(), aDestroyRequest({timeoutMs: 30_000})), (error: unknown) => {
      assert.ok(error instanceof TimeoutError)
      assert.match(
        error.message,
        /Namespace demo-k3x9a2bq is still terminating after 30s; it is held by NamespaceFinalizersRemaining: .*finalizers remaining: kubernetes\.io\/pvc-protection in 1 resource instances/,
      )
      return true
    })
    assert.equal((await row()).status, 'destroying')
    assert.equal(cluster.namespaces.get(NS)?.terminating, true)
    assert.deepEqual(databases.dropped, [])
    assert.deepEqual(await eventTypes(), ['created', 'destroying'])

    cluster.removeFinalizer(NS, 'kubernetes.io/pvc-protection')
    const outcome = await destroyDemo(deps(), aDestroyRequest())
    assert.equal(outcome.kind, 'destroyed')
    assert.equal((await row()).status, 'destroyed')
  })

  it('destroys a demo whose namespace is already gone, saying it deleted none', async () => {
    await seed({}, {namespace: false})
    const outcome = await destroyDemo(deps(), aDestroyRequest())
    assert.deepEqual(outcome.kind === 'destroyed' && outcome.namespaceDeleted, false)
    assert.equal((await row()).status, 'destroyed')
    assert.deepEqual(databases.dropped, [ID])
    assert.deepEqual((await store.events(ID)).at(-1)?.data, {namespaceDeleted: false})
  })

  it('refuses with a UsageError naming both contexts when the demo lives in another kubeconfig context', async () => {
    const before = await seed({kubeContext: 'prod-eu'})
    await assert.rejects(destroyDemo(deps(), aDestroyRequest()), (error: unknown) => {
      assert.ok(error instanceof UsageError)
      assert.match(error.message, /created in kubeconfig context "prod-eu", not "test"/)
      assert.match(error.hint ?? '', /demo destroy k3x9a2bq --context prod-eu/)
      return true
    })
    assert.deepEqual(await row(), before)
    assert.deepEqual(cluster.calls, [])
    assert.equal(cluster.namespaces.get(NS)?.terminating, false)
  })

  it('leaves a namespace of the same name without the demo marks alone', async () => {
    await seed({}, {namespace: false})
    cluster.addNamespace(NS, {labels: {team: 'payments'}})
    await assert.rejects(destroyDemo(deps(), aDestroyRequest()), /does not carry the marks of demo "k3x9a2bq"/)
    assert.equal(cluster.namespaces.get(NS)?.terminating, false)
    assert.equal((await row()).status, 'destroying')
  })

  it('lets two destroys of the same demo run at once: both succeed, one destroying and one destroyed event', async () => {
    await seed()
    const results = await Promise.all([destroyDemo(deps(), aDestroyRequest()), destroyDemo(deps(), aDestroyRequest({actor: ROOT}))])
    // The one that recorded it says destroyed; the other that someone else already had.
    assert.deepEqual(
      results.map((r) => r.kind),
      ['destroyed', 'already-destroyed'],
    )
    const demo = await row()
    assert.equal(demo.status, 'destroyed')
    assert.deepEqual(await eventTypes(), ['created', 'destroying', 'destroyed'])
    assert.equal(cluster.namespaces.has(NS), false)
  })

  it('destroys a demo whose row another command changed between the read and the write', async () => {
    const before = await seed()
    const update = store.update.bind(store)
    let raced = false
    store.update = async (id, version, patch, event) => {
      if (!raced) {
        raced = true
        await update(id, before.version, {expiresAt: new Date('2026-11-25T16:00:00Z'), extensionCount: 1})
      }
      return update(id, version, patch, event)
    }
    const outcome = await destroyDemo(deps(), aDestroyRequest())
    assert.equal(outcome.kind, 'destroyed')
    const demo = await row()
    assert.equal(demo.status, 'destroyed')
    assert.equal(demo.extensionCount, 1)
  })

  it("asks the cluster's identity beside the caller's, not after it, for a row that records both", async () => {
    await seed({clusterId: cluster.clusterId, authenticatedAs: 'demo-testbed-admin'})
    assert.equal((await destroyDemo(deps(), aDestroyRequest())).kind, 'destroyed')
    const order = cluster.calls.map((c) => c.method)
    assert.ok(order.includes('authenticatedUser'))
    assert.ok(order.indexOf('identity') < order.indexOf('authenticatedUser'), order.join(', '))
  })

  it('writes `destroyed` on the version it wrote `destroying` with, without reading the row again', async () => {
    await seed()
    const get = store.get.bind(store)
    const reads: string[] = []
    store.get = async (id) => {
      reads.push(checkpoints.at(-1) ?? 'start')
      return get(id)
    }
    assert.equal((await destroyDemo(deps(), aDestroyRequest())).kind, 'destroyed')
    // (The lookup goes through findDemo's query, not get.)
    assert.deepEqual(reads, [])
    assert.deepEqual(await eventTypes(), ['created', 'destroying', 'destroyed'])
  })

  it('reads the row again and records it destroyed when another command wrote it during the wait', async () => {
    await seed()
    const update = store.update.bind(store)
    let bumped = false
    store.update = async (id, version, patch, event) => {
      if (patch.status === 'destroyed' && !bumped) {
        bumped = true
        const current = await row()
        await update(id, current.version, {expiresAt: new Date('2026-11-25T16:00:00Z')})
      }
      return update(id, version, patch, event)
    }
    const outcome = await destroyDemo(deps(), aDestroyRequest())
    assert.equal(outcome.kind, 'destroyed')
    assert.ok(bumped)
    const demo = await row()
    assert.equal(demo.status, 'destroyed')
    assert.equal(demo.expiresAt.toISOString(), '2026-11-25T16:00:00.000Z')
    assert.deepEqual(await eventTypes(), ['created', 'destroying', 'destroyed'])
  })

  it('answers NotFoundError for an unknown id and UsageError for a malformed one', async () => {
    await assert.rejects(destroyDemo(deps(), aDestroyRequest({id: 'zzzzzzzz'})), NotFoundError)
    await assert.rejects(destroyDemo(deps(), aDestroyRequest({id: 'NOT AN ID'})), UsageError)
    assert.deepEqual(cluster.calls, [])
  })
})
