import type {AuthenticatedUser} from '../../core/ports.js'
import {httpStatusOf} from './api-errors.js'
import type {Send} from './rest.js'

/** How the adapter sends a request: bounded, retried when safe, failures as ClusterError with the API error as cause. */
export type Requester = <T>(what: string, call: () => Promise<T>) => Promise<T>

/**
 * Who the API server authenticated this context's credentials as: SelfSubjectReview (authentication.k8s.io/v1,
 * GA in Kubernetes 1.28; `kubectl auth whoami`). Every authenticated user may create one (the
 * system:basic-user ClusterRole), so a 403 means a cluster that took that away, and a 404 one too old.
 */
export async function reviewSelf(request: Requester, send: Send): Promise<AuthenticatedUser> {
  try {
    const review = (await request('Cannot ask the cluster who you are (SelfSubjectReview)', () =>
      send({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: {apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview'},
      }),
    )) as {status?: {userInfo?: {username?: string}}}
    const username = review.status?.userInfo?.username
    return username ? {username} : {unavailable: 'the SelfSubjectReview named no user'}
  } catch (error) {
    const status = httpStatusOf(error instanceof Error ? error.cause : undefined)
    if (status === 404) return {unavailable: 'the cluster does not serve SelfSubjectReview (authentication.k8s.io/v1, Kubernetes 1.28 or later)'}
    if (status === 403) return {unavailable: 'the cluster does not allow these credentials a SelfSubjectReview (HTTP 403)'}
    throw error
  }
}
