import type {CoreV1Event, V1Deployment, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'
import {byCodeUnit} from '../../core/order.js'
import type {DeploymentState, PodRestarts} from '../../core/ports.js'

/** One namespace's workloads as listed from the API server. */
export interface WorkloadListing {
  deployments: V1Deployment[]
  replicaSets: V1ReplicaSet[]
  pods: V1Pod[]
  /** Warning events of the namespace. */
  events: CoreV1Event[]
}

/** Waiting reasons that are just a pod starting, not a problem. */
const STARTING = new Set(['ContainerCreating', 'PodInitializing'])

/**
 * Readiness of every Deployment, and why it is not available yet, most specific first: a ReplicaSet that
 * cannot create pods ("exceeded quota"), a container waiting (ImagePullBackOff, CrashLoopBackOff), a pod
 * that cannot be scheduled or is not Ready, the Progressing condition, the latest Warning event.
 */
export function describeDeployments(listing: WorkloadListing): DeploymentState[] {
  return listing.deployments.map((deployment) => describeDeployment(deployment, listing)).sort((a, b) => byCodeUnit(a.name, b.name))
}

function isComplete(deployment: V1Deployment, desired: number): boolean {
  const status = deployment.status ?? {}
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0)
  return observed && (status.availableReplicas ?? 0) >= desired && (status.updatedReplicas ?? 0) >= desired
}

function describeDeployment(deployment: V1Deployment, listing: WorkloadListing): DeploymentState {
  const state = {...countsOf(deployment), ...restartsOf(podsOf(deployment, listing).pods)}
  if (isComplete(deployment, state.desired)) return {...state, reason: null}
  return {...state, reason: whyNotAvailable(deployment, listing) ?? `${state.available} of ${state.desired} replicas available`}
}

/** The deployment's ReplicaSets and their pods (by owner references, not by labels). */
function podsOf(deployment: V1Deployment, listing: WorkloadListing): {replicaSets: V1ReplicaSet[]; pods: V1Pod[]} {
  const replicaSets = listing.replicaSets.filter((rs) => isOwnedBy(rs.metadata?.ownerReferences, deployment.metadata?.uid))
  const rsUids = new Set(replicaSets.map((rs) => rs.metadata?.uid))
  return {replicaSets, pods: listing.pods.filter((pod) => pod.metadata?.ownerReferences?.some((ref) => rsUids.has(ref.uid)))}
}

/** Pods whose containers restarted: how often in all, and when one last terminated (health counts the last hour). */
function restartsOf(pods: V1Pod[]): {restarts?: PodRestarts[]} {
  const restarts = pods.flatMap((pod) => {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    const count = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0)
    if (count === 0) return []
    const times = statuses
      .map((s) => s.lastState?.terminated?.finishedAt)
      .filter((t): t is Date => t !== undefined)
      .map((t) => new Date(t).getTime())
    return [{pod: pod.metadata?.name ?? '', count, lastAt: times.length > 0 ? new Date(Math.max(...times)) : null}]
  })
  return restarts.length > 0 ? {restarts} : {}
}

function countsOf(deployment: V1Deployment): Omit<DeploymentState, 'reason'> {
  const status = deployment.status ?? {}
  return {
    name: deployment.metadata?.name ?? '',
    desired: deployment.spec?.replicas ?? 1,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
    pods: status.replicas ?? 0,
  }
}

function whyNotAvailable(deployment: V1Deployment, listing: WorkloadListing): string | undefined {
  const {replicaSets, pods} = podsOf(deployment, listing)
  const uids = new Set([deployment.metadata?.uid, ...replicaSets.map((rs) => rs.metadata?.uid), ...pods.map((p) => p.metadata?.uid)])
  return (
    replicaFailure(deployment, replicaSets) ??
    podProblem(pods) ??
    progressProblem(deployment) ??
    latestWarning(listing.events.filter((e) => uids.has(e.involvedObject.uid)))
  )
}

function isOwnedBy(refs: {uid: string}[] | undefined, uid: string | undefined): boolean {
  return uid !== undefined && (refs ?? []).some((ref) => ref.uid === uid)
}

function replicaFailure(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): string | undefined {
  const conditions = [...replicaSets.flatMap((rs) => rs.status?.conditions ?? []), ...(deployment.status?.conditions ?? [])]
  const failure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True')
  return failure ? (failure.message ?? failure.reason ?? 'ReplicaFailure') : undefined
}

function joinReason(reason: string | undefined, message: string | undefined): string {
  return [reason, message].filter(Boolean).join(': ')
}

function waitingProblem(pod: V1Pod): string | undefined {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
  const waiting = statuses.map((s) => s.state?.waiting).find((w) => w?.reason !== undefined && !STARTING.has(w.reason))
  return waiting ? `pod ${pod.metadata?.name}: ${joinReason(waiting.reason, waiting.message)}` : undefined
}

function conditionProblem(pod: V1Pod, type: 'PodScheduled' | 'Ready'): string | undefined {
  const condition = pod.status?.conditions?.find((c) => c.type === type && c.status === 'False')
  if (!condition) return undefined
  const what = type === 'Ready' ? 'is not ready' : 'is not scheduled'
  return `pod ${pod.metadata?.name} ${what}: ${joinReason(condition.reason, condition.message)}`
}

/** The most telling problem among the pods: a waiting container, then unschedulable, then not Ready. */
function podProblem(pods: V1Pod[]): string | undefined {
  const sorted = [...pods].sort((a, b) => byCodeUnit(a.metadata?.name ?? '', b.metadata?.name ?? ''))
  for (const probe of [waitingProblem, (p: V1Pod) => conditionProblem(p, 'PodScheduled'), (p: V1Pod) => conditionProblem(p, 'Ready')]) {
    const found = sorted.map((pod) => probe(pod)).find((problem) => problem !== undefined)
    if (found) return found
  }
  return undefined
}

function progressProblem(deployment: V1Deployment): string | undefined {
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False')
  return progressing ? joinReason(progressing.reason, progressing.message) : undefined
}

function eventTime(event: CoreV1Event): number {
  const at = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp
  return at ? new Date(at).getTime() : 0
}

function latestWarning(events: CoreV1Event[]): string | undefined {
  const latest = events.filter((e) => e.type === 'Warning').sort((a, b) => eventTime(b) - eventTime(a))[0]
  return latest ? joinReason(latest.reason, latest.message) : undefined
}
