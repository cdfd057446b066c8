import {ClusterError, ForeignNamespaceError, NamespaceGoneError, NamespaceTerminatingError} from '../../src/core/errors.js'
import {EXPIRES_AT_ANNOTATION, hasOwnershipMarks, INSTANCE_LABEL, movedExpiry} from '../../src/core/labels.js'
import type {
  AuthenticatedUser,
  Cluster,
  DeploymentState,
  Manifest,
  OwnedNamespace,
  Ownership,
  PodRestarts,
  Sleeper,
  Watch,
} from '../../src/core/ports.js'
import {CLUSTER_SCOPED_KINDS, splitPolicyFirst} from '../../src/core/render-stack.js'

type ClusterMethod =
  | 'identity'
  | 'ensureNamespace'
  | 'apply'
  | 'deployments'
  | 'watchDeployments'
  | 'watchNamespace'
  | 'deleteNamespace'
  | 'namespaceStatus'
  | 'setExpiry'
  | 'ownedNamespaces'
  | 'authenticatedUser'
  | 'missingPermissions'
  | 'secretValues'
type ArgsOf<M extends ClusterMethod> = Parameters<FakeCluster[M]>

/** One namespace as the fake API server holds it. */
export interface FakeNamespace {
  name: string
  labels: Record<string, string>
  annotations: Record<string, string>
  terminating: boolean
  /** Finalizers of content in the namespace (a PVC's, a custom resource's): while any is left, a terminating namespace never goes away. */
  finalizers: string[]
  /** Objects applied into it, in apply order; re-applying an object replaces it in place (server-side apply). */
  objects: Manifest[]
  /** namespaceStatus polls left before a terminating namespace (without finalizers) is gone. */
  pollsUntilGone: number
  createdAt: Date
}

/** What the test says a Deployment's controller reports. */
export interface DeploymentReadiness {
  available: boolean
  /** Why it is not available ("exceeded quota" ...); ignored when available. */
  reason?: string
  /** Pods the deployment has, ready or not, while not available (default: all desired, none ready). */
  pods?: number
  /** Pods that restarted, as the adapter reports them from container statuses. */
  restarts?: PodRestarts[]
}

interface InjectedFailure {
  error: Error
  when: (...args: never[]) => boolean
  once: boolean
}

/** Like the adapter's messages: `Kind "name" in namespace "ns"`. */
function describeObject(object: Pick<Manifest, 'kind' | 'metadata'>): string {
  const namespace = object.metadata.namespace ? ` in namespace "${object.metadata.namespace}"` : ''
  return `${object.kind} "${object.metadata.name}"${namespace}`
}

function replicasOf(object: Manifest): number {
  const replicas = (object.spec as {replicas?: unknown} | undefined)?.replicas
  return typeof replicas === 'number' ? replicas : 1
}

/**
 * The Cluster port in memory, with the refusals of the real adapter (src/adapters/kubernetes): a namespace
 * without the demo's marks is neither adopted, applied into nor deleted (ForeignNamespaceError); nothing is applied
 * into a namespace that does not exist or is terminating (NamespaceGoneError, NamespaceTerminatingError). Deletion is asynchronous like the API server's:
 * the namespace is terminating until `pollsUntilGone` namespaceStatus polls have passed and no finalizer is
 * left. Every call is logged in `calls`; failures are injected per method with failNext / failWhile.
 */
export class FakeCluster implements Cluster {
  readonly namespaces = new Map<string, FakeNamespace>()
  readonly calls: {method: ClusterMethod; args: unknown[]}[] = []
  private readonly readiness = new Map<string, DeploymentReadiness>()
  private readonly failures = new Map<ClusterMethod, InjectedFailure[]>()
  private deletionPolls = 0
  private sleeper: Sleeper | undefined
  private readonly open = new Set<object>()

  /** The cluster's identity (the kube-system namespace's UID); two contexts of one cluster share it. */
  clusterId: string
  /** The clock namespaces are created by (their createdAt); default the machine's. */
  now: () => Date = () => new Date()

  constructor(
    private readonly context = 'test',
    clusterId?: string,
  ) {
    this.clusterId = clusterId ?? `cluster-uid-${context}`
  }

  contextName(): string {
    return this.context
  }

  async identity(): Promise<string> {
    this.enter('identity', [])
    return this.clusterId
  }

  async ensureNamespace(namespace: Manifest, owner: Ownership): Promise<void> {
    this.enter('ensureNamespace', [namespace, owner])
    if (namespace.kind !== 'Namespace' || namespace.metadata.name !== owner.namespace || !hasOwnershipMarks(namespace.metadata, owner.demoId)) {
      throw new ClusterError(
        `Refusing to create ${describeObject(namespace)}: it is not namespace "${owner.namespace}" with the marks of demo "${owner.demoId}".`,
      )
    }
    const existing = this.namespaces.get(owner.namespace)
    if (existing) {
      this.verified(owner, 'adopt')
      existing.labels = {...existing.labels, ...namespace.metadata.labels}
      existing.annotations = {...existing.annotations, ...namespace.metadata.annotations}
      return
    }
    this.namespaces.set(owner.namespace, {
      name: owner.namespace,
      labels: {...namespace.metadata.labels},
      annotations: {...namespace.metadata.annotations},
      terminating: false,
      finalizers: [],
      objects: [],
      pollsUntilGone: 0,
      createdAt: this.now(),
    })
  }

  async apply(objects: Manifest[], owner: Ownership): Promise<void> {
    this.enter('apply', [objects, owner])
    for (const object of objects) {
      if (object.kind === 'Namespace' || object.metadata.namespace !== owner.namespace) {
        throw new ClusterError(`Refusing to apply ${describeObject(object)}: objects go only into namespace "${owner.namespace}".`)
      }
      if (!hasOwnershipMarks(object.metadata, owner.demoId)) {
        throw new ClusterError(`Refusing to apply ${describeObject(object)}: it does not carry the marks of demo "${owner.demoId}".`)
      }
    }
    const target = this.verified(owner, 'apply to')
    // The real adapter asks API discovery; the fake's discovery is the renderer's list (a Namespace is refused above).
    const clusterScoped = objects.find((o) => CLUSTER_SCOPED_KINDS.has(o.kind))
    if (clusterScoped) throw new ClusterError(`Refusing to apply ${describeObject(clusterScoped)}: ${clusterScoped.kind} is cluster-scoped.`)
    // Like the adapter: policy objects first, then the rest.
    for (const object of splitPolicyFirst(objects).flat()) {
      const copy = structuredClone(object)
      const at = target.objects.findIndex(
        (o) => o.kind === object.kind && o.apiVersion === object.apiVersion && o.metadata.name === object.metadata.name,
      )
      if (at === -1) target.objects.push(copy)
      else target.objects[at] = copy
    }
  }

  async deployments(namespace: string): Promise<DeploymentState[]> {
    this.enter('deployments', [namespace])
    return this.currentDeployments(namespace)
  }

  private currentDeployments(namespace: string): DeploymentState[] {
    // Listing in a namespace that does not exist answers an empty list, not 404.
    const objects = this.namespaces.get(namespace)?.objects ?? []
    return objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => this.stateOf(namespace, o))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  watchDeployments(namespace: string, signal: AbortSignal): Watch<DeploymentState[]> {
    this.enter('watchDeployments', [namespace])
    // As the adapter's watch: counts, and no reason from pods or events (only `deployments` reads those).
    return this.watchOf(signal, () =>
      this.currentDeployments(namespace).map((state) =>
        state.reason === null ? state : {...state, reason: `${state.available} of ${state.desired} replicas available`},
      ),
    )
  }

  watchNamespace(namespace: string, signal: AbortSignal): Watch<{exists: boolean}> {
    this.enter('watchNamespace', [namespace])
    return this.watchOf(signal, () => ({exists: this.namespaces.has(namespace)}))
  }

  async deleteNamespace(owner: Ownership): Promise<boolean> {
    this.enter('deleteNamespace', [owner])
    const existing = this.namespaces.get(owner.namespace)
    if (!existing) return false
    this.assertOurs(existing, owner, 'delete')
    if (existing.terminating) return true
    existing.terminating = true
    existing.pollsUntilGone = this.deletionPolls
    this.removeIfDone(existing)
    return true
  }

  async namespaceStatus(namespace: string): Promise<{exists: boolean; terminating: boolean; blockers: string[]}> {
    this.enter('namespaceStatus', [namespace])
    const existing = this.namespaces.get(namespace)
    if (!existing) return {exists: false, terminating: false, blockers: []}
    if (!existing.terminating) return {exists: true, terminating: false, blockers: []}
    existing.pollsUntilGone = Math.max(0, existing.pollsUntilGone - 1)
    if (this.removeIfDone(existing)) return {exists: false, terminating: false, blockers: []}
    if (existing.finalizers.length === 0) return {exists: true, terminating: true, blockers: []}
    // As the real adapter reports content held by finalizers: the namespace controller's condition, worded as
    // it words it, and the namespace's own finalizer `kubernetes`, which stays until the content is gone.
    // (The real one also has NamespaceContentRemaining, naming the resource kinds, which the fake does not know.)
    const remaining = existing.finalizers.map((f) => `${f} in 1 resource instances`).join(', ')
    return {
      exists: true,
      terminating: true,
      blockers: [`NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: ${remaining}`, 'finalizer kubernetes'],
    }
  }

  async setExpiry(owner: Ownership, expiresAt: Date): Promise<boolean> {
    this.enter('setExpiry', [owner, expiresAt])
    const existing = this.namespaces.get(owner.namespace)
    if (!existing) return false
    this.assertOurs(existing, owner, 'update')
    existing.annotations = {...existing.annotations, ...movedExpiry(existing.annotations, expiresAt)}
    return true
  }

  async secretValues(owner: Ownership, name: string): Promise<Record<string, string> | null> {
    this.enter('secretValues', [owner, name])
    const existing = this.namespaces.get(owner.namespace)
    if (!existing) return null
    this.assertOurs(existing, owner, 'read a Secret of')
    const secret = existing.objects.find((o) => o.kind === 'Secret' && o.metadata.name === name)
    if (!secret) return null
    const values: Record<string, string> = {}
    for (const [key, value] of Object.entries((secret.data ?? {}) as Record<string, string>))
      values[key] = Buffer.from(value, 'base64').toString('utf8')
    return {...values, ...((secret.stringData ?? {}) as Record<string, string>)}
  }

  async ownedNamespaces(): Promise<OwnedNamespace[]> {
    this.enter('ownedNamespaces', [])
    return [...this.namespaces.values()].flatMap((ns) => {
      const demoId = ns.labels[INSTANCE_LABEL]
      if (!demoId || !hasOwnershipMarks(ns, demoId)) return []
      const expires = ns.annotations[EXPIRES_AT_ANNOTATION]
      return [{name: ns.name, demoId, terminating: ns.terminating, expiresAt: expires ? new Date(expires) : null, createdAt: new Date(ns.createdAt)}]
    })
  }

  /** Who the fake API server says the caller is; set `{unavailable: ...}` for a cluster without SelfSubjectReview. */
  user: AuthenticatedUser = {username: 'demo-testbed-admin'}

  async authenticatedUser(): Promise<AuthenticatedUser> {
    this.enter('authenticatedUser', [])
    return this.user
  }

  /** Permissions the fake's credentials lack, as the adapter words them ("patch deployments.apps in namespace ..."). */
  denied: string[] = []

  async missingPermissions(objects: Manifest[], namespace: string): Promise<string[]> {
    this.enter('missingPermissions', [objects.length, namespace])
    return [...this.denied]
  }

  // ---- test controls ----

  /**
   * The sleeper a watch's next() waits with when nothing changed (the test's FakeSleeper, so a resync tick is
   * fake time and `onSleep` can change the world). Without one, such a wait fails the test.
   */
  useSleeper(sleeper: Sleeper): this {
    this.sleeper = sleeper
    return this
  }

  /** Watches opened and not yet closed (a use case must close each one it opens). */
  get openWatches(): number {
    return this.open.size
  }

  /** A namespace that is already there (someone else's, or a leftover of ours): give it marks to make it ours. */
  addNamespace(
    name: string,
    metadata: {labels?: Record<string, string>; annotations?: Record<string, string>; createdAt?: Date} = {},
  ): FakeNamespace {
    const ns: FakeNamespace = {
      name,
      labels: {...metadata.labels},
      annotations: {...metadata.annotations},
      terminating: false,
      finalizers: [],
      objects: [],
      pollsUntilGone: 0,
      createdAt: metadata.createdAt ?? this.now(),
    }
    this.namespaces.set(name, ns)
    return ns
  }

  /** Sets what the controller reports for a Deployment, whether or not it has been applied yet. */
  setDeployment(namespace: string, name: string, readiness: DeploymentReadiness): void {
    this.readiness.set(`${namespace}/${name}`, readiness)
  }

  /** Namespaces deleted from now on stay terminating for this many namespaceStatus polls (0: gone at once). */
  deletionTakes(polls: number): void {
    this.deletionPolls = polls
  }

  /** Content with `finalizer` that holds the namespace while terminating, until removeFinalizer (a controller that is gone). */
  addFinalizer(namespace: string, finalizer: string): void {
    this.mustGet(namespace).finalizers.push(finalizer)
  }

  removeFinalizer(namespace: string, finalizer: string): void {
    const ns = this.mustGet(namespace)
    ns.finalizers = ns.finalizers.filter((f) => f !== finalizer)
  }

  /** The next call of `method` (matching `when`, if given) throws `error`; later calls succeed again. */
  failNext<M extends ClusterMethod>(method: M, error: Error, when?: (...args: ArgsOf<M>) => boolean): void {
    this.inject(method, {error, when: (when ?? (() => true)) as InjectedFailure['when'], once: true})
  }

  /** Every call of `method` (matching `when`, if given) throws `error` until heal(method). */
  failWhile<M extends ClusterMethod>(method: M, error: Error, when?: (...args: ArgsOf<M>) => boolean): void {
    this.inject(method, {error, when: (when ?? (() => true)) as InjectedFailure['when'], once: false})
  }

  heal(method: ClusterMethod): void {
    this.failures.delete(method)
  }

  /** The objects of a namespace as `Kind/name`, in apply order. */
  objectNames(namespace: string): string[] {
    return (this.namespaces.get(namespace)?.objects ?? []).map((o) => `${o.kind}/${o.metadata.name}`)
  }

  callsOf(method: ClusterMethod): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args)
  }

  // ---- internals ----

  /**
   * A watch over `view`: a change is seen at once (no resync tick needed), as the real watch sees it when the
   * API server tells; with no change, next() waits `maxWaitMs` on the sleeper and answers `changed: false`.
   */
  private watchOf<T>(signal: AbortSignal, view: () => T): Watch<T> {
    let last: string | undefined
    const token = {}
    this.open.add(token)
    const close = () => this.open.delete(token)
    signal.addEventListener('abort', close, {once: true})
    const answer = (value: T) => {
      const seen = JSON.stringify(value)
      const changed = seen !== last
      last = seen
      return {changed, value}
    }
    return {
      next: async (maxWaitMs) => {
        signal.throwIfAborted()
        if (!this.open.has(token)) throw new Error('FakeCluster: next() on a closed watch')
        if (JSON.stringify(view()) !== last) return answer(view())
        if (!this.sleeper) throw new Error('FakeCluster: a watch waited without news; give the cluster the test sleeper (useSleeper)')
        try {
          await this.sleeper.sleep(maxWaitMs, signal)
        } catch (error) {
          // Rejects with the signal's reason, as the port says (a sleeper may reject with an AbortError of its own).
          signal.throwIfAborted()
          throw error
        }
        return answer(view())
      },
      close,
    }
  }

  private inject(method: ClusterMethod, failure: InjectedFailure): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), failure])
  }

  private enter(method: ClusterMethod, args: unknown[]): void {
    this.calls.push({method, args: structuredClone(args)})
    const pending = this.failures.get(method) ?? []
    const hit = pending.find((f) => f.when(...(args as never[])))
    if (!hit) return
    if (hit.once)
      this.failures.set(
        method,
        pending.filter((f) => f !== hit),
      )
    throw hit.error
  }

  private stateOf(namespace: string, deployment: Manifest): DeploymentState {
    const name = deployment.metadata.name
    const desired = replicasOf(deployment)
    const readiness = this.readiness.get(`${namespace}/${name}`) ?? {available: true}
    const restarts = readiness.restarts ? {restarts: readiness.restarts} : {}
    if (readiness.available) return {name, desired, ready: desired, available: desired, pods: desired, reason: null, ...restarts}
    const pods = readiness.pods ?? desired
    return {name, desired, ready: 0, available: 0, pods, reason: readiness.reason ?? `0 of ${desired} replicas available`, ...restarts}
  }

  private removeIfDone(ns: FakeNamespace): boolean {
    if (ns.pollsUntilGone > 0 || ns.finalizers.length > 0) return false
    this.namespaces.delete(ns.name)
    return true
  }

  private mustGet(namespace: string): FakeNamespace {
    const ns = this.namespaces.get(namespace)
    if (!ns) throw new Error(`FakeCluster: no namespace ${namespace}`)
    return ns
  }

  private verified(owner: Ownership, verb: string): FakeNamespace {
    const existing = this.namespaces.get(owner.namespace)
    if (!existing) throw new NamespaceGoneError(`Cannot ${verb} namespace "${owner.namespace}": it does not exist (anymore).`)
    this.assertOurs(existing, owner, verb)
    if (existing.terminating)
      throw new NamespaceTerminatingError(`Cannot ${verb} namespace "${owner.namespace}": it is still terminating; retry later.`)
    return existing
  }

  private assertOurs(ns: FakeNamespace, owner: Ownership, verb: string): void {
    if (!hasOwnershipMarks(ns, owner.demoId)) {
      throw new ForeignNamespaceError(
        `Cannot ${verb} namespace "${owner.namespace}": it exists and does not carry the marks of demo "${owner.demoId}"; it is left untouched.`,
      )
    }
  }
}
