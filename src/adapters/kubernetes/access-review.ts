import type {AuthorizationV1Api, V1APIResource} from '@kubernetes/client-node'
import type {Manifest} from '../../core/ports.js'
import {httpStatusOf} from './api-errors.js'
import type {Requester} from './who-am-i.js'

/** One permission a create needs, as `kubectl auth can-i` takes it. */
export interface AccessCheck {
  verb: string
  group: string
  resource: string
  namespace?: string | undefined
}

/** `create deployments.apps in namespace "demo-x"`: what to ask a cluster admin for. */
export function describeAccess(check: AccessCheck): string {
  const resource = check.group ? `${check.resource}.${check.group}` : check.resource
  return `${check.verb} ${resource}${check.namespace ? ` in namespace "${check.namespace}"` : ''}`
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : ''
}

/**
 * Everything a create does to the cluster, as permissions: the namespace is created, read, applied (patch) and, on
 * a rollback, deleted; every object is server-side applied, which the API server authorizes as patch and, for an
 * object that does not exist yet, also as create; and the wait lists workloads, pods and events.
 */
export function accessChecksFor(objects: Manifest[], namespace: string, resourceOf: (object: Manifest) => string | undefined): AccessCheck[] {
  const checks: AccessCheck[] = ['create', 'get', 'patch', 'delete'].map((verb) => ({verb, group: '', resource: 'namespaces'}))
  const seen = new Set<string>()
  for (const object of objects) {
    const resource = resourceOf(object)
    if (object.kind === 'Namespace' || resource === undefined || seen.has(`${object.apiVersion} ${resource}`)) continue
    seen.add(`${object.apiVersion} ${resource}`)
    for (const verb of ['create', 'patch']) checks.push({verb, group: groupOf(object.apiVersion), resource, namespace})
  }
  const reads: Array<[string, string]> = [
    ['apps', 'deployments'],
    ['apps', 'replicasets'],
    ['', 'pods'],
    ['', 'events'],
  ]
  for (const [group, resource] of reads) checks.push({verb: 'list', group, resource, namespace})
  return checks
}

/**
 * The checks the API server denies these credentials (SelfSubjectAccessReview, `kubectl auth can-i`). A cluster
 * that does not let the credentials ask (403/404) yields none: the writes themselves are then refused with 403.
 */
export async function deniedAccess(request: Requester, authorization: AuthorizationV1Api, checks: AccessCheck[]): Promise<AccessCheck[]> {
  const answers = await Promise.all(
    checks.map(async (check) => {
      try {
        const review = await request(`Cannot ask the cluster whether you may ${describeAccess(check)}`, () =>
          authorization.createSelfSubjectAccessReview({
            body: {spec: {resourceAttributes: {verb: check.verb, group: check.group, resource: check.resource, namespace: check.namespace}}},
          }),
        )
        return review.status?.allowed === true ? undefined : check
      } catch (error) {
        const status = httpStatusOf(error instanceof Error ? error.cause : undefined)
        if (status === 403 || status === 404) return undefined
        throw error
      }
    }),
  )
  return answers.filter((check): check is AccessCheck => check !== undefined)
}

/** The plural resource name of a kind, from API discovery. */
export type ResourceLookup = (apiVersion: string, kind: string) => Promise<V1APIResource | undefined>
