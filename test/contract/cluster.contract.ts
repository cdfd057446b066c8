import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {ClusterError, ConflictError} from '../../src/core/errors.js'
import {
  EXPIRES_AT_ANNOTATION,
  hasOwnershipMarks,
  INSTANCE_ANNOTATION,
  INSTANCE_LABEL,
  JANITOR_EXPIRES_ANNOTATION,
  janitorTimestamp,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
} from '../../src/core/labels.js'
import type {Cluster, Manifest, Ownership, Watch} from '../../src/core/ports.js'
import {aConfigMap, aDeployment, aNamespaceManifest, ownershipMarks, type NamespaceManifestOptions} from '../fakes/builders.js'
import {rejectionOf} from '../support/failures.js'

/** A namespace as stored, read around the port. */
export interface NamespaceView {
  labels: Record<string, string>
  annotations: Record<string, string>
  terminating: boolean
}

/** A Cluster to test, and what the suite needs to arrange and observe the world around it. */
export interface ClusterHandle {
  cluster: Cluster
  /** The context name the cluster must report. */
  context: string
  /** Who the cluster must say the test's credentials are (`kubectl auth whoami`). */
  username: string
  /** Labels every namespace the suite creates also carries (the test bed's leftover label, for one). */
  namespaceLabels: Record<string, string>
  /** How long the suite waits for what happens asynchronously (deletion, readiness). */
  settleMs: number
  /** A demo that is not in the cluster yet: a fresh id and a namespace name for it. */
  newOwner(): Ownership
  /** Creates a namespace around the port, as someone else would. */
  createForeignNamespace(name: string, metadata?: {labels?: Record<string, string>; annotations?: Record<string, string>}): Promise<void>
  readNamespace(name: string): Promise<NamespaceView | undefined>
  /** An object as stored; undefined when it does not exist. */
  readObject(namespace: string, kind: string, name: string): Promise<Record<string, unknown> | undefined>
  /** Puts something into the namespace that holds its deletion (content with `finalizer`) until the returned release. */
  holdDeletion(namespace: string, finalizer: string): Promise<() => Promise<void>>
  /** The Deployment, arranged so its pods never become Ready. */
  neverReady(deployment: Manifest): Manifest
  close(): Promise<void>
}

const HOLD = 'demo.test/hold'

interface StoredObject {
  kind: string
  metadata: Manifest['metadata'] & {generation?: number}
  spec?: unknown
  data?: unknown
}

/**
 * The behaviour every Cluster must have (src/core/ports.ts); run against KubernetesCluster on the local
 * control plane and against the in-memory FakeCluster, so the fake cannot drift from the real adapter.
 */
export function clusterContract(name: string, open: () => Promise<ClusterHandle>): void {
  describe(`Cluster contract: ${name}`, () => {
    let handle: ClusterHandle
    let cluster: Cluster

    beforeEach(async () => {
      handle = await open()
      cluster = handle.cluster
    })
    afterEach(async () => {
      await handle.close()
    })

    async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
      const deadline = performance.now() + handle.settleMs
      for (;;) {
        const value = await probe()
        if (value !== undefined) return value
        if (performance.now() >= deadline) assert.fail(`timed out after ${handle.settleMs} ms waiting for ${what}`)
        await sleep(200)
      }
    }

    function namespaceOf(owner: Ownership, options: NamespaceManifestOptions = {}): Manifest {
      return aNamespaceManifest(owner, {...options, labels: {...handle.namespaceLabels, ...options.labels}})
    }

    async function aNamespace(options: NamespaceManifestOptions = {}): Promise<Ownership> {
      const owner = handle.newOwner()
      await cluster.ensureNamespace(namespaceOf(owner, options), owner)
      return owner
    }

    /** A namespace without our marks, and one that carries our labels with another demo's instance annotation. */
    async function foreignNamespaces(): Promise<{foreign: Ownership; lookalike: Ownership}> {
      const foreign = handle.newOwner()
      const lookalike = handle.newOwner()
      await handle.createForeignNamespace(foreign.namespace, {labels: {team: 'sales'}})
      await handle.createForeignNamespace(lookalike.namespace, {
        labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INSTANCE_LABEL]: lookalike.demoId},
        annotations: {[INSTANCE_ANNOTATION]: 'someoneelse'},
      })
      return {foreign, lookalike}
    }

    async function gone(namespace: string): Promise<true> {
      return eventually(`namespace ${namespace} to be gone`, async () => ((await cluster.namespaceStatus(namespace)).exists ? undefined : true))
    }

    /** One of our namespaces, deleted and held in Terminating by content with a finalizer. */
    async function aTerminatingNamespace(): Promise<{owner: Ownership; release: () => Promise<void>}> {
      const owner = await aNamespace()
      const release = await handle.holdDeletion(owner.namespace, HOLD)
      assert.equal(await cluster.deleteNamespace(owner), true)
      await eventually('the namespace to be terminating', async () =>
        (await cluster.namespaceStatus(owner.namespace)).terminating ? true : undefined,
      )
      return {owner, release}
    }

    it('reports the context it talks to', () => {
      assert.equal(cluster.contextName(), handle.context)
    })

    describe('ensureNamespace', () => {
      it('creates the namespace with the labels and annotations of the manifest', async () => {
        const expiresAt = new Date('2026-11-25T14:00:00.250Z')
        const owner = await aNamespace({expiresAt, labels: {team: 'sales'}})

        const stored = await handle.readNamespace(owner.namespace)
        assert.ok(stored, 'the namespace exists')
        assert.equal(stored.terminating, false)
        assert.ok(hasOwnershipMarks(stored, owner.demoId), 'it carries the marks of the demo')
        assert.equal(stored.labels.team, 'sales')
        assert.equal(stored.annotations[EXPIRES_AT_ANNOTATION], '2026-11-25T14:00:00.250Z')
        assert.equal(stored.annotations[JANITOR_EXPIRES_ANNOTATION], '2026-11-25T14:00:00Z')
      })

      it('adopts a namespace that already carries the same demo’s marks, converging its annotations', async () => {
        const owner = await aNamespace({expiresAt: new Date('2026-11-25T14:00:00.000Z')})

        await cluster.ensureNamespace(namespaceOf(owner, {expiresAt: new Date('2026-11-25T16:00:00.000Z')}), owner)

        const stored = await handle.readNamespace(owner.namespace)
        assert.equal(stored?.terminating, false)
        assert.equal(stored?.annotations[EXPIRES_AT_ANNOTATION], '2026-11-25T16:00:00.000Z')
        assert.equal(stored?.annotations[JANITOR_EXPIRES_ANNOTATION], '2026-11-25T16:00:00Z')
        assert.ok(hasOwnershipMarks(stored, owner.demoId))
      })

      it('refuses with ConflictError a namespace without our marks, and leaves it untouched', async () => {
        const owner = handle.newOwner()
        await handle.createForeignNamespace(owner.namespace, {labels: {team: 'sales'}, annotations: {note: 'theirs'}})
        const before = await handle.readNamespace(owner.namespace)

        const error = await rejectionOf(cluster.ensureNamespace(namespaceOf(owner), owner))

        assert.ok(error instanceof ConflictError, `a ConflictError, got ${String(error)}`)
        assert.match(
          error.message,
          new RegExp(`^Cannot adopt namespace "${owner.namespace}": it exists and does not carry the marks of demo "${owner.demoId}"`),
        )
        assert.deepEqual(await handle.readNamespace(owner.namespace), before)
      })

      it('refuses with ConflictError a namespace that carries another demo’s marks', async () => {
        const theirs = await aNamespace()
        const ours: Ownership = {demoId: handle.newOwner().demoId, namespace: theirs.namespace}

        const error = await rejectionOf(cluster.ensureNamespace(namespaceOf(ours), ours))

        assert.ok(error instanceof ConflictError, `a ConflictError, got ${String(error)}`)
        assert.ok(hasOwnershipMarks(await handle.readNamespace(theirs.namespace), theirs.demoId), 'the other demo keeps its namespace')
      })

      it('refuses with ConflictError a lookalike: our labels, but another id in the instance annotation', async () => {
        const owner = handle.newOwner()
        await handle.createForeignNamespace(owner.namespace, {
          labels: ownershipMarks(owner.demoId).labels,
          annotations: {[INSTANCE_ANNOTATION]: 'someoneelse'},
        })

        const error = await rejectionOf(cluster.ensureNamespace(namespaceOf(owner), owner))

        assert.ok(error instanceof ConflictError, `a ConflictError, got ${String(error)}`)
        assert.equal((await handle.readNamespace(owner.namespace))?.annotations[INSTANCE_ANNOTATION], 'someoneelse')
      })

      it('refuses with ClusterError a manifest that is not the demo’s marked namespace, and creates nothing', async () => {
        const owner = handle.newOwner()
        const marked = namespaceOf(owner)
        const unmarked: Manifest = {...marked, metadata: {name: owner.namespace, labels: {...handle.namespaceLabels}}}
        const misnamed: Manifest = {...marked, metadata: {...marked.metadata, name: `${owner.namespace}-x`}}
        const notANamespace: Manifest = {...aConfigMap(owner, owner.namespace), metadata: {...marked.metadata}}

        for (const manifest of [unmarked, misnamed, notANamespace]) {
          const error = await rejectionOf(cluster.ensureNamespace(manifest, owner))
          assert.ok(error instanceof ClusterError, `a ClusterError for ${manifest.kind} ${manifest.metadata.name}, got ${String(error)}`)
          assert.match(
            error.message,
            new RegExp(
              `^Refusing to create ${manifest.kind} "${manifest.metadata.name}".*: it is not namespace "${owner.namespace}" with the marks of demo "${owner.demoId}"\\.$`,
            ),
          )
        }
        assert.equal(await handle.readNamespace(owner.namespace), undefined)
        assert.equal(await handle.readNamespace(`${owner.namespace}-x`), undefined)
      })

      it('refuses with ConflictError a namespace of ours that is still terminating', async () => {
        const {owner, release} = await aTerminatingNamespace()

        const error = await rejectionOf(cluster.ensureNamespace(namespaceOf(owner), owner))
        await release()

        assert.ok(error instanceof ConflictError, `a ConflictError, got ${String(error)}`)
        assert.match(error.message, new RegExp(`^Cannot adopt namespace "${owner.namespace}": it is still terminating; retry later\\.$`))
      })
    })

    describe('apply', () => {
      it('stores every object with the demo’s marks, and a second apply of the same objects changes nothing', async () => {
        const owner = await aNamespace()
        const objects = [aConfigMap(owner, 'settings', {mode: 'demo'}), aDeployment(owner, 'web')]

        // What apply decides; status and the controllers' own annotations (deployment.kubernetes.io/revision) move on their own.
        const declared = async () =>
          Promise.all(
            objects.map(async (o) => {
              const stored = (await handle.readObject(owner.namespace, o.kind, o.metadata.name)) as StoredObject | undefined
              if (!stored) return undefined
              const ours = new Set(Object.keys(o.metadata.annotations ?? {}))
              const annotations = Object.fromEntries(Object.entries(stored.metadata.annotations ?? {}).filter(([key]) => ours.has(key)))
              return {
                kind: stored.kind,
                metadata: {labels: stored.metadata.labels, annotations, generation: stored.metadata.generation},
                spec: stored.spec,
                data: stored.data,
              }
            }),
          )

        await cluster.apply(objects, owner)
        const first = await declared()
        await cluster.apply(objects, owner)
        const second = await declared()

        for (const stored of first) {
          assert.ok(stored, 'the object exists')
          assert.ok(hasOwnershipMarks(stored.metadata, owner.demoId), `${stored.kind} carries the marks`)
        }
        assert.deepEqual(first[0]?.data, {mode: 'demo'})
        assert.deepEqual(second, first, 'the second apply left every object as it was')
        assert.deepEqual(
          (await cluster.deployments(owner.namespace)).map((d) => d.name),
          ['web'],
        )
      })

      it('converges an object to the new manifest: a field left out is removed', async () => {
        const owner = await aNamespace()
        await cluster.apply([aConfigMap(owner, 'settings', {mode: 'demo', old: 'yes'})], owner)

        await cluster.apply([aConfigMap(owner, 'settings', {mode: 'live'})], owner)

        const stored = await handle.readObject(owner.namespace, 'ConfigMap', 'settings')
        assert.deepEqual((stored as {data?: unknown} | undefined)?.data, {mode: 'live'})
      })

      it('refuses with ClusterError, before applying anything, an object without the marks, outside the namespace, or a Namespace', async () => {
        const owner = await aNamespace()
        const good = aConfigMap(owner, 'good')
        const unmarked: Manifest = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'plain', namespace: owner.namespace}}
        const elsewhere: Manifest = {...aConfigMap(owner, 'elsewhere'), metadata: {...aConfigMap(owner, 'elsewhere').metadata, namespace: 'default'}}
        const cases: [Manifest, RegExp][] = [
          [
            unmarked,
            new RegExp(
              `^Refusing to apply ConfigMap "plain" in namespace "${owner.namespace}": it does not carry the marks of demo "${owner.demoId}"`,
            ),
          ],
          [
            elsewhere,
            new RegExp(`^Refusing to apply ConfigMap "elsewhere" in namespace "default": objects go only into namespace "${owner.namespace}"`),
          ],
          [namespaceOf(owner), new RegExp(`^Refusing to apply Namespace "${owner.namespace}": objects go only into namespace "${owner.namespace}"`)],
        ]

        for (const [object, message] of cases) {
          const error = await rejectionOf(cluster.apply([good, object], owner))
          assert.ok(error instanceof ClusterError, `a ClusterError for ${object.metadata.name}, got ${String(error)}`)
          assert.match(error.message, message)
        }
        assert.equal(await handle.readObject(owner.namespace, 'ConfigMap', 'good'), undefined, 'nothing was applied')
        assert.equal(await handle.readObject(owner.namespace, 'ConfigMap', 'plain'), undefined)
      })

      it('refuses with ClusterError a cluster-scoped kind, and applies nothing', async () => {
        const owner = await aNamespace()
        const priorityClass: Manifest = {
          apiVersion: 'scheduling.k8s.io/v1',
          kind: 'PriorityClass',
          metadata: {name: owner.namespace, namespace: owner.namespace, ...ownershipMarks(owner.demoId)},
          value: 1000,
        }

        const error = await rejectionOf(cluster.apply([aConfigMap(owner, 'good'), priorityClass], owner))

        assert.ok(error instanceof ClusterError, `a ClusterError, got ${String(error)}`)
        assert.match(
          error.message,
          new RegExp(`^Refusing to apply PriorityClass "${owner.namespace}" in namespace "${owner.namespace}": PriorityClass is cluster-scoped\\.$`),
        )
        assert.equal(await handle.readObject(owner.namespace, 'ConfigMap', 'good'), undefined, 'nothing was applied')
      })

      it('refuses with ConflictError to apply into a namespace that does not exist, is not ours, or is terminating', async () => {
        const missing = handle.newOwner()
        const foreign = handle.newOwner()
        await handle.createForeignNamespace(foreign.namespace)
        const {owner: terminating, release} = await aTerminatingNamespace()
        const cases: [Ownership, RegExp][] = [
          [missing, new RegExp(`^Cannot apply to namespace "${missing.namespace}": it does not exist \\(anymore\\)\\.$`)],
          [
            foreign,
            new RegExp(`^Cannot apply to namespace "${foreign.namespace}": it exists and does not carry the marks of demo "${foreign.demoId}"`),
          ],
          [terminating, new RegExp(`^Cannot apply to namespace "${terminating.namespace}": it is still terminating; retry later\\.$`)],
        ]

        for (const [owner, message] of cases) {
          const error = await rejectionOf(cluster.apply([aConfigMap(owner, 'settings')], owner))
          assert.ok(error instanceof ConflictError, `a ConflictError for ${owner.namespace}, got ${String(error)}`)
          assert.match(error.message, message)
        }
        await release()
        assert.equal(await handle.readObject(foreign.namespace, 'ConfigMap', 'settings'), undefined)
      })
    })

    describe('deployments', () => {
      it('answers an empty list for a namespace without Deployments and for one that does not exist', async () => {
        const owner = await aNamespace()
        await cluster.apply([aConfigMap(owner, 'settings')], owner)

        assert.deepEqual(await cluster.deployments(owner.namespace), [])
        assert.deepEqual(await cluster.deployments(handle.newOwner().namespace), [])
      })

      it('reports every Deployment by name with desired, ready and available replicas, and no reason once available', async () => {
        const owner = await aNamespace()
        await cluster.apply([aDeployment(owner, 'web', 2), aDeployment(owner, 'api', 1)], owner)

        const states = await eventually('both Deployments to be available', async () => {
          const current = await cluster.deployments(owner.namespace)
          return current.length === 2 && current.every((s) => s.reason === null) ? current : undefined
        })

        assert.deepEqual(states, [
          {name: 'api', desired: 1, ready: 1, available: 1, pods: 1, reason: null},
          {name: 'web', desired: 2, ready: 2, available: 2, pods: 2, reason: null},
        ])
      })

      it('reports a Deployment whose pods are not ready as not available, with its pod counted and a reason', async () => {
        const owner = await aNamespace()
        await cluster.apply([handle.neverReady(aDeployment(owner, 'web'))], owner)

        const [state, ...others] = await cluster.deployments(owner.namespace)

        assert.deepEqual(others, [])
        assert.equal(state?.name, 'web')
        assert.equal(state?.desired, 1)
        assert.equal(state?.ready, 0)
        assert.equal(state?.available, 0)
        assert.equal(typeof state?.reason, 'string')
        assert.notEqual(state?.reason, '')
        // Once its ReplicaSet made the pod, it counts, not ready: the pods could tell why (await-ready reads them then).
        const counted = await eventually('the pod to be counted', async () => {
          const [current] = await cluster.deployments(owner.namespace)
          return current?.pods === 1 ? current : undefined
        })
        assert.equal(counted.ready, 0)
      })
    })

    describe('watchDeployments and watchNamespace', () => {
      /**
       * Answers until `done` holds; each answer must be news (`changed: true`): the wait is as long as the
       * suite's settle time, so a watch that did not tell a change would answer `changed: false` and fail here.
       */
      async function watchUntil<T>(watch: Watch<T>, what: string, done: (value: T) => boolean): Promise<T> {
        for (;;) {
          const {changed, value} = await watch.next(Math.max(handle.settleMs, 1))
          assert.equal(changed, true, `the watch told nothing new while waiting for ${what}: ${JSON.stringify(value)}`)
          if (done(value)) return value
        }
      }

      it('tells the Deployments of a namespace as they are applied and become available, each change as it comes', async () => {
        const owner = await aNamespace()
        const watch = cluster.watchDeployments(owner.namespace, new AbortController().signal)
        try {
          assert.deepEqual(await watchUntil(watch, 'the initial list', () => true), [])
          await cluster.apply([aDeployment(owner, 'web', 2)], owner)
          const states = await watchUntil(watch, 'web to be available', (value) => value.some((s) => s.name === 'web' && s.reason === null))
          assert.deepEqual(states, [{name: 'web', desired: 2, ready: 2, available: 2, pods: 2, reason: null}])
        } finally {
          watch.close()
        }
      })

      it('tells that a namespace exists, and that it is gone once deleted', async () => {
        const owner = await aNamespace()
        const watch = cluster.watchNamespace(owner.namespace, new AbortController().signal)
        try {
          assert.deepEqual(await watchUntil(watch, 'the initial list', () => true), {exists: true})
          assert.equal(await cluster.deleteNamespace(owner), true)
          assert.deepEqual(await watchUntil(watch, 'the namespace to be gone', (value) => !value.exists), {exists: false})
        } finally {
          watch.close()
        }
        const absent = cluster.watchNamespace(handle.newOwner().namespace, new AbortController().signal)
        assert.deepEqual(await watchUntil(absent, 'the initial list', () => true), {exists: false})
        absent.close()
      })

      it('tells many concurrent watchers each about their own namespace: those deleted go, the one kept stays', async () => {
        const owners = await Promise.all(Array.from({length: 6}, () => aNamespace()))
        const kept = await aNamespace()
        const watches = owners.map((o) => cluster.watchNamespace(o.namespace, new AbortController().signal))
        const keptWatch = cluster.watchNamespace(kept.namespace, new AbortController().signal)
        try {
          for (const watch of [...watches, keptWatch]) assert.deepEqual(await watchUntil(watch, 'the initial list', () => true), {exists: true})
          await Promise.all(owners.map((o) => cluster.deleteNamespace(o)))
          const ends = await Promise.all(watches.map((w, i) => watchUntil(w, `${owners[i]?.namespace} to be gone`, (value) => !value.exists)))
          assert.deepEqual(
            ends,
            owners.map(() => ({exists: false})),
          )
          assert.deepEqual((await keptWatch.next(1)).value, {exists: true})
          assert.equal((await cluster.namespaceStatus(kept.namespace)).exists, true)
        } finally {
          for (const watch of [...watches, keptWatch]) watch.close()
        }
      })

      it('ends on abort: a waiting next() rejects with the signal’s reason', async () => {
        const owner = await aNamespace()
        const controller = new AbortController()
        const watch = cluster.watchDeployments(owner.namespace, controller.signal)
        await watchUntil(watch, 'the initial list', () => true)
        const waiting = watch.next(Math.max(handle.settleMs, 60_000))
        controller.abort(new Error('interrupted by SIGTERM'))
        await assert.rejects(waiting, /interrupted by SIGTERM/)
        await assert.rejects(watch.next(1), /interrupted by SIGTERM/)
        watch.close()
      })
    })

    describe('deleteNamespace', () => {
      it('deletes a namespace of ours, and answers false once it is gone', async () => {
        const owner = await aNamespace()

        assert.equal(await cluster.deleteNamespace(owner), true)
        await gone(owner.namespace)

        assert.equal(await cluster.deleteNamespace(owner), false)
        assert.equal(await handle.readNamespace(owner.namespace), undefined)
      })

      it('answers false for a namespace that never existed', async () => {
        assert.equal(await cluster.deleteNamespace(handle.newOwner()), false)
      })

      it('answers true again for a namespace of ours that is already terminating', async () => {
        const {owner, release} = await aTerminatingNamespace()

        const again = await cluster.deleteNamespace(owner)
        await release()

        assert.equal(again, true)
        await gone(owner.namespace)
      })

      it('refuses with ConflictError a namespace without our marks or with another id, and leaves both untouched', async () => {
        const {foreign, lookalike} = await foreignNamespaces()

        for (const owner of [foreign, lookalike]) {
          const error = await rejectionOf(cluster.deleteNamespace(owner))
          assert.ok(error instanceof ConflictError, `a ConflictError for ${owner.namespace}, got ${String(error)}`)
          assert.match(
            error.message,
            new RegExp(`^Cannot delete namespace "${owner.namespace}": it exists and does not carry the marks of demo "${owner.demoId}"`),
          )
          assert.equal((await handle.readNamespace(owner.namespace))?.terminating, false)
        }
      })
    })

    describe('namespaceStatus', () => {
      it('reports a namespace that does not exist, and an active one, without blockers', async () => {
        const owner = await aNamespace()

        assert.deepEqual(await cluster.namespaceStatus(handle.newOwner().namespace), {exists: false, terminating: false, blockers: []})
        assert.deepEqual(await cluster.namespaceStatus(owner.namespace), {exists: true, terminating: false, blockers: []})
      })

      it('reports a terminating namespace with the finalizer that holds it, until it is released and gone', async () => {
        const {owner, release} = await aTerminatingNamespace()

        const status = await eventually('the blockers to be reported', async () => {
          const current = await cluster.namespaceStatus(owner.namespace)
          return current.blockers.some((b) => b.startsWith('NamespaceFinalizersRemaining: ')) ? current : undefined
        })
        await release()

        assert.equal(status.exists, true)
        assert.equal(status.terminating, true)
        assert.ok(
          status.blockers.includes(
            `NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: ${HOLD} in 1 resource instances`,
          ),
          status.blockers.join('; '),
        )
        assert.equal(status.blockers.at(-1), 'finalizer kubernetes', 'the namespace’s own finalizer waits for the content')
        assert.equal(await gone(owner.namespace), true)
      })
    })

    describe('secretValues', () => {
      it('reads the decoded values of a Secret of the demo, and null when the Secret or the namespace is gone', async () => {
        const owner = await aNamespace()
        const marks = aConfigMap(owner, 'demo-database').metadata
        await cluster.apply(
          [{apiVersion: 'v1', kind: 'Secret', metadata: marks, type: 'Opaque', stringData: {DB_SCHEMA: 'demo_x', DEMO_LOGINS: '[]'}}],
          owner,
        )

        assert.deepEqual(await cluster.secretValues(owner, 'demo-database'), {DB_SCHEMA: 'demo_x', DEMO_LOGINS: '[]'})
        assert.equal(await cluster.secretValues(owner, 'no-such-secret'), null)
        assert.equal(await cluster.secretValues(handle.newOwner(), 'demo-database'), null)
      })
    })

    describe('setExpiry', () => {
      it('moves both expiry annotations and keeps the namespace’s marks and labels', async () => {
        const owner = await aNamespace({expiresAt: new Date('2026-11-25T14:00:00.000Z'), labels: {team: 'sales'}})
        const later = new Date('2026-11-25T18:30:00.500Z')

        assert.equal(await cluster.setExpiry(owner, later), true)

        const stored = await handle.readNamespace(owner.namespace)
        assert.equal(stored?.annotations[EXPIRES_AT_ANNOTATION], '2026-11-25T18:30:00.500Z')
        assert.equal(stored?.annotations[JANITOR_EXPIRES_ANNOTATION], janitorTimestamp(later))
        assert.ok(hasOwnershipMarks(stored, owner.demoId), 'the marks are kept')
        assert.equal(stored?.labels.team, 'sales')
        const listed = (await cluster.ownedNamespaces()).find((o) => o.name === owner.namespace)
        assert.equal(listed?.expiresAt?.toISOString(), later.toISOString())
      })

      it('answers false for a namespace that is gone', async () => {
        const owner = await aNamespace()
        await cluster.deleteNamespace(owner)
        await gone(owner.namespace)

        assert.equal(await cluster.setExpiry(owner, new Date('2026-11-25T18:00:00Z')), false)
        assert.equal(await cluster.setExpiry(handle.newOwner(), new Date('2026-11-25T18:00:00Z')), false)
        assert.equal(await handle.readNamespace(owner.namespace), undefined, 'nothing was created')
      })

      it('refuses with ConflictError a namespace without our marks, and leaves its annotations alone', async () => {
        const owner = handle.newOwner()
        await handle.createForeignNamespace(owner.namespace, {annotations: {[EXPIRES_AT_ANNOTATION]: 'theirs'}})

        const error = await rejectionOf(cluster.setExpiry(owner, new Date('2026-11-25T18:00:00Z')))

        assert.ok(error instanceof ConflictError, `a ConflictError, got ${String(error)}`)
        assert.match(
          error.message,
          new RegExp(`^Cannot update namespace "${owner.namespace}": it exists and does not carry the marks of demo "${owner.demoId}"`),
        )
        const stored = await handle.readNamespace(owner.namespace)
        assert.equal(stored?.annotations[EXPIRES_AT_ANNOTATION], 'theirs')
        assert.equal(stored?.annotations[JANITOR_EXPIRES_ANNOTATION], undefined)
      })
    })

    describe('identity', () => {
      it('names the cluster by a stable, non-empty identity, the same on every call', async () => {
        const first = await cluster.identity()
        assert.match(first, /\S/)
        assert.equal(await cluster.identity(), first)
      })
    })

    describe('authenticatedUser', () => {
      it('names the user the API server authenticated the credentials as', async () => {
        assert.deepEqual(await cluster.authenticatedUser(), {username: handle.username})
      })
    })

    describe('missingPermissions', () => {
      it('finds nothing missing for credentials that may do everything (the test bed admin)', async () => {
        const owner = handle.newOwner()
        const objects = [aNamespaceManifest(owner), aConfigMap(owner, 'settings'), aDeployment(owner, 'web')]
        assert.deepEqual(await cluster.missingPermissions(objects, owner.namespace), [])
      })
    })

    describe('ownedNamespaces', () => {
      it('lists only namespaces with our marks, with demo id, expiry and whether they are terminating', async () => {
        const active = await aNamespace({expiresAt: new Date('2026-11-25T14:00:00.000Z')})
        const noExpiry = await aNamespace({expiresAt: null})
        const {owner: terminating, release} = await aTerminatingNamespace()
        const {foreign, lookalike} = await foreignNamespaces()
        const mine = new Set([active, noExpiry, terminating, foreign, lookalike].map((o) => o.namespace))

        const listed = (await cluster.ownedNamespaces()).filter((o) => mine.has(o.name)).sort((a, b) => a.name.localeCompare(b.name))
        await release()
        for (const namespace of listed) assert.ok(namespace.createdAt instanceof Date && !Number.isNaN(namespace.createdAt.getTime()), namespace.name)
        const owned = listed.map(({createdAt: _createdAt, ...rest}) => rest)

        const expected = [
          {name: active.namespace, demoId: active.demoId, terminating: false, expiresAt: new Date('2026-11-25T14:00:00.000Z')},
          {name: noExpiry.namespace, demoId: noExpiry.demoId, terminating: false, expiresAt: null},
          {name: terminating.namespace, demoId: terminating.demoId, terminating: true, expiresAt: new Date('2026-11-25T14:00:00.000Z')},
        ].sort((a, b) => a.name.localeCompare(b.name))
        assert.deepEqual(owned, expected)
      })
    })
  })
}
