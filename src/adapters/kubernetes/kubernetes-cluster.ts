import type {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  V1APIResource,
  V1Deployment,
  V1Namespace,
  Watch as KubernetesWatch,
} from '@kubernetes/client-node'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {isDeepStrictEqual} from 'node:util'
import {load as loadYamlText} from 'js-yaml'
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
import {ReloadableCredentials, reloadingOnUnauthorized} from './credentials.js'
import {ListWatch, type ListWatchSource, type WatchedObject} from './list-watch.js'
import {reviewSelf} from './who-am-i.js'
import {SharedNamespaceWatch} from './shared-namespace-watch.js'
import {accessChecksFor, deniedAccess, describeAccess} from './access-review.js'
import {DEFAULT_RETRY_OPTIONS, mapWithConcurrency, withRetry, type RetryDecision, type RetryHooks, type RetryOptions} from './retry.js'

/** What the adapter uses of the client: the names in kubernetes-client-names.ts, which the bundle script also reads. */
type KubernetesClient = Pick<typeof import('@kubernetes/client-node'), (typeof KUBERNETES_CLIENT_NAMES)[number]>

export const FIELD_MANAGER = 'demo-cli'
/** How long the API server keeps one watch open before ending it (it is reopened): under the client's 30 s inactivity deadline. */
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
  /** Namespaces per page when listing (default 100). */
  listPageSize?: number
  retry?: Partial<RetryOptions>
  retryHooks?: RetryHooks
}

export interface Clients {
  /** A manifest as the typed model the client's serializer expects (see typedObject). */
  typed: (manifest: Manifest) => KubernetesObject
  /** The kubeconfig as last loaded (credentials.ts loads it again after a 401). */
  readonly kubeConfig: KubeConfig
  core: CoreV1Api
  apps: AppsV1Api
  authentication: AuthenticationV1Api
  authorization: AuthorizationV1Api
  objects: KubernetesObjectApi
  serverSideApply: PatchStrategy
  /** A Watch on the credentials as they are now (they may have been loaded again since the last one). */
  watch: () => KubernetesWatch
  /**
   * One request as plain JSON, with the clients' credentials, deadline and connection pool: the body goes as
   * written and the answer comes back parsed, never through the client's typed model. A status outside 2xx
   * throws an error with the status as `code` and the body as `body`, as the client's ApiException (api-errors.ts).
   */
  send: (request: RawRequest) => Promise<unknown>
}

export interface RawRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** The path under the server, e.g. /apis/apps/v1/namespaces/x/deployments/y. */
  path: string
  query?: Record<string, string>
  body?: unknown
  contentType?: string
}

/** An answer outside 2xx to a RawRequest; api-errors.ts reads `code`, `body` and `headers` as it does of ApiException. */
export class KubernetesApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${code}`)
    this.name = 'KubernetesApiError'
  }
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
 * Connects to the cluster of a kubeconfig context. Imports @kubernetes/client-node only now (it costs
 * ~0.6 s), so commands that never touch the cluster do not pay for it. Throws UsageError for a missing
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
  const fetchLibrary = k8s.createConfiguration().httpApi
  const http = reloadingOnUnauthorized({send: (context) => fetchLibrary.send(context).toPromise()}, credentials, timeoutMs)
  // Every request gets its own deadline; undici aborts the connection and the body read at it.
  const prepare = (context: RequestContext): RequestContext => {
    context.setSignal(AbortSignal.timeout(timeoutMs))
    context.setHeaderParam('User-Agent', 'demo-cli')
    return context
  }
  const baseServer = new k8s.ServerConfiguration(server, {})
  const configuration = k8s.createConfiguration({
    baseServer,
    authMethods: {default: credentials},
    httpApi: k8s.wrapHttpLibrary(http),
    promiseMiddleware: [{pre: (context) => Promise.resolve(prepare(context)), post: (response) => Promise.resolve(response)}],
  })
  const clients: Clients = {
    typed: (manifest) => typedObject(k8s, manifest),
    get kubeConfig() {
      return credentials.kubeConfig
    },
    core: new k8s.CoreV1Api(configuration),
    apps: new k8s.AppsV1Api(configuration),
    authentication: new k8s.AuthenticationV1Api(configuration),
    authorization: new k8s.AuthorizationV1Api(configuration),
    objects: new k8s.KubernetesObjectApi(configuration),
    serverSideApply: k8s.PatchStrategy.ServerSideApply,
    // A watch authenticates with the credentials as they are when it opens (a relist after a 401 loads them again).
    watch: () => new k8s.Watch(credentials.kubeConfig),
    send: rawSender(baseServer, credentials, (context) => http.send(prepare(context))),
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

/** Clients['send'] over the clients' own plumbing: `send` applies the deadline and resends once after a 401. */
function rawSender(
  baseServer: ServerConfiguration<Record<string, string>>,
  credentials: ReloadableCredentials,
  send: (context: RequestContext) => Promise<ResponseContext>,
): (request: RawRequest) => Promise<unknown> {
  return async (request) => {
    const context = baseServer.makeRequestContext(request.path, request.method)
    context.setHeaderParam('Accept', 'application/json')
    for (const [name, value] of Object.entries(request.query ?? {})) context.setQueryParam(name, value)
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json')
      context.setBody(JSON.stringify(request.body))
    }
    await credentials.applySecurityAuthentication(context)
    const response = await send(context)
    const text = await response.body.text()
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) throw new KubernetesApiError(response.httpStatusCode, text, response.headers)
    return text === '' ? undefined : (JSON.parse(text) as unknown)
  }
}

/**
 * The built CLI has @kubernetes/client-node as one bundle, dist/vendor/kubernetes-client.js
 * (scripts/bundle-kubernetes-client.mjs): it loads in about half the time of the package's ~1,000 modules.
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

/**
 * The client's serializer writes only the fields its model of a kind knows, under their wire names: given a
 * plain manifest, it silently drops fields whose TypeScript name differs (`from` of a NetworkPolicy rule is
 * `_from`, `default` of a LimitRange is `_default`, `exec` of a probe is `_exec`), which once turned
 * "allow from the ingress controller" into "allow from everywhere". So a manifest is loaded into the typed
 * model first, and the round trip is checked: a field the client does not know is an error, never dropped.
 */
function typedObject(k8s: KubernetesClient, manifest: Manifest): KubernetesObject {
  const typed = k8s.loadYaml<KubernetesObject>(JSON.stringify(manifest))
  const wire = loadYamlText(k8s.dumpYaml(typed))
  const lost = firstDifference(manifest, wire, '')
  if (lost !== undefined) {
    throw new ClusterError(`Cannot send ${describe(manifest)}: the Kubernetes client would not send field "${lost}" as written.`, {
      hint: 'Check the field name and its place in the template against the Kubernetes API reference of this kind.',
    })
  }
  return typed
}

/** The path of the first value of `expected` that `actual` lacks or holds differently; undefined when equal. */
function firstDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object'
  if (!isObject(expected) || !isObject(actual)) return isDeepStrictEqual(expected, actual) ? undefined : path || '(root)'
  for (const [key, value] of Object.entries(expected)) {
    const found = firstDifference(value, actual[key], path ? `${path}.${key}` : key)
    if (found !== undefined) return found
  }
  return undefined
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
    const kubeSystem = await this.request('Cannot read namespace "kube-system" (the cluster\'s identity)', () =>
      this.clients.core.readNamespace({name: 'kube-system'}),
    )
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
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: {resourceAttributes: {verb: permission.verb, resource: permission.resource, group: permission.group}},
    }
    try {
      const answer = (await this.clients.objects.create(review)) as {status?: {allowed?: boolean}}
      return answer.status?.allowed === true
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
      await this.clients.objects.read({apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: {name}})
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
    const body = this.clients.typed(namespace) as V1Namespace
    const created = await this.requestOr(
      `Cannot create namespace "${name}"`,
      () => this.clients.core.createNamespace({body, fieldManager: FIELD_MANAGER}),
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
    const [deployments, replicaSets, pods, events] = await Promise.all([
      this.request(what, () => this.clients.apps.listNamespacedDeployment({namespace})),
      this.request(what, () => this.clients.apps.listNamespacedReplicaSet({namespace})),
      this.request(what, () => this.clients.core.listNamespacedPod({namespace})),
      this.request(what, () => this.clients.core.listNamespacedEvent({namespace, fieldSelector: 'type=Warning'})),
    ])
    return describeDeployments({deployments: deployments.items, replicaSets: replicaSets.items, pods: pods.items, events: events.items})
  }

  watchDeployments(namespace: string, signal: AbortSignal): Watch<DeploymentState[]> {
    const what = `Cannot watch the Deployments of namespace "${namespace}"`
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`
    const source = this.watchSource<V1Deployment>(path, {}, () => this.listRaw<V1Deployment>(what, path))
    return new ListWatch(source, (deployments) => describeDeployments({deployments, replicaSets: [], pods: [], events: []}), signal)
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
      () => this.clients.core.deleteNamespace({name, propagationPolicy: 'Background', body: {preconditions: {uid: existing.metadata?.uid}}}),
      404,
      null,
    )
    return deleted !== null
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
    const body = this.clients.typed({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {name: owner.namespace, annotations: movedExpiry(existing.metadata?.annotations ?? {}, expiresAt)},
    })
    await this.request(`Cannot update the expiry of namespace "${owner.namespace}"`, () =>
      this.clients.objects.patch(body, undefined, undefined, EXPIRY_FIELD_MANAGER, true, this.clients.serverSideApply),
    )
    return true
  }

  async secretValues(owner: Ownership, name: string): Promise<Record<string, string> | null> {
    const existing = await this.readNamespace(owner.namespace)
    if (!existing) return null
    this.assertOurs(existing, owner, 'read a Secret of')
    const secret = await this.requestOr(
      `Cannot read Secret "${name}" of namespace "${owner.namespace}"`,
      () => this.clients.core.readNamespacedSecret({name, namespace: owner.namespace}),
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
      const page = await this.request('Cannot list the namespaces managed by demo-cli', () =>
        this.clients.core.listNamespace({labelSelector: MANAGED_SELECTOR, limit: this.settings.listPageSize, _continue: token}),
      )
      found.push(...page.items)
      token = page.metadata?._continue || undefined
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
    return reviewSelf((what, call) => this.request(what, call), this.clients.authentication)
  }

  async missingPermissions(objects: Manifest[], namespace: string): Promise<string[]> {
    const resources = new Map<string, string | undefined>()
    await this.readDiscovery(objects)
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      const key = `${object.apiVersion} ${object.kind}`
      if (!resources.has(key)) resources.set(key, (await this.lookUpKind(object))?.name)
    }
    const checks = accessChecksFor(objects, namespace, (o) => resources.get(`${o.apiVersion} ${o.kind}`))
    const denied = await deniedAccess((what, call) => this.request(what, call), this.clients.authorization, checks)
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
          contentType: 'application/apply-patch+yaml',
        }),
      decide,
    )
  }

  /** The URL path of an object, from API discovery (cached), as the client builds it. */
  private async pathOf(object: Manifest): Promise<string> {
    const resource = await this.lookUpKind(object)
    if (!resource) throw new ClusterError(`The cluster does not serve kind ${object.kind} in ${object.apiVersion} (${describe(object)}).`)
    const parts = [object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`]
    if (resource.namespaced) parts.push('namespaces', encodeURIComponent(object.metadata.namespace ?? ''))
    parts.push(resource.name, encodeURIComponent(object.metadata.name))
    return parts.join('/')
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
   * newer release) and for callers other than the renderer. It asks the cluster rather than keep a second list.
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

  /** Reads discovery of each group version of `objects` once and side by side, so that lookUpKind answers from the client's cache. */
  private async readDiscovery(objects: Manifest[]): Promise<void> {
    await Promise.all([...new Map(objects.map((o) => [o.apiVersion, o])).values()].map((object) => this.lookUpKind(object)))
  }

  /** The kind's resource from API discovery (cached by the client); undefined when the cluster does not serve it. */
  private lookUpKind(object: Manifest): Promise<V1APIResource | undefined> {
    // resource() is protected in the typings but is the library's own cached discovery lookup.
    const discovery = this.clients.objects as unknown as {resource(apiVersion: string, kind: string): Promise<V1APIResource | undefined>}
    return this.request(`Cannot look up kind ${object.kind} (${object.apiVersion})`, () => discovery.resource(object.apiVersion, object.kind))
  }

  private async readNamespace(name: string): Promise<V1Namespace | null> {
    return this.requestOr(`Cannot read namespace "${name}"`, () => this.clients.core.readNamespace({name}), 404, null)
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
   * The client's Watch on `path` from a resourceVersion. The server ends each watch after WATCH_TIMEOUT_S, before
   * the client's 30 s inactivity deadline would abort it as a failure; ListWatch then reopens it where it stopped.
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
   * as strings (the typed model would make them Dates), no typed model built for each item.
   */
  private async listRaw<O>(what: string, path: string): Promise<{items: O[]; resourceVersion: string}> {
    const list = (await this.request(what, () => this.clients.send({method: 'GET', path}))) as {items?: O[]; metadata?: {resourceVersion?: string}}
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
