import type {KubernetesObject} from '@kubernetes/client-node'
import {describeRef} from '../../core/install-gc.js'
import type {InstallTarget, Manifest, ObjectRef} from '../../core/ports.js'
import {httpStatusOf, retryDecisionFor, toClusterError} from './api-errors.js'
import {connectClients, FIELD_MANAGER, type Clients, type KubernetesClusterOptions, type Settings} from './kubernetes-cluster.js'
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
    const header = {apiVersion: ref.apiVersion, kind: ref.kind, metadata: {name: ref.name, namespace: ref.namespace}}
    const found = await this.requestOr(`Cannot read ${describeRef(ref)}`, () => this.clients.objects.read(header), [404], null)
    return found ? (found.metadata?.labels ?? {}) : undefined
  }

  async apply(object: Manifest): Promise<void> {
    const body = this.clients.typed(object)
    await this.request(`Cannot apply ${describeRef({...object, ...object.metadata})}`, () =>
      this.clients.objects.patch(body, undefined, undefined, FIELD_MANAGER, true, this.clients.serverSideApply),
    )
  }

  async find(kind: Pick<ObjectRef, 'apiVersion' | 'kind'>, selector: Record<string, string>, namespace?: string): Promise<ObjectRef[]> {
    const labelSelector = Object.entries(selector)
      .map(([key, value]) => `${key}=${value}`)
      .join(',')
    const found: KubernetesObject[] = []
    let token: string | undefined
    do {
      const page = await this.request(`Cannot list ${kind.kind} objects`, () =>
        this.clients.objects.list(kind.apiVersion, kind.kind, namespace, undefined, undefined, undefined, undefined, labelSelector, 100, token),
      )
      found.push(...page.items)
      token = page.metadata?._continue || undefined
    } while (token)
    // One already being deleted (a terminating namespace) is on its way; deleting it again would report it twice.
    return found
      .filter((o) => o.metadata?.deletionTimestamp === undefined)
      .map((o) => ({apiVersion: kind.apiVersion, kind: kind.kind, name: o.metadata?.name ?? '', namespace: o.metadata?.namespace}))
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    const spec = {apiVersion: ref.apiVersion, kind: ref.kind, metadata: {name: ref.name, namespace: ref.namespace}}
    const deleted = await this.requestOr(
      `Cannot delete ${describeRef(ref)}`,
      () => this.clients.objects.delete(spec, undefined, undefined, undefined, undefined, 'Background'),
      [404],
      null,
    )
    return deleted !== null
  }

  async secretHasKey(namespace: string, name: string, key: string): Promise<boolean | undefined> {
    try {
      const secret = await this.request(`Cannot read Secret "${name}" in namespace "${namespace}"`, () =>
        this.clients.core.readNamespacedSecret({name, namespace}),
      )
      return secret.data?.[key] !== undefined
    } catch (error) {
      const status = httpStatusOf((error as Error).cause)
      if (status === 404) return false
      if (status === 403) return undefined
      throw error
    }
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
