import {formatDuration} from './duration.js'
import {CancelledError, ClusterError, TimeoutError} from './errors.js'
import type {Clock, Cluster, DeploymentState, Watch} from './ports.js'

interface WaitDeps {
  cluster: Pick<Cluster, 'deployments' | 'namespaceStatus' | 'watchDeployments' | 'watchNamespace'>
  clock: Clock
  signal: AbortSignal
}

/**
 * Reasons that do not go away by waiting: a quota that rejects pods, an image that cannot be pulled, a
 * container that keeps crashing. Seen for FATAL_AFTER_MS in a row, they end the wait early with the reason
 * instead of burning the whole timeout. ("status unknown for quota" is transient and not matched.)
 */
const FATAL_REASON = /exceeded quota|is forbidden|ErrImagePull|ImagePullBackOff|InvalidImageName|CrashLoopBackOff|CreateContainerConfigError/i
export const FATAL_AFTER_MS = 15_000

/**
 * The waits watch (Cluster.watchDeployments / watchNamespace) and read the full state only when the watch has
 * been quiet this long since its last news or the last full read (and at least every 2 × MAX_RESYNC_MS, should it
 * never be quiet): a deployment that has not progressed for RESYNC_MS is the one whose pods, ReplicaSets and
 * events are worth reading (quota, image pull, crash loop), and the read is also the fallback should the watch
 * miss a change. `kubectl wait` watches the same way.
 */
export const RESYNC_MS = 2_000
/**
 * While a readiness wait stays quiet, its resync interval doubles up to this (and drops back to RESYNC_MS on
 * news): a create that waits a minute on a loaded cluster reads pods and events ~9 times, not ~30.
 */
export const MAX_RESYNC_MS = 8_000

export function cancelledError(signal: AbortSignal, cause?: unknown): CancelledError {
  const reason: unknown = signal.reason
  const why = reason instanceof Error ? reason.message : 'interrupted'
  return new CancelledError(`Cancelled: ${why}.`, {cause})
}

/** The watch's next news, or after `maxWaitMs` none; CancelledError when the signal aborts. */
async function news<T>(deps: WaitDeps, watch: Watch<T>, maxWaitMs: number): Promise<{changed: boolean; value: T}> {
  try {
    return await watch.next(Math.max(0, maxWaitMs))
  } catch (error) {
    if (deps.signal.aborted) throw cancelledError(deps.signal, error)
    throw error
  }
}

function describeWaiting(states: DeploymentState[]): string {
  return states.map((s) => `${s.name} (${s.reason ?? `${s.available}/${s.desired} available`})`).join(', ')
}

/** The deployments not available yet: those with a reason, and each expected one the namespace does not have. */
function waitingOf(states: DeploymentState[], expected: readonly string[]): DeploymentState[] {
  return [...states.filter((s) => s.reason !== null), ...missingAsStates(expected, states)]
}

function missingAsStates(names: readonly string[], states: DeploymentState[]): DeploymentState[] {
  const present = new Set(states.map((s) => s.name))
  return names.filter((n) => !present.has(n)).map((name) => ({name, desired: 0, ready: 0, available: 0, reason: 'not found in the namespace'}))
}

/** Tracks how long each deployment has shown a fatal reason; returns the one past the grace period, if any. */
function fatalPastGrace(waiting: DeploymentState[], firstSeen: Map<string, number>, now: number): DeploymentState | undefined {
  for (const state of waiting) {
    if (!state.reason || !FATAL_REASON.test(state.reason)) firstSeen.delete(state.name)
    else if (!firstSeen.has(state.name)) firstSeen.set(state.name, now)
  }
  return waiting.find((s) => now - (firstSeen.get(s.name) ?? now) >= FATAL_AFTER_MS)
}

function fatalError(namespace: string, fatal: DeploymentState): ClusterError {
  return new ClusterError(`Deployment ${fatal.name} in namespace ${namespace} cannot become Available: ${fatal.reason}.`, {
    hint: 'Fix the cause (quota, image, crash) in demo.config.yaml or the templates.',
  })
}

function readyTimeout(target: {namespace: string; timeoutMs: number}, waiting: DeploymentState[]): TimeoutError {
  return new TimeoutError(
    `Timed out after ${formatDuration(target.timeoutMs)} waiting for deployments in namespace ${target.namespace}: ${describeWaiting(waiting)}.`,
    {hint: 'Raise --wait-timeout if it is just slow.'},
  )
}

/** The resync interval after an answer: back to RESYNC_MS on news, doubled up to MAX_RESYNC_MS while quiet. */
function nextResync(changed: boolean, resyncMs: number): number {
  return changed ? RESYNC_MS : Math.min(2 * resyncMs, MAX_RESYNC_MS)
}

/**
 * Whether pods, ReplicaSets and events could tell more about these waiting deployments than their own objects do:
 * one has pods that are not ready (an image that cannot be pulled, a crash loop, a pod nobody can schedule), a
 * condition that may end the wait (a ReplicaSet refused by a quota, which the deployment's ReplicaFailure condition
 * repeats), or counts the adapter did not report. Otherwise every pod a deployment has is ready and its controllers
 * have yet to create the rest: on a cluster whose controller manager is busy (20 creates at once on the test bed)
 * that is most of a create's quiet spells, and reading four lists at each only loaded the API server those
 * controllers share (3.6 full reads, 15 of a create's 49 requests).
 */
function podsCouldTell(waiting: DeploymentState[]): boolean {
  return waiting.some((s) => s.pods === undefined || s.pods > s.ready || FATAL_REASON.test(s.reason ?? ''))
}

/**
 * A full read (pods, ReplicaSets, events) when the watch was quiet and the pods could tell why, at the deadline,
 * or when the watch went 2 × MAX_RESYNC_MS without one (the fallback should it have missed a change).
 */
function isFullReadDue(seen: {changed: boolean; waiting: DeploymentState[]}, timedOut: boolean, sinceFullMs: number): boolean {
  return (!seen.changed && podsCouldTell(seen.waiting)) || timedOut || sinceFullMs >= 2 * MAX_RESYNC_MS
}

/**
 * Watches until every Deployment of the namespace (and each expected one) is Available. Reads why a deployment
 * waits (pods, ReplicaSets, events) only once the watch has been quiet for RESYNC_MS (growing to MAX_RESYNC_MS while
 * it stays quiet) and the pods could tell (podsCouldTell), and at least every 2 × MAX_RESYNC_MS.
 * Throws TimeoutError naming each deployment still waiting and why, ClusterError early for a reason that waiting
 * cannot fix, CancelledError when the signal aborts. Closes its watch however it ends.
 */
export async function awaitReady(
  deps: WaitDeps,
  target: {namespace: string; deploymentNames: readonly string[]; timeoutMs: number},
): Promise<DeploymentState[]> {
  const started = deps.clock.now().getTime()
  const firstSeen = new Map<string, number>()
  const watch = deps.cluster.watchDeployments(target.namespace, deps.signal)
  try {
    // A quiet spell is counted from the last answer of the watch, news or not: counted from the last full read
    // alone, a watch telling progress every second still got four lists every 2 s (10 creates on a throttled
    // cluster: ~5 each).
    for (let lastFullAt = started, lastAnswerAt = started, resync = RESYNC_MS; ;) {
      const wait = Math.min(resync - (deps.clock.now().getTime() - lastAnswerAt), started + target.timeoutMs - deps.clock.now().getTime())
      const seen = await news(deps, watch, wait)
      resync = nextResync(seen.changed, resync)
      const now = (lastAnswerAt = deps.clock.now().getTime())
      const timedOut = now - started >= target.timeoutMs
      const watched = waitingOf(seen.value, target.deploymentNames)
      if (watched.length === 0) return seen.value
      if (!isFullReadDue({changed: seen.changed, waiting: watched}, timedOut, now - lastFullAt)) continue
      lastFullAt = now
      const states = await deps.cluster.deployments(target.namespace)
      const waiting = waitingOf(states, target.deploymentNames)
      if (waiting.length === 0) return states
      // Only a full read tells the real reasons; the watch's counts would reset a fatal reason's grace period.
      const fatal = fatalPastGrace(waiting, firstSeen, now)
      if (fatal) throw fatalError(target.namespace, fatal)
      if (timedOut) throw readyTimeout(target, waiting)
    }
  } finally {
    watch.close()
  }
}

/**
 * Watches until the namespace is gone. Throws TimeoutError naming what holds it: finalizers and the namespace's
 * own conditions (NamespaceFinalizersRemaining, NamespaceDeletionContentFailure ...), read when the watch has been
 * quiet for RESYNC_MS. CancelledError when the signal aborts. Closes its watch however it ends.
 */
export async function awaitNamespaceGone(deps: WaitDeps, target: {namespace: string; timeoutMs: number}): Promise<void> {
  const started = deps.clock.now().getTime()
  const watch = deps.cluster.watchNamespace(target.namespace, deps.signal)
  try {
    // The full read backs off while the watch is quiet (2 s growing to 8 s), as awaitReady's does: gc waits for
    // hundreds of namespaces at once, and reading each every 2 s loaded the API server the namespace controller needs.
    for (let resync = RESYNC_MS; ;) {
      const seen = await news(deps, watch, Math.min(resync, started + target.timeoutMs - deps.clock.now().getTime()))
      if (seen.changed && !seen.value.exists) return
      resync = nextResync(seen.changed, resync)
      const timedOut = deps.clock.now().getTime() - started >= target.timeoutMs
      if (seen.changed && !timedOut) continue
      const status = await deps.cluster.namespaceStatus(target.namespace)
      if (!status.exists) return
      if (timedOut) throw namespaceTimeout(target, status.blockers)
    }
  } finally {
    watch.close()
  }
}

function namespaceTimeout(target: {namespace: string; timeoutMs: number}, blockers: string[]): TimeoutError {
  const held = blockers.length > 0 ? `; it is held by ${blockers.join('; ')}` : ''
  return new TimeoutError(`Namespace ${target.namespace} is still terminating after ${formatDuration(target.timeoutMs)}${held}.`, {
    hint: `Run the same command again to keep waiting, or inspect with \`kubectl get namespace ${target.namespace} -o yaml\`; a finalizer whose controller is gone must be removed by hand.`,
  })
}
