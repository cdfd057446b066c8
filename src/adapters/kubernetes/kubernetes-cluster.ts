import type {KubeConfig, V1Deployment, CoreV1Event, V1Namespace, V1Pod, V1ReplicaSet, V1Secret} from '@kubernetes/client-node'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {ClusterError, ForeignNamespaceError, NamespaceGoneError, NamespaceTerminatingError} from '../../core/errors.js'
import {EXPIRES_AT_ANNOTATION, hasOwnershipMarks, INSTANCE_LABEL, MANAGED_SELECTOR, movedExpiry} from '../../core/labels.js'
import type {
  AuthenticatedUser,
  Cluster,
  ClusterAccess,
  DeploymentState,
  Manifest,
  OwnedNamespace,
  Ownership,
  Permission,
  Watch,
} from '../../core/ports.js'
import {splitPolicyFirst} from '../../core/render-stack.js'
import {applyRetryDecisionFor, httpStatusOf, retryDecisionFor, toClusterError} from './api-errors.js'
import type {KUBERNETES_CLIENT_NAMES} from './kubernetes-client-names.js'
import {describeDeployments} from './deployment-state.js'
import {loadKubeConfig} from './kubeconfig.js'
import {ReloadableCredentials} from './credentials.js'
import {KubernetesTransport} from './transport.js'
import {JoinedWatch, ListWatch, Wakeups, type ListWatchSource, type WatchedObject} from './list-watch.js'
import {reviewSelf} from './who-am-i.js'
import {SharedNamespaceWatch} from './shared-namespace-watch.js'
import {accessChecksFor, deniedAccess, describeAccess, reviewAccess} from './access-review.js'
import {APPLY_PATCH, Discovery, KubernetesApiError, resourcePath, type ApiResource, type ObjectList, type Send} from './rest.js'
import {AdaptiveLimit, DEFAULT_RETRY_OPTIONS, mapWithConcurrency, withRetry, type RetryDecision, type RetryHooks, type RetryOptions} from './retry.js'

/** What the adapter uses of the client: the names in kubernetes-client-names.ts, which the bundle script also reads. */
type KubernetesClient = Pick<typeof import('@kubernetes/client-node'), (typeof KUBERNETES_CLIENT_NAMES)[number]>

export const FIELD_MANAGER = 'demo-cli'
/** How long the API server keeps one watch open before ending it (it is reopened): under the transport's 30 s inactivity deadline. */
const WATCH_TIMEOUT_S = 25
/** Field manager of `demo extend`'s expiry annotations. */
export const EXPIRY_FIELD_MANAGER = 'demo-cli-extend'

export interface KubernetesClusterOptions {
  /** A kubeconfig file; otherwise $KUBECONFIG, ~/.kube/config, or the pod's service account. */
  kubeconfig?: string | undefined
  /** A context of the kubeconfig; otherwise its current context. */
  context?: string | undefined
  /** The environment to read KUBECONFIG from (default: process.env). */
  env?: NodeJS.ProcessEnv
  /** Deadline of each HTTP request (default 30 s). */
  requestTimeoutMs?: number
  /** Objects applied in parallel (default 8). */
  concurrency?: number
  /**
   * Requests in flight at most, watches aside (default 32; gc and health work on many demos at once). A 429 halves
   * it, down to one, and successes raise it again (AdaptiveLimit in retry.ts).
   */
  maxInFlight?: number
  /** Namespaces per page when listing (default 100). */
  listPageSize?: number
  retry?: Partial<RetryOptions>
  retryHooks?: RetryHooks
}

export interface Clients {
  /** The kubeconfig as last loaded (credentials.ts loads it again after a 401). */
  readonly kubeConfig: KubeConfig
  /** Opens watches (transport.ts); a test may count or stand in for them. */
  watch: () => Pick<KubernetesTransport, 'watch'>
  /**
   * One request as plain JSON (rest.ts), with the clients' credentials, deadline and connection pool: the body
   * goes as written and the answer comes back parsed. A status outside 2xx throws KubernetesApiError.
   */
  send: Send
  /** API discovery over `send`, cached per group version. */
  discovery: Discovery
}

export interface Settings {
  server: string
  timeoutMs: number
  concurrency: number
  listPageSize: number
  retry: RetryOptions
  retryHooks: RetryHooks
}

/**
 * Connects to the cluster of a kubeconfig context. Imports @kubernetes/client-node (for the kubeconfig and
 * authentication) only now, so commands that never touch the cluster do not pay for it. Throws UsageError for a missing
 * kubeconfig file or an unknown context, ClusterError when no cluster is configured at all.
 */
export async function connectKubernetesCluster(options: KubernetesClusterOptions = {}): Promise<KubernetesCluster> {
  const {clients, settings} = await connectClients(options)
  return new KubernetesCluster(clients, settings)
}

/** The clients and settings of a kubeconfig context, shared by KubernetesCluster and KubernetesInstallTarget. */
export async function connectClients(options: KubernetesClusterOptions = {}): Promise<{clients: Clients; settings: Settings}> {
  const k8s = await preloadKubernetesClient()
  const source = {kubeconfig: options.kubeconfig, context: options.context, env: options.env ?? process.env}
  const credentials = new ReloadableCredentials(() => loadKubeConfig(new k8s.KubeConfig(), source))
  const server = credentials.kubeConfig.getCurrentCluster()?.server ?? ''
  const timeoutMs = options.requestTimeoutMs ?? 30_000
  const transport = new KubernetesTransport(server, credentials, timeoutMs, {http2: wantsHttp2(source.env)})
  // One limit for every request of the process: an API server that answers 429 gets fewer requests at once.
  const inFlight = new AdaptiveLimit(options.maxInFlight ?? 32)
  const send: Send = (request) => inFlight.run(() => transport.send(request), isTooManyRequests)
  const clients: Clients = {
    get kubeConfig() {
      return credentials.kubeConfig
    },
    // A watch authenticates with the credentials as they are when it opens (a relist after a 401 loads them again).
    watch: () => ({watch: (path, query, onEvent, onDone) => transport.watch(path, query, onEvent, onDone)}),
    send,
    discovery: new Discovery(send),
  }
  const settings: Settings = {
    server,
    timeoutMs,
    concurrency: options.concurrency ?? 8,
    listPageSize: options.listPageSize ?? 100,
    retry: {...DEFAULT_RETRY_OPTIONS, ...options.retry},
    retryHooks: options.retryHooks ?? {},
  }
  return {clients, settings}
}

/** HTTP/2 unless DISABLE_HTTP2 is set (to anything), as client-go (kubectl) reads it. */
function wantsHttp2(env: NodeJS.ProcessEnv): boolean {
  return (env.DISABLE_HTTP2 ?? '') === ''
}

function isTooManyRequests(error: unknown): boolean {
  return error instanceof KubernetesApiError && error.code === 429
}

/**
 * The built CLI has the part of @kubernetes/client-node it uses as one bundle, dist/vendor/kubernetes-client.js
 * (scripts/bundle-kubernetes-client.mjs), instead of the package's ~1,000 modules.
 * Run from the sources (tests under tsx) there is no bundle, and the package itself is used.
 */
async function loadKubernetesClient(): Promise<KubernetesClient> {
  const bundle = new URL('../../vendor/kubernetes-client.js', import.meta.url)
  if (existsSync(fileURLToPath(bundle))) return (await import(bundle.href)) as KubernetesClient
  return import('@kubernetes/client-node')
}

let loading: Promise<KubernetesClient> | undefined

/**
 * Starts loading the client now, without connecting: a command calls it first thing so the (CPU-bound)
 * import overlaps with its (I/O-bound) state store connection. Connecting later reuses the same load.
 */
export function preloadKubernetesClient(): Promise<KubernetesClient> {
  loading ??= loadKubernetesClient()
  return loading
}

function describe(manifest: Pick<Manifest, 'kind' | 'metadata'>): string {
  const namespace = manifest.metadata.namespace ? ` in namespace "${manifest.metadata.namespace}"` : ''
  return `${manifest.kind} "${manifest.metadata.name}"${namespace}`
}

function isTerminating(namespace: V1Namespace): boolean {
  return namespace.metadata?.deletionTimestamp !== undefined || namespace.status?.phase === 'Terminating'
}

function creationOf(namespace: V1Namespace): Date | null {
  const at = namespace.metadata?.creationTimestamp
  return at ? new Date(at) : null
}

function parseDate(value: string | undefined): Date | null {
  if (!value) return null
  const at = new Date(value)
  return Number.isNaN(at.getTime()) ? null : at
}

/** The Cluster port on the Kubernetes API (server-side apply, label-selected lists, ownership-checked deletes). */
export class KubernetesCluster implements Cluster, ClusterAccess {
  /** Every watchNamespace shares it: one watch connection and one list per resync, however many wait. */
  private readonly namespaceWatch: SharedNamespaceWatch

  constructor(
    private readonly clients: Clients,
    private readonly settings: Settings,
  ) {
    this.namespaceWatch = new SharedNamespaceWatch(
      this.watchSource<V1Namespace>('/api/v1/namespaces', {}, () => this.listRaw<V1Namespace>('Cannot watch the namespaces', '/api/v1/namespaces')),
    )
  }

  contextName(): string {
    return this.clients.kubeConfig.getCurrentContext()
  }

  private identityRead: Promise<string> | undefined

  async identity(): Promise<string> {
    this.identityRead ??= this.readIdentity()
    try {
      return await this.identityRead
    } catch (error) {
      this.identityRead = undefined
      throw error
    }
  }

  private async readIdentity(): Promise<string> {
    const kubeSystem = (await this.request('Cannot read namespace "kube-system" (the cluster\'s identity)', () =>
      this.clients.send({method: 'GET', path: '/api/v1/namespaces/kube-system'}),
    )) as V1Namespace
    const uid = kubeSystem.metadata?.uid
    if (!uid) throw new ClusterError('Cannot tell which cluster this is: namespace "kube-system" has no uid.')
    return uid
  }

  server(): string {
    return this.settings.server
  }

  async ping(): Promise<void> {
    // A SelfSubjectAccessReview: every authenticated identity may create one (system:basic-user), so it proves
    // the server answers and takes our credentials without needing any permission.
    await this.canI({verb: 'get', resource: 'namespaces', group: ''})
  }

  async canI(permission: Permission): Promise<boolean> {
    try {
      return await reviewAccess(this.clients.send, {verb: permission.verb, resource: permission.resource, group: permission.group})
    } catch (error) {
      throw toClusterError(error, {
        what: `Cannot ask whether this identity may ${permission.verb} ${permission.resource}`,
        server: this.settings.server,
        timeoutMs: this.settings.timeoutMs,
      })
    }
  }

  async ingressClassExists(name: string): Promise<boolean> {
    try {
      await this.clients.send({method: 'GET', path: `/apis/networking.k8s.io/v1/ingressclasses/${encodeURIComponent(name)}`})
      return true
    } catch (error) {
      if (httpStatusOf(error) === 404) return false
      throw toClusterError(error, {what: `Cannot read IngressClass "${name}"`, server: this.settings.server, timeoutMs: this.settings.timeoutMs})
    }
  }

  async ensureNamespace(namespace: Manifest, owner: Ownership): Promise<void> {
    const name = owner.namespace
    if (namespace.kind !== 'Namespace' || namespace.metadata.name !== name || !hasOwnershipMarks(namespace.metadata, owner.demoId)) {
      throw new ClusterError(`Refusing to create ${describe(namespace)}: it is not namespace "${name}" with the marks of demo "${owner.demoId}".`)
    }
    const created = await this.requestOr(
      `Cannot create namespace "${name}"`,
      () => this.clients.send({method: 'POST', path: '/api/v1/namespaces', query: {fieldManager: FIELD_MANAGER}, body: namespace}),
      409,
      null,
    )
    if (created) return
    await this.verifiedNamespace(owner, 'adopt')
    // Ours and active: converge its labels and annotations (a re-run of create may carry a new expiry).
    await this.applyOne(namespace)
  }

  async apply(objects: Manifest[], owner: Ownership): Promise<void> {
    for (const object of objects) this.assertApplicable(object, owner)
    await this.verifiedNamespace(owner, 'apply to')
    await this.assertNamespacedKinds(objects)
    // Policy objects (quota, limits, ...) first: admission of the pods depends on them. Services one at a time,
    // beside the rest: under load the API server answered 504 to Service creates (each allocates a cluster IP)
    // that quota admission had already charged, and the charge stays until the quota controller's recount
    // (every 5 min), so 20 creates applying 6 Services at once had their own quota refuse them ("services=10
    // used" for 6). kubectl, one object at a time, had none (docs/benchmarks.md, perf2). Deployments, which
    // take longest to become ready, do not wait for the Services.
    for (const group of splitPolicyFirst(objects)) {
      const services = group.filter((o) => o.kind === 'Service')
      const others = group.filter((o) => o.kind !== 'Service')
      await Promise.all([
        mapWithConcurrency(services, 1, (object) => this.applyOne(object)),
        mapWithConcurrency(others, this.settings.concurrency, (object) => this.applyOne(object)),
      ])
    }
  }

  async deployments(namespace: string): Promise<DeploymentState[]> {
    const what = `Cannot read the workloads of namespace "${namespace}"`
    const ns = encodeURIComponent(namespace)
    const [deployments, replicaSets, pods, events] = await Promise.all([
      this.listRaw<V1Deployment>(what, `/apis/apps/v1/namespaces/${ns}/deployments`),
      this.listRaw<V1ReplicaSet>(what, `/apis/apps/v1/namespaces/${ns}/replicasets`),
      this.listRaw<V1Pod>(what, `/api/v1/namespaces/${ns}/pods`),
      this.listRaw<CoreV1Event>(what, `/api/v1/namespaces/${ns}/events`, {fieldSelector: 'type=Warning'}),
    ])
    return describeDeployments({deployments: deployments.items, replicaSets: replicaSets.items, pods: pods.items, events: events.items})
  }

  watchDeployments(namespace: string, signal: AbortSignal): Watch<DeploymentState[]> {
    // The ReplicaSets too: their controller counts available pods before the deployment controller copies the
    // counts into the deployment's status, which on a busy controller manager came up to 9 s later
    // (soleCurrentReplicaSet in deployment-state.ts).
    const what = `Cannot watch the Deployments of namespace "${namespace}"`
    const ns = encodeURIComponent(namespace)
    const wakeups = new Wakeups()
    const watchOf = <O extends V1Deployment | V1ReplicaSet>(path: string) =>
      new ListWatch<O, O[]>(
        this.watchSource<O>(path, {}, () => this.listRaw<O>(what, path)),
        (items) => items,
        signal,
        {wakeups},
      )
    return new JoinedWatch(
      [watchOf<V1Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments`), watchOf<V1ReplicaSet>(`/apis/apps/v1/namespaces/${ns}/replicasets`)],
      (deployments, replicaSets) => describeDeployments({deployments, replicaSets, pods: [], events: []}),
      wakeups,
      signal,
    )
  }

  watchNamespace(namespace: string, signal: AbortSignal): Watch<{exists: boolean}> {
    return this.namespaceWatch.watch(namespace, signal)
  }

  async deleteNamespace(owner: Ownership): Promise<boolean> {
    const name = owner.namespace
    const existing = await this.readNamespace(name)
    if (!existing) return false
    this.assertOurs(existing, owner, 'delete')
    if (isTerminating(existing)) return true
    // The uid precondition makes the delete hit exactly the namespace whose marks we just checked.
    const deleted = await this.requestOr(
      `Cannot delete namespace "${name}"`,
      () =>
        this.clients.send({
          method: 'DELETE',
          path: `/api/v1/namespaces/${encodeURIComponent(name)}`,
          body: {apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: {uid: existing.metadata?.uid}},
        }),
      404,
      null,
    )
    if (deleted === null) return false
    await this.deleteOwnPods(owner)
    return true
  }

  /**
   * The demo's pods (by its marks), deleted right after its namespace, each with its own grace period. The namespace
   * controller would delete them the same way, but only 5 s after the namespace's deletion (it delays every
   * namespace event by that), and when a pod is still terminating after its pass, it passes once more 5 s later: a
   * namespace then takes ~10.5 s to go instead of ~5.5 s. Deleted now, the pods are gone by its first pass (measured
   * on the test bed, docs/decisions.md). The namespace is terminating, so nothing can create pods in it again.
   * Best effort: without the right to delete pods (gc's ServiceAccount has none), or on any other failure, the
   * namespace controller deletes them as it always does.
   */
  private async deleteOwnPods(owner: Ownership): Promise<void> {
    try {
      await this.clients.send({
        method: 'DELETE',
        path: `/api/v1/namespaces/${encodeURIComponent(owner.namespace)}/pods`,
        query: {labelSelector: `${MANAGED_SELECTOR},${INSTANCE_LABEL}=${owner.demoId}`},
      })
    } catch {
      // Nothing to do: see above.
    }
  }

  async namespaceStatus(namespace: string): Promise<{exists: boolean; terminating: boolean; blockers: string[]}> {
    // While namespaces are watched, the shared watch's cache (relisted every few seconds) answers: gc's 200 waits
    // cost no GET each. Otherwise, and once that cache is stale, one GET.
    const cached = this.namespaceWatch.cached(namespace)
    const existing = cached === undefined ? await this.readNamespace(namespace) : cached
    if (!existing) return {exists: false, terminating: false, blockers: []}
    if (!isTerminating(existing)) return {exists: true, terminating: false, blockers: []}
    const finalizers = (existing.spec?.finalizers ?? []).map((f) => `finalizer ${f}`)
    const conditions = (existing.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}: ${c.message ?? c.reason ?? ''}`)
    return {exists: true, terminating: true, blockers: [...conditions, ...finalizers]}
  }

  async setExpiry(owner: Ownership, expiresAt: Date): Promise<boolean> {
    const existing = await this.readNamespace(owner.namespace)
    if (!existing) return false
    this.assertOurs(existing, owner, 'update')
    // A field manager of its own: applying a partial Namespace as demo-cli would drop the labels demo-cli owns.
    const body = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {name: owner.namespace, annotations: movedExpiry(existing.metadata?.annotations ?? {}, expiresAt)},
    }
    await this.request(`Cannot update the expiry of namespace "${owner.namespace}"`, () =>
      this.clients.send({
        method: 'PATCH',
        path: `/api/v1/namespaces/${encodeURIComponent(owner.namespace)}`,
        query: {fieldManager: EXPIRY_FIELD_MANAGER, force: 'true'},
        body,
        contentType: APPLY_PATCH,
      }),
    )
    return true
  }

  async secretValues(owner: Ownership, name: string): Promise<Record<string, string> | null> {
    const existing = await this.readNamespace(owner.namespace)
    if (!existing) return null
    this.assertOurs(existing, owner, 'read a Secret of')
    const secret = await this.requestOr(
      `Cannot read Secret "${name}" of namespace "${owner.namespace}"`,
      () =>
        this.clients.send({
          method: 'GET',
          path: `/api/v1/namespaces/${encodeURIComponent(owner.namespace)}/secrets/${encodeURIComponent(name)}`,
        }) as Promise<V1Secret>,
      404,
      null,
    )
    if (!secret) return null
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]))
  }

  async ownedNamespaces(): Promise<OwnedNamespace[]> {
    const found: V1Namespace[] = []
    let token: string | undefined
    do {
      // Any failure on any page throws: gc must never act on a partial listing.
      const page = (await this.request('Cannot list the namespaces managed by demo-cli', () =>
        this.clients.send({
          method: 'GET',
          path: '/api/v1/namespaces',
          query: {labelSelector: MANAGED_SELECTOR, limit: String(this.settings.listPageSize), continue: token},
        }),
      )) as ObjectList<V1Namespace>
      found.push(...(page.items ?? []))
      token = page.metadata?.continue || undefined
    } while (token)
    return found.flatMap((ns) => {
      const demoId = ns.metadata?.labels?.[INSTANCE_LABEL]
      if (!demoId || !hasOwnershipMarks(ns.metadata, demoId)) return []
      return [
        {
          name: ns.metadata?.name ?? '',
          demoId,
          terminating: isTerminating(ns),
          expiresAt: parseDate(ns.metadata?.annotations?.[EXPIRES_AT_ANNOTATION]),
          createdAt: creationOf(ns),
        },
      ]
    })
  }

  authenticatedUser(): Promise<AuthenticatedUser> {
    return reviewSelf((what, call) => this.request(what, call), this.clients.send)
  }

  async missingPermissions(objects: Manifest[], namespace: string): Promise<string[]> {
    const resources = new Map<string, string | undefined>()
    await this.readDiscovery(objects)
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      const key = `${object.apiVersion} ${object.kind}`
      if (!resources.has(key)) resources.set(key, (await this.lookUpKind(object))?.name)
    }
    const checks = accessChecksFor(objects, namespace, (o) => resources.get(`${o.apiVersion} ${o.kind}`))
    const denied = await deniedAccess((what, call) => this.request(what, call), this.clients.send, checks)
    return denied.map(describeAccess)
  }

  /**
   * Server-side apply as field manager demo-cli with force. Force is safe because every object goes only
   * into a namespace whose marks were verified just before: there we are the authority, and a conflict can
   * only be drift (a `kubectl edit`, an older demo-cli) that our declared state should win over, instead of
   * aborting a create halfway. Without a verified namespace nothing is applied at all.
   */
  private async applyOne(object: Manifest): Promise<void> {
    // The manifest goes as written (JSON is YAML): no typed model in between that could drop a field.
    const path = await this.pathOf(object)
    let failedBefore = false
    const decide = (error: unknown): RetryDecision => {
      const decision = applyRetryDecisionFor(error, failedBefore)
      failedBefore = true
      return decision
    }
    await this.request(
      `Cannot apply ${describe(object)}`,
      () =>
        this.clients.send({
          method: 'PATCH',
          path,
          query: {fieldManager: FIELD_MANAGER, force: 'true'},
          body: object,
          contentType: APPLY_PATCH,
        }),
      decide,
    )
  }

  /** The URL path of an object, from API discovery (cached). */
  private async pathOf(object: Manifest): Promise<string> {
    const resource = await this.lookUpKind(object)
    if (!resource) throw new ClusterError(`The cluster does not serve kind ${object.kind} in ${object.apiVersion} (${describe(object)}).`)
    return resourcePath(object.apiVersion, resource, object.metadata.namespace, object.metadata.name)
  }

  private assertApplicable(object: Manifest, owner: Ownership): void {
    if (object.kind === 'Namespace' || object.metadata.namespace !== owner.namespace) {
      throw new ClusterError(
        `Refusing to apply ${describe(object)}: objects go only into namespace "${owner.namespace}" (the namespace itself through ensureNamespace).`,
      )
    }
    if (!hasOwnershipMarks(object.metadata, owner.demoId)) {
      throw new ClusterError(`Refusing to apply ${describe(object)}: it does not carry the marks of demo "${owner.demoId}", so gc could not find it.`)
    }
  }

  /**
   * Cluster-scoped kinds ignore metadata.namespace; API discovery tells which kinds are namespaced. The rule for
   * templates is the renderer's CLUSTER_SCOPED_KINDS (render-stack.ts), applied before anything is written;
   * this is the second line of defence, for kinds that list cannot know (a cluster-scoped CRD, a kind of a
   * newer release) and for callers other than the renderer. It asks API discovery (Kubernetes' own kinds from
   * BUILT_IN_KINDS, every other kind from the cluster).
   */
  private async assertNamespacedKinds(objects: Manifest[]): Promise<void> {
    const kinds = new Map(objects.map((o) => [`${o.apiVersion} ${o.kind}`, o]))
    await this.readDiscovery(objects)
    for (const object of kinds.values()) {
      const resource = await this.lookUpKind(object)
      if (!resource)
        throw new ClusterError(`The cluster does not serve kind ${object.kind} in ${object.apiVersion} (${describe(object)}).`, {
          hint: 'Fix apiVersion/kind in the template, or install the CRD first.',
        })
      if (!resource.namespaced)
        throw new ClusterError(`Refusing to apply ${describe(object)}: ${object.kind} is cluster-scoped.`, {
          hint: 'Templates may create only namespaced objects.',
        })
    }
  }

  /** Reads discovery of each group version of `objects` once and side by side, so that lookUpKind answers from the cache. */
  private async readDiscovery(objects: Manifest[]): Promise<void> {
    await Promise.all([...new Map(objects.map((o) => [o.apiVersion, o])).values()].map((object) => this.lookUpKind(object)))
  }

  /** The kind's resource from API discovery (cached by the client); undefined when the cluster does not serve it. */
  private lookUpKind(object: Manifest): Promise<ApiResource | undefined> {
    return this.request(`Cannot look up kind ${object.kind} (${object.apiVersion})`, () =>
      this.clients.discovery.resource(object.apiVersion, object.kind),
    )
  }

  private async readNamespace(name: string): Promise<V1Namespace | null> {
    return this.requestOr(
      `Cannot read namespace "${name}"`,
      () => this.clients.send({method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(name)}`}) as Promise<V1Namespace>,
      404,
      null,
    )
  }

  /** The namespace, if it carries the marks of the demo and is not terminating; NamespaceGoneError, ForeignNamespaceError or NamespaceTerminatingError otherwise. */
  private async verifiedNamespace(owner: Ownership, verb: string): Promise<V1Namespace> {
    const existing = await this.readNamespace(owner.namespace)
    if (!existing)
      throw new NamespaceGoneError(`Cannot ${verb} namespace "${owner.namespace}": it does not exist (anymore).`, {
        hint: `Run \`demo get ${owner.demoId}\`.`,
      })
    this.assertOurs(existing, owner, verb)
    if (isTerminating(existing)) {
      throw new NamespaceTerminatingError(`Cannot ${verb} namespace "${owner.namespace}": it is still terminating; retry later.`, {
        hint: `Wait until \`kubectl get namespace ${owner.namespace}\` says NotFound, then retry.`,
      })
    }
    return existing
  }

  private assertOurs(namespace: V1Namespace, owner: Ownership, verb: string): void {
    if (!hasOwnershipMarks(namespace.metadata, owner.demoId)) {
      throw new ForeignNamespaceError(
        `Cannot ${verb} namespace "${owner.namespace}": it exists and does not carry the marks of demo "${owner.demoId}"; it is left untouched.`,
        {
          hint: 'Another demo or someone else owns it. Pick another demo id or namespace prefix.',
        },
      )
    }
  }

  /**
   * A watch on `path` from a resourceVersion (transport.ts). The server ends each watch after WATCH_TIMEOUT_S, before
   * the transport's 30 s inactivity deadline would abort it as a failure; ListWatch then reopens it where it stopped.
   */
  private watchSource<O extends WatchedObject>(
    path: string,
    query: Record<string, string>,
    list: () => Promise<{items: O[]; resourceVersion: string}>,
  ): ListWatchSource<O> {
    return {
      list,
      watch: (resourceVersion, onEvent, onDone) =>
        this.clients
          .watch()
          .watch(
            path,
            {...query, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_S},
            (type: string, object: O) => onEvent(type, object),
            onDone,
          ),
    }
  }

  /**
   * A list as the API server sends it, as the watch that follows it delivers its objects: plain JSON, timestamps
   * as strings.
   */
  private async listRaw<O>(what: string, path: string, query: Record<string, string> = {}): Promise<{items: O[]; resourceVersion: string}> {
    const list = (await this.request(what, () => this.clients.send({method: 'GET', path, query}))) as ObjectList<O>
    return {items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? ''}
  }

  private async request<T>(
    what: string,
    call: () => Promise<T>,
    decide: (error: unknown) => RetryDecision = (error) => retryDecisionFor(error),
  ): Promise<T> {
    try {
      return await withRetry(call, decide, this.settings.retry, this.settings.retryHooks)
    } catch (error) {
      throw toClusterError(error, {what, server: this.settings.server, timeoutMs: this.settings.timeoutMs})
    }
  }

  /** Like request, but an answer with `status` (404 on read, 409 on create) yields `fallback` instead of an error. */
  private async requestOr<T, F>(what: string, call: () => Promise<T>, status: number, fallback: F): Promise<T | F> {
    try {
      return await this.request(what, call)
    } catch (error) {
      if (httpStatusOf((error as Error).cause) === status) return fallback
      throw error
    }
  }
}
