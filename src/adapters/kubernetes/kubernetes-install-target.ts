import {ClusterError} from '../../core/errors.js'
import {describeRef} from '../../core/install-gc.js'
import type {InstallTarget, Manifest, ObjectRef} from '../../core/ports.js'
import {httpStatusOf, retryDecisionFor, toClusterError} from './api-errors.js'
import {connectClients, FIELD_MANAGER, type Clients, type KubernetesClusterOptions, type Settings} from './kubernetes-cluster.js'
import {APPLY_PATCH, resourcePath, type ObjectList, type ObjectMeta} from './rest.js'
import {withRetry} from './retry.js'

/** Connects to the cluster of a kubeconfig context (as connectKubernetesCluster does) for `demo gc install`. */
export async function connectInstallTarget(options: KubernetesClusterOptions = {}): Promise<KubernetesInstallTarget> {
  const {clients, settings} = await connectClients(options)
  return new KubernetesInstallTarget(clients, settings)
}

/** The InstallTarget port on the Kubernetes API, for every kind, through the generic object client, server-side apply. */
export class KubernetesInstallTarget implements InstallTarget {
  constructor(
    private readonly clients: Clients,
    private readonly settings: Settings,
  ) {}

  async labelsOf(ref: ObjectRef): Promise<Record<string, string> | undefined> {
    const path = await this.pathOf(ref, ref.namespace, ref.name)
    const found = await this.requestOr(
      `Cannot read ${describeRef(ref)}`,
      () => this.clients.send({method: 'GET', path}) as Promise<{metadata?: ObjectMeta}>,
      [404],
      null,
    )
    return found ? (found.metadata?.labels ?? {}) : undefined
  }

  async apply(object: Manifest): Promise<void> {
    const ref = {...object, ...object.metadata}
    const path = await this.pathOf(ref, object.metadata.namespace, object.metadata.name)
    await this.request(`Cannot apply ${describeRef(ref)}`, () =>
      this.clients.send({method: 'PATCH', path, query: {fieldManager: FIELD_MANAGER, force: 'true'}, body: object, contentType: APPLY_PATCH}),
    )
  }

  async find(kind: Pick<ObjectRef, 'apiVersion' | 'kind'>, selector: Record<string, string>, namespace?: string): Promise<ObjectRef[]> {
    const labelSelector = Object.entries(selector)
      .map(([key, value]) => `${key}=${value}`)
      .join(',')
    const path = await this.pathOf(kind, namespace)
    const found: {metadata?: ObjectMeta}[] = []
    let token: string | undefined
    do {
      const page = (await this.request(`Cannot list ${kind.kind} objects`, () =>
        this.clients.send({method: 'GET', path, query: {labelSelector, limit: '100', continue: token}}),
      )) as ObjectList<{metadata?: ObjectMeta}>
      found.push(...(page.items ?? []))
      token = page.metadata?.continue || undefined
    } while (token)
    // One already being deleted (a terminating namespace) is on its way; deleting it again would report it twice.
    return found
      .filter((o) => o.metadata?.deletionTimestamp === undefined)
      .map((o) => ({apiVersion: kind.apiVersion, kind: kind.kind, name: o.metadata?.name ?? '', namespace: o.metadata?.namespace}))
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    const path = await this.pathOf(ref, ref.namespace, ref.name)
    const deleted = await this.requestOr(
      `Cannot delete ${describeRef(ref)}`,
      () => this.clients.send({method: 'DELETE', path, body: {apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background'}}),
      [404],
      null,
    )
    return deleted !== null
  }

  async secretHasKey(namespace: string, name: string, key: string): Promise<boolean | undefined> {
    try {
      const secret = (await this.request(`Cannot read Secret "${name}" in namespace "${namespace}"`, () =>
        this.clients.send({method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`}),
      )) as {data?: Record<string, string>}
      return secret.data?.[key] !== undefined
    } catch (error) {
      const status = httpStatusOf((error as Error).cause)
      if (status === 404) return false
      if (status === 403) return undefined
      throw error
    }
  }

  /** The path of a kind's collection, or of one object, from API discovery; a kind the cluster does not serve is an error. */
  private async pathOf(kind: Pick<ObjectRef, 'apiVersion' | 'kind'>, namespace: string | undefined, name?: string): Promise<string> {
    const resource = await this.request(`Cannot look up kind ${kind.kind} (${kind.apiVersion})`, () =>
      this.clients.discovery.resource(kind.apiVersion, kind.kind),
    )
    if (!resource) throw new ClusterError(`The cluster does not serve kind ${kind.kind} in ${kind.apiVersion}.`)
    return resourcePath(kind.apiVersion, resource, namespace, name)
  }

  private async request<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(call, (error) => retryDecisionFor(error), this.settings.retry, this.settings.retryHooks)
    } catch (error) {
      throw toClusterError(error, {what, server: this.settings.server, timeoutMs: this.settings.timeoutMs})
    }
  }

  /** Like request, but an answer with one of `statuses` yields `fallback` instead of an error. */
  private async requestOr<T, F>(what: string, call: () => Promise<T>, statuses: number[], fallback: F): Promise<T | F> {
    try {
      return await this.request(what, call)
    } catch (error) {
      if (statuses.includes(httpStatusOf((error as Error).cause) ?? 0)) return fallback
      throw error
    }
  }
}
