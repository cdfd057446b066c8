/**
 * The Kubernetes REST API as plain JSON: what the adapter sends goes as written and what comes back is the API
 * server's JSON, never the client library's typed model (which once dropped fields it did not know, and whose
 * classes cost every command a share of its start-up). transport.ts sends; @kubernetes/client-node only loads the
 * kubeconfig and authenticates (tokens, client certificates, exec plugins; credentials.ts).
 */

export interface RawRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** The path under the server, e.g. /apis/apps/v1/namespaces/x/deployments/y. */
  path: string
  query?: Record<string, string | undefined>
  body?: unknown
  contentType?: string
}

/** Sends one request; resolves to the parsed answer of a 2xx, rejects with KubernetesApiError otherwise. */
export type Send = (request: RawRequest) => Promise<unknown>

/** An answer outside 2xx; api-errors.ts reads `code`, `body` and `headers` as it did of the client's ApiException. */
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

/** Content type of a server-side apply; JSON is YAML, so the manifest goes as JSON. */
export const APPLY_PATCH = 'application/apply-patch+yaml'

/** The metadata every object has, as far as the adapter reads it. */
export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** A list answer: its items and where the next page starts. */
export interface ObjectList<O> {
  items?: O[]
  metadata?: {resourceVersion?: string; continue?: string}
}

/** A resource of API discovery (an entry of an APIResourceList). */
export interface ApiResource {
  name: string
  kind: string
  namespaced: boolean
}

/** /api/v1 for the core group, /apis/<group>/<version> for the others. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
}

/** The path of a resource's collection (no name) or of one object, namespaced when the resource is. */
export function resourcePath(apiVersion: string, resource: ApiResource, namespace: string | undefined, name?: string): string {
  const parts = [groupVersionPath(apiVersion)]
  if (resource.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace))
  parts.push(resource.name)
  if (name !== undefined) parts.push(encodeURIComponent(name))
  return parts.join('/')
}

/** A built-in kind as API discovery describes it. */
function builtIn(kind: string, name: string, namespaced = true): ApiResource {
  return {kind, name, namespaced}
}

/**
 * Kinds of Kubernetes' own GA API groups, with the resource name and scope API discovery gives them: fixed since
 * each group went GA (the newest here, autoscaling/v2, in 1.23), and checked against the test bed's discovery by
 * test/integration/kubernetes/discovery.test.ts. Discovery answers these without asking: that was three GETs at the
 * start of every create, each on a connection and TLS handshake of its own (kubectl caches discovery on disk for
 * the same reason). A cluster that turns such a group off answers the object's own request with 404, which says so.
 */
export const BUILT_IN_KINDS: ReadonlyMap<string, readonly ApiResource[]> = new Map(
  Object.entries({
    v1: [
      builtIn('ConfigMap', 'configmaps'),
      builtIn('Secret', 'secrets'),
      builtIn('Service', 'services'),
      builtIn('ServiceAccount', 'serviceaccounts'),
      builtIn('ResourceQuota', 'resourcequotas'),
      builtIn('LimitRange', 'limitranges'),
      builtIn('PersistentVolumeClaim', 'persistentvolumeclaims'),
      builtIn('Pod', 'pods'),
      builtIn('Namespace', 'namespaces', false),
    ],
    'apps/v1': [
      builtIn('Deployment', 'deployments'),
      builtIn('StatefulSet', 'statefulsets'),
      builtIn('DaemonSet', 'daemonsets'),
      builtIn('ReplicaSet', 'replicasets'),
    ],
    'batch/v1': [builtIn('Job', 'jobs'), builtIn('CronJob', 'cronjobs')],
    'networking.k8s.io/v1': [
      builtIn('Ingress', 'ingresses'),
      builtIn('NetworkPolicy', 'networkpolicies'),
      builtIn('IngressClass', 'ingressclasses', false),
    ],
    'policy/v1': [builtIn('PodDisruptionBudget', 'poddisruptionbudgets')],
    'autoscaling/v2': [builtIn('HorizontalPodAutoscaler', 'horizontalpodautoscalers')],
    'rbac.authorization.k8s.io/v1': [
      builtIn('Role', 'roles'),
      builtIn('RoleBinding', 'rolebindings'),
      builtIn('ClusterRole', 'clusterroles', false),
      builtIn('ClusterRoleBinding', 'clusterrolebindings', false),
    ],
  }),
)

/**
 * API discovery: a built-in kind from BUILT_IN_KINDS, any other by one GET per group version, cached. A kind
 * missing from a cached list is looked up once more (a CRD installed since); a group version the server does not
 * serve (404) has no kinds.
 */
export class Discovery {
  private readonly lists = new Map<string, Promise<ApiResource[] | undefined>>()

  constructor(private readonly send: Send) {}

  async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    const known = BUILT_IN_KINDS.get(apiVersion)?.find((r) => r.kind === kind)
    if (known) return known
    const cached = this.lists.get(apiVersion)
    const found = cached ? (await cached)?.find((r) => r.kind === kind) : undefined
    if (found) return found
    const fresh = this.read(apiVersion)
    this.lists.set(apiVersion, fresh)
    try {
      return (await fresh)?.find((r) => r.kind === kind)
    } catch (error) {
      if (this.lists.get(apiVersion) === fresh) this.lists.delete(apiVersion)
      throw error
    }
  }

  private async read(apiVersion: string): Promise<ApiResource[] | undefined> {
    try {
      const list = (await this.send({method: 'GET', path: groupVersionPath(apiVersion)})) as {resources?: ApiResource[]}
      // Subresources (deployments/status) share their parent's kind; only the resource itself is wanted.
      return (list.resources ?? []).filter((r) => !r.name.includes('/'))
    } catch (error) {
      if (error instanceof KubernetesApiError && error.code === 404) return undefined
      throw error
    }
  }
}
