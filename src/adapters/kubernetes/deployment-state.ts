import {isDeepStrictEqual} from 'node:util'
import type {CoreV1Event, V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet} from '@kubernetes/client-node'
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

/** The label the deployment controller adds to the pod template of each ReplicaSet it makes. */
const POD_TEMPLATE_HASH = 'pod-template-hash'

/**
 * The ReplicaSet that alone runs the deployment's current pod template, if its ReplicaSets show one: controlled by
 * the deployment, its template the deployment's but for the pod-template-hash label (the deployment controller's
 * own test), and every other ReplicaSet the deployment controls scaled to zero with no pods left. None for a paused
 * deployment.
 */
export function soleCurrentReplicaSet(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): V1ReplicaSet | undefined {
  if (deployment.spec?.paused) return undefined
  const controlled = replicaSets.filter((rs) => isControlledBy(rs.metadata?.ownerReferences, deployment.metadata?.uid))
  const current = controlled.filter((rs) => runsTemplateOf(rs, deployment))
  if (current.length !== 1) return undefined
  const others = controlled.filter((rs) => rs !== current[0])
  return others.every((rs) => (rs.spec?.replicas ?? 1) === 0 && (rs.status?.replicas ?? 0) === 0) ? current[0] : undefined
}

/**
 * Answers of sameTemplate by the two template objects compared. A watch describes every deployment again on each
 * event of the namespace, but an event replaces one object only (list-watch.ts keeps the others as they were), so
 * only the new one's templates are compared again: the deep comparison of all of them on every event was ~5 ms of
 * CPU of each create (--cpu-prof). By identity: nothing is assumed about what changed inside an object.
 */
const sameTemplateAnswers = new WeakMap<V1PodTemplateSpec, WeakMap<V1PodTemplateSpec, boolean>>()

function runsTemplateOf(rs: V1ReplicaSet, deployment: V1Deployment): boolean {
  const wanted = deployment.spec?.template
  const made = rs.spec?.template
  if (!wanted || !made) return false
  let answers = sameTemplateAnswers.get(wanted)
  if (!answers) sameTemplateAnswers.set(wanted, (answers = new WeakMap()))
  let same = answers.get(made)
  if (same === undefined) answers.set(made, (same = sameTemplate(wanted, made)))
  return same
}

function sameTemplate(wanted: V1PodTemplateSpec, made: V1PodTemplateSpec): boolean {
  const labels = Object.fromEntries(Object.entries(made.metadata?.labels ?? {}).filter(([key]) => key !== POD_TEMPLATE_HASH))
  return isDeepStrictEqual({...made, metadata: {...made.metadata, labels}}, wanted)
}

function isControlledBy(refs: {uid: string; controller?: boolean}[] | undefined, uid: string | undefined): boolean {
  return uid !== undefined && (refs ?? []).some((ref) => ref.uid === uid && ref.controller === true)
}

/** Whether the ReplicaSet controller has seen the ReplicaSet's spec, so its status counts are about that spec. */
function isObserved(rs: V1ReplicaSet): boolean {
  return (rs.status?.observedGeneration ?? 0) >= (rs.metadata?.generation ?? 1)
}

/**
 * Available by the deployment's sole current ReplicaSet (soleCurrentReplicaSet): its controller has seen it, it
 * asks for the deployment's replicas with the deployment's minReadySeconds, and that many of its pods are available.
 * The ReplicaSet controller counts them as the deployment controller would, and sooner: on a busy controller
 * manager (10 creates at once on the test bed, kube-controller-manager at its default 20 requests/s per
 * controller) the deployment controller wrote the deployment's status up to 9 s after the ReplicaSet's
 * (docs/decisions.md).
 */
function isCompleteByReplicaSet(deployment: V1Deployment, rs: V1ReplicaSet, desired: number): boolean {
  return isObserved(rs) && asksAsDeployment(rs, deployment, desired) && (rs.status?.availableReplicas ?? 0) >= desired
}

/** Whether the ReplicaSet asks for the deployment's replicas and minReadySeconds (the API's defaults: 1 and 0). */
function asksAsDeployment(rs: V1ReplicaSet, deployment: V1Deployment, desired: number): boolean {
  return (rs.spec?.replicas ?? 1) === desired && (rs.spec?.minReadySeconds ?? 0) === (deployment.spec?.minReadySeconds ?? 0)
}

function describeDeployment(deployment: V1Deployment, listing: WorkloadListing): DeploymentState {
  const current = soleCurrentReplicaSet(deployment, listing.replicaSets)
  const state = {...countsOf(deployment, current), ...restartsOf(podsOf(deployment, listing).pods)}
  const complete = isComplete(deployment, state.desired) || (current !== undefined && isCompleteByReplicaSet(deployment, current, state.desired))
  if (complete) return {...state, reason: null}
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

/** The counts from the sole current ReplicaSet once its controller has seen it (fresher), else from the deployment. */
function freshestCounts(deployment: V1Deployment, current: V1ReplicaSet | undefined): V1ReplicaSet['status'] | V1Deployment['status'] {
  return current && isObserved(current) ? current.status : deployment.status
}

function countsOf(deployment: V1Deployment, current: V1ReplicaSet | undefined): Omit<DeploymentState, 'reason'> {
  const status = freshestCounts(deployment, current) ?? {}
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
