import assert from 'node:assert/strict'
import {beforeEach, describe, it} from 'node:test'
import {awaitNamespaceGone, awaitReady, FATAL_AFTER_MS, MAX_RESYNC_MS, RESYNC_MS} from '../../src/core/await-ready.js'
import {CancelledError, ClusterError, TimeoutError} from '../../src/core/errors.js'
import {INSTANCE_ANNOTATION, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE} from '../../src/core/labels.js'
import type {Manifest} from '../../src/core/ports.js'
import {fixedClock} from '../fakes/builders.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {FakeSleeper} from '../fakes/fake-time.js'

const DEMO_ID = 'k3x9a2bq'
const NS = `demo-${DEMO_ID}`
const OWNER = {demoId: DEMO_ID, namespace: NS}
const MINUTE = 60_000

function marks(): Pick<Manifest['metadata'], 'labels' | 'annotations'> {
  return {labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: DEMO_ID}, annotations: {[INSTANCE_ANNOTATION]: DEMO_ID}}
}

function aDeployment(name: string, replicas = 1): Manifest {
  return {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace: NS, ...marks()}, spec: {replicas}}
}

describe('awaitReady', () => {
  let cluster: FakeCluster
  let sleeper: FakeSleeper
  const clock = fixedClock('2026-11-25T12:00:00Z')
  const started = clock.now().getTime()
  const deps = (signal = new AbortController().signal) => ({cluster, clock, sleeper, signal})
  const elapsed = () => clock.now().getTime() - started

  beforeEach(async () => {
    clock.set('2026-11-25T12:00:00Z')
    sleeper = new FakeSleeper(clock)
    cluster = new FakeCluster().useSleeper(sleeper)
    cluster.addNamespace(NS, marks())
    await cluster.apply([aDeployment('api'), aDeployment('portal', 2)], OWNER)
  })

  it('returns the states at once when every deployment is available, from the watch alone', async () => {
    const states = await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    assert.deepEqual(states, [
      {name: 'api', desired: 1, ready: 1, available: 1, pods: 1, reason: null},
      {name: 'portal', desired: 2, ready: 2, available: 2, pods: 2, reason: null},
    ])
    assert.deepEqual(sleeper.slept, [])
    assert.deepEqual(cluster.callsOf('deployments'), [], 'no full read (four lists) when the watch tells readiness')
    assert.equal(cluster.openWatches, 0, 'the watch is closed')
  })

  it('acts on the change the watch tells, without a full read, once the last deployment becomes available', async () => {
    cluster.setDeployment(NS, 'portal', {available: false, reason: 'pod portal-1: ContainerCreating'})
    let changedAt = 0
    sleeper.onSleep = (_ms, index) => {
      // The world changes during the first wait; the watch answers with it, not after a resync tick.
      if (index === 0) {
        cluster.setDeployment(NS, 'portal', {available: true})
        changedAt = elapsed()
      }
    }
    const states = await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    assert.ok(states.every((s) => s.reason === null))
    assert.deepEqual(cluster.callsOf('deployments'), [])
    assert.equal(elapsed(), changedAt)
  })

  it('reads the full state (pods, events) only once the watch has been quiet for RESYNC_MS, and then at each resync', async () => {
    cluster.setDeployment(NS, 'portal', {available: false, reason: 'pod portal-1: ContainerCreating'})
    sleeper.onSleep = (_ms, index) => {
      if (index === 3) cluster.setDeployment(NS, 'portal', {available: true})
    }
    await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    // The resync interval doubles while the wait stays quiet, up to MAX_RESYNC_MS.
    assert.deepEqual(sleeper.slept, [RESYNC_MS, 2 * RESYNC_MS, MAX_RESYNC_MS, MAX_RESYNC_MS])
    assert.equal(cluster.callsOf('deployments').length, 3, 'one full read per quiet resync tick, none for the change')
    assert.equal(cluster.openWatches, 0)
  })

  it('skips the full read of a quiet spell while every pod a waiting deployment has is ready (its controllers have yet to make the rest)', async () => {
    // portal has none of its 2 pods yet: pods, ReplicaSets and events could not say more than the deployment does.
    cluster.setDeployment(NS, 'portal', {available: false, pods: 0})
    sleeper.onSleep = (_ms, index) => {
      if (index === 4) cluster.setDeployment(NS, 'portal', {available: true})
    }
    await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    // Quiet at 2, 6, 14 and 22 s: the interval still doubles, and the quiet spells are counted from each look.
    assert.deepEqual(sleeper.slept, [RESYNC_MS, 2 * RESYNC_MS, MAX_RESYNC_MS, MAX_RESYNC_MS, MAX_RESYNC_MS])
    assert.equal(cluster.callsOf('deployments').length, 1, 'only the fallback read, at 22 s: the first quiet spell 2 × MAX_RESYNC_MS after the start')
  })

  it('reads the full state of a quiet spell as soon as a waiting deployment has a pod that is not ready', async () => {
    cluster.setDeployment(NS, 'portal', {available: false, pods: 0})
    sleeper.onSleep = (_ms, index) => {
      // Its ReplicaSet made one pod during the second wait, and the pod does not become ready.
      if (index === 1) cluster.setDeployment(NS, 'portal', {available: false, pods: 1})
      if (index === 3) cluster.setDeployment(NS, 'portal', {available: true})
    }
    await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    // Quiet at 2 s (no read: no pod yet), news at 6 s (the pod), quiet at 8 s: read; news at 12 s (available).
    assert.deepEqual(sleeper.slept, [RESYNC_MS, 2 * RESYNC_MS, RESYNC_MS, 2 * RESYNC_MS])
    assert.equal(cluster.callsOf('deployments').length, 1)
  })

  it('counts quiet from the last news: a watch that tells progress within every RESYNC_MS gets no full read', async () => {
    cluster.setDeployment(NS, 'portal', {available: false})
    let progress = 0
    sleeper.onSleep = async (ms) => {
      // News at the end of every wait of at least 1.5 s (one more deployment Available), as a throttled
      // deployment controller reports progress; portal becomes Available with the fifth.
      if (ms < 1500) return
      progress++
      await cluster.apply([aDeployment(`worker-${progress}`)], OWNER)
      if (progress === 5) cluster.setDeployment(NS, 'portal', {available: true})
    }
    await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    assert.deepEqual(sleeper.slept, [RESYNC_MS, RESYNC_MS, RESYNC_MS, RESYNC_MS, RESYNC_MS], 'each wait runs RESYNC_MS from the last news')
    assert.deepEqual(cluster.callsOf('deployments'), [], 'no four lists while the watch tells news')
  })

  it('still reads the full state every 2 × MAX_RESYNC_MS while the watch never goes quiet', async () => {
    cluster.setDeployment(NS, 'portal', {available: false})
    let progress = 0
    sleeper.onSleep = async () => {
      progress++
      await cluster.apply([aDeployment(`worker-${progress}`)], OWNER)
      if (progress === 12) cluster.setDeployment(NS, 'portal', {available: true})
    }
    await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE})
    assert.equal(elapsed(), 12 * RESYNC_MS)
    assert.equal(cluster.callsOf('deployments').length, 1, 'one full read, at 2 × MAX_RESYNC_MS')
  })

  it('times out at the deadline naming each waiting deployment and its reason', async () => {
    cluster.setDeployment(NS, 'api', {available: false, reason: 'pod api-1 is not ready: readiness probe failed'})
    cluster.setDeployment(NS, 'portal', {available: false})
    await assert.rejects(awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: MINUTE}), (error: unknown) => {
      assert.ok(error instanceof TimeoutError)
      assert.equal(error.code, 'E_TIMEOUT')
      assert.match(error.message, /Timed out after 1m waiting for deployments in namespace demo-k3x9a2bq/)
      assert.match(error.message, /api \(pod api-1 is not ready: readiness probe failed\)/)
      assert.match(error.message, /portal \(0 of 2 replicas available\)/)
      assert.equal(error.hint, 'Raise --wait-timeout if it is just slow.')
      return true
    })
    assert.ok(elapsed() >= MINUTE, `gave up after ${elapsed()} ms`)
    assert.ok(elapsed() < MINUTE + 1000, `overshot the deadline: ${elapsed()} ms`)
  })

  it('counts an expected deployment that is missing from the namespace as waiting', async () => {
    await assert.rejects(
      awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal', 'candidate'], timeoutMs: 10_000}),
      (error: unknown) => {
        assert.ok(error instanceof TimeoutError)
        assert.match(error.message, /candidate \(not found in the namespace\)/)
        assert.doesNotMatch(error.message, /api \(|portal \(/)
        return true
      },
    )
  })

  it('waits for an expected deployment that appears late', async () => {
    sleeper.onSleep = async (_ms, index) => {
      if (index === 2) await cluster.apply([aDeployment('candidate')], OWNER)
    }
    const states = await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal', 'candidate'], timeoutMs: MINUTE})
    assert.deepEqual(
      states.map((s) => s.name),
      ['api', 'candidate', 'portal'],
    )
    assert.equal(sleeper.slept.length, 3)
    assert.equal(cluster.openWatches, 0)
  })

  it('ends early with a ClusterError naming the deployment once a fatal reason persists for FATAL_AFTER_MS', async () => {
    cluster.setDeployment(NS, 'api', {available: false, reason: 'pods "api-7d9" is forbidden: exceeded quota: demo-quota, requested: requests.cpu=2'})
    await assert.rejects(awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: 5 * MINUTE}), (error: unknown) => {
      assert.ok(error instanceof ClusterError)
      assert.equal(error.code, 'E_CLUSTER')
      assert.match(error.message, /Deployment api in namespace demo-k3x9a2bq cannot become Available: .*exceeded quota: demo-quota/)
      assert.equal(error.hint, 'Fix the cause (quota, image, crash) in demo.config.yaml or the templates.')
      return true
    })
    assert.ok(elapsed() >= FATAL_AFTER_MS, `failed after only ${elapsed()} ms`)
    // The reason is first read at the first quiet resync tick (the watch's counts do not carry it).
    assert.ok(elapsed() <= RESYNC_MS + FATAL_AFTER_MS + MAX_RESYNC_MS, `failed late: ${elapsed()} ms`)
  })

  it('does not end early for a fatal-looking reason that clears before FATAL_AFTER_MS', async () => {
    cluster.setDeployment(NS, 'api', {available: false, reason: 'exceeded quota: demo-quota'})
    sleeper.onSleep = () => {
      if (elapsed() >= FATAL_AFTER_MS - 3000) cluster.setDeployment(NS, 'api', {available: true})
    }
    const states = await awaitReady(deps(), {namespace: NS, deploymentNames: ['api', 'portal'], timeoutMs: 5 * MINUTE})
    assert.ok(states.every((s) => s.available === s.desired))
    assert.ok(elapsed() < FATAL_AFTER_MS)
  })

  it('restarts the grace period when a fatal reason gives way to a transient one and comes back', async () => {
    cluster.setDeployment(NS, 'api', {available: false, reason: 'ImagePullBackOff'})
    let flipped = false
    let fatalAgainAt = 0
    sleeper.onSleep = () => {
      if (!flipped && elapsed() >= 10_000) {
        flipped = true
        cluster.setDeployment(NS, 'api', {available: false, reason: 'pod api-1: ContainerCreating'})
      } else if (flipped && fatalAgainAt === 0) {
        fatalAgainAt = elapsed()
        cluster.setDeployment(NS, 'api', {available: false, reason: 'ImagePullBackOff'})
      }
    }
    await assert.rejects(awaitReady(deps(), {namespace: NS, deploymentNames: [], timeoutMs: 5 * MINUTE}), ClusterError)
    assert.ok(elapsed() - fatalAgainAt >= FATAL_AFTER_MS, `grace period not restarted: ${elapsed() - fatalAgainAt} ms after the reason came back`)
  })

  it('treats "status unknown for quota" as transient and waits for the full timeout', async () => {
    cluster.setDeployment(NS, 'api', {available: false, reason: 'status unknown for quota: demo-quota'})
    await assert.rejects(awaitReady(deps(), {namespace: NS, deploymentNames: [], timeoutMs: MINUTE}), TimeoutError)
    assert.ok(elapsed() >= MINUTE)
  })

  it('stops with a CancelledError when the signal aborts mid-wait', async () => {
    cluster.setDeployment(NS, 'api', {available: false})
    const controller = new AbortController()
    sleeper.onSleep = (_ms, index) => {
      if (index === 1) controller.abort()
    }
    await assert.rejects(awaitReady(deps(controller.signal), {namespace: NS, deploymentNames: [], timeoutMs: MINUTE}), (error: unknown) => {
      assert.ok(error instanceof CancelledError)
      assert.equal(error.exitCode, 130)
      return true
    })
    assert.equal(sleeper.slept.length, 2)
    assert.equal(cluster.openWatches, 0, 'the watch is closed on cancel')
  })
})

describe('awaitNamespaceGone', () => {
  let cluster: FakeCluster
  let sleeper: FakeSleeper
  const clock = fixedClock('2026-11-25T12:00:00Z')
  const deps = () => ({cluster, clock, sleeper, signal: new AbortController().signal})

  beforeEach(() => {
    clock.set('2026-11-25T12:00:00Z')
    sleeper = new FakeSleeper(clock)
    cluster = new FakeCluster().useSleeper(sleeper)
    cluster.addNamespace(NS, marks())
  })

  it('returns without waiting when the namespace does not exist', async () => {
    cluster.namespaces.clear()
    await awaitNamespaceGone(deps(), {namespace: NS, timeoutMs: MINUTE})
    assert.deepEqual(sleeper.slept, [])
  })

  it('waits until a terminating namespace is gone, reading its status at each quiet resync tick, 2 s growing to 8 s', async () => {
    cluster.deletionTakes(4)
    assert.equal(await cluster.deleteNamespace(OWNER), true)
    await awaitNamespaceGone(deps(), {namespace: NS, timeoutMs: MINUTE})
    assert.equal(cluster.namespaces.has(NS), false)
    assert.deepEqual(sleeper.slept, [RESYNC_MS, 2 * RESYNC_MS, MAX_RESYNC_MS, MAX_RESYNC_MS])
    assert.equal(cluster.openWatches, 0)
  })

  it('returns as soon as the watch tells the namespace is gone, without reading its status', async () => {
    await cluster.deleteNamespace(OWNER)
    sleeper.onSleep = () => {
      cluster.namespaces.delete(NS)
    }
    cluster.namespaces.get(NS)?.finalizers.push('held')
    await awaitNamespaceGone(deps(), {namespace: NS, timeoutMs: MINUTE})
    assert.deepEqual(cluster.callsOf('namespaceStatus'), [])
    assert.equal(cluster.openWatches, 0)
  })

  it('times out naming the finalizers and conditions that hold the namespace', async () => {
    cluster.addFinalizer(NS, 'example.com/backup-protection')
    await cluster.deleteNamespace(OWNER)
    await assert.rejects(awaitNamespaceGone(deps(), {namespace: NS, timeoutMs: 30_000}), (error: unknown) => {
      assert.ok(error instanceof TimeoutError)
      assert.match(error.message, /Namespace demo-k3x9a2bq is still terminating after 30s/)
      assert.match(
        error.message,
        /held by NamespaceFinalizersRemaining: .*finalizers remaining: example\.com\/backup-protection in 1 resource instances; finalizer kubernetes/,
      )
      assert.match(error.message, /NamespaceFinalizersRemaining/)
      assert.match(error.hint ?? '', /kubectl get namespace demo-k3x9a2bq -o yaml/)
      return true
    })
    assert.equal(cluster.namespaces.get(NS)?.terminating, true)
  })
})
