import {MAX_RESYNC_MS, RESYNC_MS} from '../../src/core/await-ready.js'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {beforeEach, describe, it} from 'node:test'
import {CREATE_STEPS, createDemo, type CreateDeps, type CreateRequest} from '../../src/core/create-demo.js'
import {destroyDemo} from '../../src/core/destroy-demo.js'
import {
  ClusterAuthError,
  ClusterError,
  ClusterUnavailableError,
  ConflictError,
  CreateFailedError,
  DemoError,
  LimitError,
  StoreUnavailableError,
  UsageError,
} from '../../src/core/errors.js'
import {DEMO_TYPE_LABEL, INSTANCE_ANNOTATION, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../../src/core/labels.js'
import type {Manifest, Random} from '../../src/core/ports.js'
import {projectConfigSchema} from '../../src/core/project-config.js'
import type {TemplateFile} from '../../src/core/render-stack.js'
import {aCreatedEvent, aNewDemo, fixedClock} from '../fakes/builders.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {PermissionError} from '../../src/core/errors.js'
import {FakeSleeper, RecordingSteps} from '../fakes/fake-time.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'
import {databasesFor, FakeDatabases} from '../fakes/fake-databases.js'

const TEMPLATES_DIR = new URL('../../templates/', import.meta.url)
const templates: TemplateFile[] = readdirSync(TEMPLATES_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => ({name, text: readFileSync(new URL(name, TEMPLATES_DIR), 'utf8')}))

const config = projectConfigSchema.parse({
  ingress: {portalUrl: 'https://{id}.portal.example.test', candidateUrl: 'https://{id}.jobs.example.test/apply'},
  limits: {perOwner: 1, global: 10},
})

/** Bytes 0, 1, 2 ... make the id "abcdefgh". */
const ID = 'abcdefgh'
const NS = `demo-${ID}`
const sequentialRandom: Random = {bytes: (count) => Uint8Array.from({length: count}, (_, i) => i)}
const STEP_MS = 1000
const START = '2026-11-25T12:00:00.000Z'
const ALICE = 'alice@example.com'

function aCreateRequest(overrides: Partial<CreateRequest> = {}): CreateRequest {
  return {
    type: undefined,
    duration: undefined,
    name: undefined,
    actor: ALICE,
    autoCleanup: true,
    wait: true,
    waitTimeoutMs: 300_000,
    keepOnFailure: false,
    ...overrides,
  }
}

const isDeployments = (objects: Manifest[]) => objects.some((o) => o.kind === 'Deployment')

/** The keys of phase timings and checkpoints: the row, then every declared step. */
const STEP_KEYS = ['record', ...CREATE_STEPS.map((step) => step.key)]

/** Phase timings where each of `keys` took one fake step (RecordingSteps' tick); the database check takes no fake time. */
function timingsOf(keys: string[], extra: Record<string, number> = {}): Record<string, number> {
  return {databaseCheck: 0, ...Object.fromEntries(keys.map((key) => [key, STEP_MS / 1000])), ...extra}
}

/** Which create step applies a kind (stepObjects' grouping), to check the cluster saw the steps in order. */
function stepOfKind(kind: string): number {
  if (['ResourceQuota', 'LimitRange', 'NetworkPolicy', 'ServiceAccount', 'Role', 'RoleBinding'].includes(kind)) return 0
  if (kind === 'Secret' || kind === 'ConfigMap') return 1
  if (kind === 'Ingress') return 3
  return 2
}

describe('createDemo', () => {
  let store: MemoryDemoStore
  let cluster: FakeCluster
  let databases: FakeDatabases
  let sleeper: FakeSleeper
  let steps: RecordingSteps
  let checkpoints: string[]
  let controller: AbortController
  const clock = fixedClock(START)

  const deps = (): CreateDeps => ({
    config,
    templates,
    store,
    cluster,
    databases,
    databasesFor: databasesFor(databases),
    clock,
    random: sequentialRandom,
    sleeper,
    steps,
    checkpoint: (name) => checkpoints.push(name),
    signal: controller.signal,
  })
  const row = async () => {
    const found = await store.get(ID)
    assert.ok(found, `no row for ${ID}`)
    return found
  }
  const eventTypes = async (id = ID) => (await store.events(id)).map((e) => e.type)

  beforeEach(() => {
    clock.set(START)
    store = new MemoryDemoStore()
    databases = new FakeDatabases()
    sleeper = new FakeSleeper(clock)
    cluster = new FakeCluster('test').useSleeper(sleeper)
    steps = new RecordingSteps({clock, ms: STEP_MS})
    checkpoints = []
    controller = new AbortController()
  })

  describe('when everything works', () => {
    it('times the database check before the row, and records the parts of provisioning the adapter timed after its step', async () => {
      databases.check = async () => clock.advance(250)
      const provision = databases.provision.bind(databases)
      databases.provision = async (demo) => ({...(await provision(demo)), timings: {migrations: 0.125, seed: 0.5}})
      await createDemo(deps(), aCreateRequest())
      const demo = await row()
      assert.equal(demo.phaseTimings.databaseCheck, 0.25)
      assert.equal(demo.phaseTimings['database.migrations'], 0.125)
      assert.equal(demo.phaseTimings['database.seed'], 0.5)
      assert.equal(demo.phaseTimings.total, STEP_KEYS.length + 0.25, 'total (since the row was planned) includes the check')
    })

    it('records a ready demo with readyAt, URLs from the config and the time of every phase', async () => {
      const result = await createDemo(deps(), aCreateRequest())
      assert.equal(result.waited, true)
      const demo = await row()
      assert.deepEqual(result.demo, demo)
      assert.equal(demo.status, 'ready')
      assert.equal(demo.namespace, NS)
      assert.equal(demo.demoType, 'recruiting-agency')
      assert.equal(demo.kubeContext, 'test')
      assert.equal(demo.createdBy, ALICE)
      assert.equal(demo.portalUrl, `https://${ID}.portal.example.test`)
      assert.equal(demo.candidateUrl, `https://${ID}.jobs.example.test/apply`)
      assert.equal(demo.createdAt.toISOString(), START)
      assert.equal(demo.expiresAt.toISOString(), '2026-11-25T14:00:00.000Z')
      assert.equal(demo.readyAt?.toISOString(), '2026-11-25T12:00:07.000Z')
      assert.deepEqual(demo.phaseTimings, timingsOf(STEP_KEYS, {total: STEP_KEYS.length}))
      assert.equal(demo.lastError, null)
      assert.deepEqual(checkpoints, STEP_KEYS)
      assert.deepEqual(databases.provisioned, [ID])
    })

    it('labels the namespace with the marks of the demo', async () => {
      await createDemo(deps(), aCreateRequest({type: 'startup'}))
      const ns = cluster.namespaces.get(NS)
      assert.ok(ns)
      assert.equal(ns.terminating, false)
      assert.equal(ns.labels[MANAGED_BY_LABEL], MANAGED_BY_VALUE)
      assert.equal(ns.labels[INSTANCE_LABEL], ID)
      assert.equal(ns.labels[DEMO_TYPE_LABEL], 'startup')
      assert.equal(ns.labels['pod-security.kubernetes.io/enforce'], 'restricted')
      assert.equal(ns.annotations[INSTANCE_ANNOTATION], ID)
      assert.equal(ns.annotations['janitor/expires'], '2026-11-25T14:00:00Z')
      const owned = (await cluster.ownedNamespaces()).map(({createdAt: _createdAt, ...rest}) => rest)
      assert.deepEqual(owned, [{name: NS, demoId: ID, terminating: false, expiresAt: new Date('2026-11-25T14:00:00.000Z')}])
    })

    it('applies policy, then secrets, then services, then the ingress', async () => {
      await createDemo(deps(), aCreateRequest())
      const objects = cluster.namespaces.get(NS)?.objects ?? []
      const order = objects.map((o) => stepOfKind(o.kind))
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `out of step order: ${cluster.objectNames(NS).join(', ')}`,
      )
      assert.deepEqual(new Set(order), new Set([0, 1, 2, 3]))
      assert.equal(cluster.objectNames(NS).at(-1), 'Ingress/demo')
      assert.ok(cluster.objectNames(NS).includes('Secret/demo-database'))
      const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)
      assert.deepEqual(deployments.sort(), Object.keys(config.services).sort())
      assert.ok(objects.every((o) => o.metadata.namespace === NS && o.metadata.labels?.[INSTANCE_LABEL] === ID))
    })

    it('records the events created and ready', async () => {
      await createDemo(deps(), aCreateRequest({duration: '3h'}))
      const events = await store.events(ID)
      assert.deepEqual(
        events.map((e) => e.type),
        ['created', 'ready'],
      )
      assert.deepEqual(events[0]?.data, {type: 'recruiting-agency', ttlHours: 3})
      assert.equal(events[1]?.actor, ALICE)
      assert.deepEqual(events[1]?.data, {seconds: 7})
    })

    it('counts the time spent waiting for deployments in the wait phase', async () => {
      cluster.setDeployment(NS, 'portal', {available: false, reason: 'pod portal-1: ContainerCreating'})
      sleeper.onSleep = (_ms, index) => {
        if (index === 2) cluster.setDeployment(NS, 'portal', {available: true})
      }
      const {demo} = await createDemo(deps(), aCreateRequest())
      assert.equal(demo.status, 'ready')
      // Three quiet resync ticks of the watch, each twice as long up to MAX_RESYNC_MS (the change comes during the third).
      const waitedMs = RESYNC_MS + 2 * RESYNC_MS + MAX_RESYNC_MS
      assert.equal(demo.phaseTimings.wait, 1 + waitedMs / 1000)
      assert.equal(demo.phaseTimings.total, 7 + waitedMs / 1000)
    })

    it('adopts a namespace left behind by an earlier attempt for the same demo', async () => {
      cluster.addNamespace(NS, {
        labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: ID, stale: 'yes'},
        annotations: {[INSTANCE_ANNOTATION]: ID},
      })
      const {demo} = await createDemo(deps(), aCreateRequest())
      assert.equal(demo.status, 'ready')
      assert.equal(cluster.namespaces.get(NS)?.labels[DEMO_TYPE_LABEL], 'recruiting-agency')
    })

    it('with wait=false returns after the ingress and leaves the row creating, with timings and no wait', async () => {
      cluster.setDeployment(NS, 'api-gateway', {available: false})
      const result = await createDemo(deps(), aCreateRequest({wait: false}))
      assert.equal(result.waited, false)
      const demo = await row()
      assert.equal(demo.status, 'creating')
      assert.equal(demo.readyAt, null)
      assert.deepEqual(demo.phaseTimings, timingsOf(STEP_KEYS.filter((key) => key !== 'wait')))
      assert.deepEqual(await eventTypes(), ['created'])
      assert.deepEqual(cluster.callsOf('deployments'), [])
      assert.equal(cluster.objectNames(NS).at(-1), 'Ingress/demo')
    })
  })

  describe('refuses bad input before writing anything', () => {
    const cases: [string, Partial<CreateRequest>, RegExp][] = [
      ['an unknown type', {type: 'bank'}, /Unknown demo type "bank"/],
      ['a duration below the minimum', {duration: '30m'}, /--duration must be between 1h and 8h, got 30m/],
      ['a duration above the maximum', {duration: '9h'}, /^--duration must be between 1h and 8h, got 9h\.$/],
      ['a malformed duration', {duration: 'soon'}, /^Cannot parse --duration "soon"\.$/],
      ['a bad name', {name: 'My_Demo'}, /Demo name "My_Demo" is not allowed/],
    ]
    for (const [what, overrides, message] of cases) {
      it(`rejects ${what} with a UsageError, and the store and cluster stay empty`, async () => {
        await assert.rejects(createDemo(deps(), aCreateRequest(overrides)), (error: unknown) => {
          assert.ok(error instanceof UsageError, `got ${String(error)}`)
          assert.equal(error.exitCode, 2)
          assert.match(error.message, message)
          return true
        })
        assert.equal(store.rows.size, 0)
        assert.deepEqual(store.log, [])
        assert.equal(cluster.namespaces.size, 0)
        assert.deepEqual(cluster.calls, [])
        assert.deepEqual(databases.provisioned, [])
      })
    }

    it('stops before writing when cancelled before it starts', async () => {
      controller.abort()
      await assert.rejects(createDemo(deps(), aCreateRequest()), {code: 'E_CANCELLED'})
      assert.equal(store.rows.size, 0)
      assert.deepEqual(cluster.calls, [])
    })
  })

  it('refuses with a LimitError naming the live demo when the owner is at the limit, and touches no cluster', async () => {
    const existing = aNewDemo({id: 'k3x9a2bq', createdBy: ALICE, status: 'ready', createdAt: new Date(START)})
    await store.insert(existing, {perOwner: 10, global: 10}, aCreatedEvent(existing))
    await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
      assert.ok(error instanceof LimitError)
      assert.equal(error.code, 'E_LIMIT')
      assert.match(
        error.message,
        /alice@example\.com already has 1 live demos \(limit 1\): k3x9a2bq \(recruiting-agency, ready, alice@example\.com, expires in 1h 59m\)/,
      )
      assert.match(error.hint ?? '', /demo destroy k3x9a2bq/)
      return true
    })
    assert.deepEqual([...store.rows.keys()], ['k3x9a2bq'])
    // Only the cluster's identity and the creator's identity and permissions were read; nothing was written.
    assert.deepEqual(
      cluster.calls.map((c) => c.method),
      ['authenticatedUser', 'missingPermissions', 'identity'],
    )
    assert.equal(cluster.namespaces.size, 0)
    assert.deepEqual(steps.failed, ['Record the demo'], 'the progress shows the refused step as failed')
    assert.deepEqual(checkpoints, [])
  })

  it('names the five live demos that expire soonest and counts the rest when many hold the limit', async () => {
    // Ten demos of other owners fill the global limit of 10; the one created first expires last.
    for (let i = 0; i < 10; i++) {
      const createdAt = new Date(Date.parse(START) - (10 - i) * 60_000)
      const demo = aNewDemo({
        id: `live000${i}`,
        createdBy: `owner${i}@example.com`,
        status: 'ready',
        createdAt,
        expiresAt: new Date(Date.parse(START) + (10 - i) * 60_000),
      })
      await store.insert(demo, {perOwner: 10, global: 10}, aCreatedEvent(demo))
    }
    await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
      assert.ok(error instanceof LimitError)
      assert.match(
        error.message,
        /^Cannot create a demo: the team has 10 live demos \(the global limit\): live0009 \(recruiting-agency, ready, owner9@example\.com, expires in 59s\); live0008 /,
      )
      assert.deepEqual(
        [...error.message.matchAll(/live000\d/g)].map((m) => m[0]),
        ['live0009', 'live0008', 'live0007', 'live0006', 'live0005'],
      )
      assert.match(error.message, /; and 5 more \(`demo list`\)\.$/)
      assert.match(error.hint ?? '', /demo destroy live0009/)
      return true
    })
    assert.equal(store.rows.size, 10)
  })

  it('refuses credentials that lack a permission the create or its rollback needs, naming it, before writing anything (T16)', async () => {
    cluster.denied = ['patch deployments.apps in namespace "demo-x"', 'delete namespaces']
    await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
      assert.ok(error instanceof PermissionError)
      assert.match(
        error.message,
        /these credentials may not patch deployments\.apps in namespace "demo-x"; delete namespaces\. Nothing was created\./,
      )
      assert.match(error.hint ?? '', /kubectl auth can-i patch deployments\.apps -n demo-x/)
      return true
    })
    assert.equal(store.rows.size, 0)
    assert.equal(cluster.namespaces.size, 0)
    assert.deepEqual(checkpoints, [])
  })

  describe('the database of the configured mode', () => {
    it('records what the mode plans before provisioning, then what provisioning learnt', async () => {
      const project = new FakeDatabases('supabase-project')
      const recorded: unknown[] = []
      project.onProvision = async () => {
        recorded.push((await row()).database)
      }
      await createDemo({...deps(), databases: project, databasesFor: databasesFor(databases, project)}, aCreateRequest())
      assert.deepEqual(recorded, [{mode: 'supabase-project', projectRef: null, url: null, anonKey: null}])
      assert.deepEqual((await row()).database, {
        mode: 'supabase-project',
        projectRef: `ref${ID}`,
        url: `https://ref${ID}.supabase.example`,
        anonKey: `anon-${ID}`,
      })
      assert.deepEqual(databases.provisioned, [])
    })

    it('rolls back with the adapter of the mode the row records', async () => {
      const shared = new FakeDatabases('shared-schema')
      cluster.failNext('apply', new ClusterError('Cannot apply Deployment "portal".'), isDeployments)
      await assert.rejects(
        createDemo({...deps(), databases: shared, databasesFor: databasesFor(databases, shared)}, aCreateRequest()),
        CreateFailedError,
      )
      assert.deepEqual(shared.dropped, [ID])
      assert.deepEqual(await shared.owned(), [])
      assert.deepEqual(databases.dropped, [])
      const demo = await row()
      assert.deepEqual(demo.database, {mode: 'shared-schema', schema: `demo_${ID}`, supabase: null})
      assert.deepEqual(demo.metadata, {cleanup: 'done'})
    })

    it('reports the rollback incomplete, never silently done, when no adapter can drop the recorded mode', async () => {
      const shared = new FakeDatabases('shared-schema')
      cluster.failNext('apply', new ClusterError('Cannot apply Deployment "portal".'), isDeployments)
      await assert.rejects(createDemo({...deps(), databases: shared, databasesFor: databasesFor(databases)}, aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.match(error.message, /Rollback incomplete \(Database mode "shared-schema" is not available in this version of demo; only "none" is\)/)
        return true
      })
      assert.deepEqual(shared.dropped, [])
      assert.deepEqual((await row()).metadata, {cleanup: 'incomplete'})
    })
  })

  describe('when a step fails', () => {
    const cause = new ClusterError(
      'Cannot apply Deployment "portal" in namespace "demo-abcdefgh": admission webhook "policy.example.com" denied the request.',
    )

    it('rolls back: the namespace is gone, the database dropped, the row failed with the cause, and the error keeps its code', async () => {
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_CLUSTER')
        assert.equal(error.exitCode, 1)
        assert.equal(error.cause, cause)
        assert.ok(
          error.message.startsWith(
            'Create of demo abcdefgh failed: Cannot apply Deployment "portal" in namespace "demo-abcdefgh": admission webhook',
          ),
          error.message,
        )
        assert.match(error.message, /Rolled back: namespace demo-abcdefgh and the database are gone; the demo is marked failed\./)
        return true
      })
      assert.equal(cluster.namespaces.has(NS), false)
      assert.deepEqual(databases.dropped, [ID])
      const demo = await row()
      assert.equal(demo.status, 'failed')
      assert.equal(demo.lastError, cause.message)
      assert.deepEqual(demo.metadata, {cleanup: 'done'})
      assert.deepEqual(demo.phaseTimings, timingsOf(STEP_KEYS.slice(0, STEP_KEYS.indexOf('services'))))
      assert.deepEqual(await eventTypes(), ['created', 'rolled-back'])
      const rolledBack = (await store.events(ID))[1]
      assert.deepEqual(rolledBack?.data, {reason: cause.message, cleanup: 'done'})
    })

    it('keeps the exit code of a cause that is a usage error', async () => {
      cluster.failNext('apply', new UsageError('The cluster does not serve kind Widget in example.com/v1.'), isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest()), {name: 'CreateFailedError', code: 'E_USAGE', exitCode: 2})
      assert.equal((await row()).status, 'failed')
    })

    it('reports an unexpected error as E_CREATE_FAILED with exit code 1', async () => {
      cluster.failNext('apply', new TypeError('fetch failed'), isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest()), {
        name: 'CreateFailedError',
        code: 'E_CREATE_FAILED',
        exitCode: 1,
        message: /^Create of demo abcdefgh failed: fetch failed\. Rolled back/,
      })
    })

    it('waits for the namespace to be gone before reporting it rolled back', async () => {
      cluster.deletionTakes(3)
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest()), /Rolled back/)
      assert.equal(cluster.namespaces.has(NS), false)
      // The namespace's status is read at each quiet resync tick of its watch: three reads, three ticks.
      assert.equal(sleeper.slept.length, 3)
      assert.equal(cluster.openWatches, 0)
    })

    it('shows the rollback as steps of its own after the failed one', async () => {
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest()), CreateFailedError)
      assert.deepEqual(steps.titles.slice(-3), [
        `Roll back: delete namespace ${NS}`,
        'Roll back: drop the database (none)',
        'Roll back: record the demo as failed',
      ])
      assert.equal(steps.failed.length, 1, `only the failed step shows as failed: ${steps.failed.join(', ')}`)
    })

    it('after a rollback offers --keep-on-failure, and no kubectl command for the namespace that is gone', async () => {
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.match(error.hint ?? '', /run the create again with --keep-on-failure/)
        assert.doesNotMatch(error.hint ?? '', /kubectl/)
        return true
      })
    })

    it('with keepOnFailure names the kubectl commands to inspect it, once', async () => {
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest({keepOnFailure: true})), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.hint?.match(/kubectl -n demo-abcdefgh describe deployments/g)?.length, 1)
        return true
      })
    })

    it('with keepOnFailure leaves the namespace in place and marks the row failed, cleanup kept', async () => {
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(createDemo(deps(), aCreateRequest({keepOnFailure: true})), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.match(error.message, /Kept namespace demo-abcdefgh for debugging/)
        assert.match(error.hint ?? '', /demo destroy abcdefgh/)
        return true
      })
      const ns = cluster.namespaces.get(NS)
      assert.ok(ns)
      assert.equal(ns.terminating, false)
      assert.ok(cluster.objectNames(NS).includes('Secret/demo-database'))
      assert.deepEqual(cluster.callsOf('deleteNamespace'), [])
      assert.deepEqual(databases.dropped, [])
      const demo = await row()
      assert.equal(demo.status, 'failed')
      assert.equal(demo.lastError, cause.message)
      assert.deepEqual(demo.metadata, {cleanup: 'kept'})
      assert.deepEqual(await eventTypes(), ['created', 'failed'])
    })

    it('says "Rollback incomplete" and marks the row failed, cleanup incomplete, when the cleanup fails too', async () => {
      cluster.failNext('apply', cause, isDeployments)
      cluster.failWhile('deleteNamespace', new ClusterUnavailableError('Cannot reach the API server: connect ECONNREFUSED 127.0.0.1:6443'))
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_CLUSTER')
        assert.match(
          error.message,
          /Rollback incomplete \(Cannot reach the API server: connect ECONNREFUSED 127\.0\.0\.1:6443\): namespace demo-abcdefgh may remain/,
        )
        assert.match(error.hint ?? '', /run `demo destroy abcdefgh` to finish the cleanup/)
        return true
      })
      assert.equal(cluster.namespaces.get(NS)?.terminating, false)
      const demo = await row()
      assert.equal(demo.status, 'failed')
      assert.equal(demo.lastError, cause.message)
      assert.deepEqual(demo.metadata, {cleanup: 'incomplete'})
      assert.deepEqual(await eventTypes(), ['created', 'failed'])
      assert.equal(databases.dropped.length, 1, 'the database is dropped even though the namespace could not be removed')
      assert.deepEqual(
        steps.failed,
        [`Services (6 deployments)`, `Roll back: delete namespace ${NS}`],
        'the progress shows the failed delete as failed, not done',
      )
    })

    it('says so when the state store cannot record the failure, instead of claiming the row is failed', async () => {
      cluster.failNext('apply', cause, isDeployments)
      const failingStore = store
      const update = failingStore.update.bind(failingStore)
      failingStore.update = async (id, version, patch, event) => {
        if (patch.status === 'failed') throw new Error('connection terminated unexpectedly')
        return update(id, version, patch, event)
      }
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.match(
          error.message,
          /Rolled back: .*; recording it as failed in the state store failed too \(connection terminated unexpectedly\); run `demo destroy abcdefgh` later\./,
        )
        assert.doesNotMatch(error.message, /marked failed/)
        return true
      })
      assert.equal((await row()).status, 'creating')
      assert.equal(cluster.namespaces.has(NS), false)
      assert.equal(steps.failed.at(-1), 'Roll back: record the demo as failed', 'the progress shows the unrecorded failure as failed, not done')
      assert.ok(!steps.failed.includes(`Roll back: delete namespace ${NS}`))
    })

    it('reports the finalizer when the rolled-back namespace does not go away', async () => {
      cluster.addNamespace(NS, {labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: ID}, annotations: {[INSTANCE_ANNOTATION]: ID}})
      cluster.addFinalizer(NS, 'example.com/snapshot')
      cluster.failNext('apply', cause, isDeployments)
      await assert.rejects(
        createDemo(deps(), aCreateRequest()),
        /Rollback incomplete \(Namespace demo-abcdefgh is still terminating after 2m; it is held by NamespaceFinalizersRemaining: .*finalizers remaining: example\.com\/snapshot in 1 resource instances; finalizer kubernetes\.?\)/,
      )
      assert.equal(cluster.namespaces.get(NS)?.terminating, true)
      const demo = await row()
      assert.equal(demo.status, 'failed')
      assert.deepEqual(demo.metadata, {cleanup: 'incomplete'})
    })

    it('applies nothing more once a racing destroy has deleted the namespace, and leaves the row to the destroy', async () => {
      databases.onProvision = async () => {
        const outcome = await destroyDemo(
          {
            store,
            clusterFor: async () => cluster,
            databasesFor: databasesFor(databases),
            clock,
            sleeper,
            steps: new RecordingSteps(),
            checkpoint: () => {},
            signal: new AbortController().signal,
          },
          {id: ID, actor: ALICE, admins: [], trustedIdentities: [], wait: false, timeoutMs: 60_000},
        )
        assert.equal(outcome.kind, 'deleting')
      }
      cluster.deletionTakes(3)
      await assert.rejects(createDemo(deps(), aCreateRequest()), {
        name: 'CreateFailedError',
        code: 'E_NAMESPACE_TERMINATING',
        message: /namespace "demo-abcdefgh": it is still terminating.*the demo was left destroying by another command/,
      })
      assert.ok(!cluster.objectNames(NS).includes('Secret/demo-database'))
      assert.equal((await row()).status, 'destroying')
      assert.deepEqual(await eventTypes(), ['created', 'destroying'])
    })

    it('rolls back a demo whose deployments never become available, naming them', async () => {
      cluster.setDeployment(NS, 'ats-service', {available: false, reason: 'pod ats-service-1 is not ready: readiness probe failed'})
      await assert.rejects(createDemo(deps(), aCreateRequest({waitTimeoutMs: 30_000})), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_TIMEOUT')
        assert.match(error.message, /ats-service \(pod ats-service-1 is not ready: readiness probe failed\).*Rolled back/)
        return true
      })
      const demo = await row()
      assert.equal(demo.status, 'failed')
      assert.ok((demo.phaseTimings.namespace ?? 0) > 0)
      assert.equal(demo.phaseTimings.wait, undefined)
      assert.equal(cluster.namespaces.has(NS), false)
    })

    it("never touches a namespace of the same name that is not the demo's", async () => {
      cluster.addNamespace(NS, {labels: {team: 'payments'}})
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_NAMESPACE_FOREIGN')
        assert.match(error.message, /does not carry the marks of demo "abcdefgh"/)
        return true
      })
      const ns = cluster.namespaces.get(NS)
      assert.deepEqual(ns && {labels: ns.labels, terminating: ns.terminating, objects: ns.objects}, {
        labels: {team: 'payments'},
        terminating: false,
        objects: [],
      })
      const demo = await row()
      assert.equal(demo.status, 'failed')
      // Nothing of ours was created, so the rollback is complete: no `demo destroy` that could never succeed.
      assert.deepEqual(demo.metadata, {cleanup: 'done'})
    })

    it('reports the rollback incomplete when deleting its own namespace meets an HTTP 409: only a foreign namespace counts as never ours', async () => {
      cluster.failNext('apply', cause, isDeployments)
      cluster.failWhile(
        'deleteNamespace',
        new ConflictError('Cannot delete namespace "demo-abcdefgh": conflict: the object has been modified (HTTP 409).'),
      )
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_CLUSTER')
        assert.match(
          error.message,
          /Rollback incomplete \(Cannot delete namespace "demo-abcdefgh": conflict: .*\(HTTP 409\)\): namespace demo-abcdefgh may remain/,
        )
        return true
      })
      assert.equal(cluster.namespaces.has(NS), true)
      assert.deepEqual((await row()).metadata, {cleanup: 'incomplete'})
    })

    it('credentials refused (E_CLUSTER_AUTH) refuse the rollback too: the row says failed with cleanup incomplete, and the hint says to log in again, then destroy', async () => {
      const refused = (what: string) =>
        new ClusterAuthError(
          `${what}: the API server refused the credentials (HTTP 401), also after loading them again: they have expired or were revoked.`,
          {
            hint: 'Log in to the cluster again, then retry.',
          },
        )
      cluster.failNext('apply', refused('Cannot apply Deployment "portal"'), isDeployments)
      cluster.failWhile('deleteNamespace', refused(`Cannot read namespace "${NS}"`))
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_CLUSTER_AUTH')
        assert.match(
          error.message,
          /^Create of demo abcdefgh failed: Cannot apply Deployment "portal": the API server refused the credentials .*Rollback incomplete/,
        )
        assert.equal(
          error.hint,
          'Log in to the cluster again, then retry. Once you are logged in again, run `demo destroy abcdefgh` to finish the cleanup.',
        )
        return true
      })
      const failed = await row()
      assert.equal(failed.status, 'failed')
      assert.match(failed.lastError ?? '', /refused the credentials \(HTTP 401\)/)
      assert.deepEqual(failed.metadata, {cleanup: 'incomplete'})
    })

    it('says first that the state store became unreachable, rolls back the cluster and the database, and does not claim the row is failed', async () => {
      const unreachable = new StoreUnavailableError('The state store at db.example.com:5432 is unreachable (ECONNREFUSED).', {
        hint: 'Check that the state database is up.',
      })
      databases.onProvision = async () => {
        store.unreachable = unreachable
      }
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_STORE_UNREACHABLE')
        assert.equal(error.exitCode, 1)
        assert.equal(error.cause, unreachable)
        assert.equal(
          error.message,
          'Create of demo abcdefgh failed: The state store at db.example.com:5432 is unreachable (ECONNREFUSED). ' +
            'Rolled back: namespace demo-abcdefgh and the database are gone; the unreachable state store could not record it as failed; run `demo destroy abcdefgh` once it answers again.',
        )
        assert.match(error.hint ?? '', /^Check that the state database is up\./)
        return true
      })
      assert.equal(cluster.namespaces.has(NS), false)
      assert.deepEqual(databases.dropped, [ID])
      store.unreachable = undefined
      assert.equal((await row()).status, 'creating', 'the row stays for `demo destroy` (or gc) to finish')
    })
  })

  describe('when cancelled during the wait', () => {
    it('fails with E_CANCELLED and exit code 130 after rolling back', async () => {
      cluster.deletionTakes(2)
      cluster.setDeployment(NS, 'portal', {available: false})
      sleeper.onSleep = (_ms, index) => {
        if (index === 1) controller.abort(new Error('interrupted by SIGTERM'))
      }
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof DemoError)
        assert.equal(error.code, 'E_CANCELLED')
        assert.equal(error.exitCode, 130)
        assert.match(error.message, /^Create of demo abcdefgh failed: Cancelled: interrupted by SIGTERM\. Rolled back/)
        return true
      })
      assert.equal(cluster.namespaces.has(NS), false, 'the rollback waits on a signal of its own')
      assert.deepEqual(databases.dropped, [ID])
      const demo = await row()
      assert.equal(demo.status, 'failed')
      assert.match(demo.lastError ?? '', /Cancelled/)
      assert.deepEqual(await eventTypes(), ['created', 'rolled-back'])
    })
  })

  describe('when a destroy races the create', () => {
    it('fails, and the rollback leaves the row as the destroy set it', async () => {
      cluster.setDeployment(NS, 'portal', {available: false})
      sleeper.onSleep = async (_ms, index) => {
        if (index !== 0) return
        const current = await row()
        await store.update(
          ID,
          current.version,
          {status: 'destroying'},
          {demoId: ID, type: 'destroying', at: clock.now(), actor: 'bob@example.com', data: {from: 'creating'}},
        )
        cluster.setDeployment(NS, 'portal', {available: true})
      }
      await assert.rejects(createDemo(deps(), aCreateRequest()), (error: unknown) => {
        assert.ok(error instanceof CreateFailedError)
        assert.equal(error.code, 'E_TRANSITION')
        assert.match(error.message, /cannot go from destroying to ready/)
        assert.match(error.message, /the demo was left destroying by another command\./)
        assert.doesNotMatch(error.message, /marked failed/)
        return true
      })
      const demo = await row()
      assert.equal(demo.status, 'destroying')
      assert.equal(demo.lastError, null)
      assert.equal(demo.readyAt, null)
      assert.deepEqual(demo.metadata, {})
      assert.deepEqual(await eventTypes(), ['created', 'destroying'])

      const outcome = await destroyDemo(
        {
          store,
          clusterFor: async () => cluster,
          databasesFor: databasesFor(databases),
          clock,
          sleeper,
          steps,
          checkpoint: () => {},
          signal: new AbortController().signal,
        },
        {id: ID, actor: 'bob@example.com', admins: ['bob@example.com'], trustedIdentities: [], wait: true, timeoutMs: 60_000},
      )
      assert.equal(outcome.kind, 'destroyed')
      assert.equal((await row()).status, 'destroyed')
    })
  })
})
