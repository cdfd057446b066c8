import type {Manifest} from '../../core/ports.js'
import {httpStatusOf} from './api-errors.js'
import {mapWithConcurrency} from './retry.js'
import type {Send} from './rest.js'
import type {Requester} from './who-am-i.js'

/**
 * Whether the caller may do what `attributes` say (`kubectl auth can-i`): one SelfSubjectAccessReview. Throws what
 * `send` throws.
 */
export async function reviewAccess(
  send: Send,
  attributes: {verb: string; group: string; resource: string; namespace?: string | undefined},
): Promise<boolean> {
  const review = (await send({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    body: {apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {resourceAttributes: attributes}},
  })) as {status?: {allowed?: boolean}}
  return review.status?.allowed === true
}

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

/** A rule of a SelfSubjectRulesReview's answer (RBAC's PolicyRule, as the authorizer lists it). */
export interface ResourceRule {
  verbs: string[]
  apiGroups?: string[] | undefined
  resources?: string[] | undefined
  resourceNames?: string[] | undefined
}

/**
 * Whether one of `rules` grants `check`, as RBAC matches a request: "*" matches any verb, group or resource. A
 * rule limited to resourceNames is not counted: create and list are never limited by name, and a create's
 * patch of a named object is not worth the guess.
 */
export function rulesAllow(rules: readonly ResourceRule[], check: AccessCheck): boolean {
  const has = (values: readonly string[] | undefined, value: string) => (values ?? []).some((v) => v === '*' || v === value)
  return rules.some(
    (rule) =>
      (rule.resourceNames ?? []).length === 0 &&
      has(rule.verbs, check.verb) &&
      has(rule.apiGroups, check.group) &&
      has(rule.resources, check.resource),
  )
}

/** SelfSubjectAccessReviews in flight at once when rules cannot answer: a create must not flood a server that limits it (APF, T9). */
const ACCESS_REVIEWS_AT_ONCE = 4

/**
 * The checks the API server denies these credentials. One SelfSubjectRulesReview of the namespace (`kubectl auth
 * can-i --list`) answers them all: its rules are grants the authorizer holds, which include the cluster-wide ones
 * for namespaces. What those rules do not grant is asked one check at a time (SelfSubjectAccessReview, `kubectl
 * auth can-i`), which is authoritative where the rules review is not: an authorizer that cannot list its rules
 * (a webhook) marks the answer incomplete. A cluster that does not let the credentials ask (403/404) yields
 * none: the writes themselves are then refused with 403. It used to be 22 access reviews at once per create.
 */
export async function deniedAccess(request: Requester, send: Send, checks: AccessCheck[]): Promise<AccessCheck[]> {
  const namespace = checks.find((check) => check.namespace !== undefined)?.namespace ?? 'default'
  const rules = await request(`Cannot ask the cluster what you may do in namespace "${namespace}"`, () =>
    send({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      body: {apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: {namespace}},
    }),
  ).then(
    (review) => (review as {status?: {resourceRules?: ResourceRule[]}}).status?.resourceRules ?? [],
    (error: unknown) => {
      const status = httpStatusOf(error instanceof Error ? error.cause : undefined)
      if (status === 403 || status === 404) return []
      throw error
    },
  )
  const unanswered = checks.filter((check) => !rulesAllow(rules, check))
  const answers = await mapWithConcurrency(unanswered, ACCESS_REVIEWS_AT_ONCE, async (check) => {
    try {
      const allowed = await request(`Cannot ask the cluster whether you may ${describeAccess(check)}`, () =>
        reviewAccess(send, {verb: check.verb, group: check.group, resource: check.resource, namespace: check.namespace}),
      )
      return allowed ? undefined : check
    } catch (error) {
      const status = httpStatusOf(error instanceof Error ? error.cause : undefined)
      if (status === 403 || status === 404) return undefined
      throw error
    }
  })
  return answers.filter((check): check is AccessCheck => check !== undefined)
}
