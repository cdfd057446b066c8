import {formatDuration} from './duration.js'
import {CancelledError, ClusterError, TimeoutError} from './errors.js'
import type {Clock, Cluster, DeploymentState, Sleeper} from './ports.js'

interface WaitDeps {
  cluster: Pick<Cluster, 'deployments' | 'namespaceStatus'>
  clock: Clock
  sleeper: Sleeper
  signal: AbortSignal
}

/**
 * Reasons that do not go away by waiting: a quota that rejects pods, an image that cannot be pulled, a
 * container that keeps crashing. Seen for FATAL_AFTER_MS in a row, they end the wait early with the reason
 * instead of burning the whole timeout. ("status unknown for quota" is transient and not matched.)
 */
const FATAL_REASON = /exceeded quota|is forbidden|ErrImagePull|ImagePullBackOff|InvalidImageName|CrashLoopBackOff|CreateContainerConfigError/i
export const FATAL_AFTER_MS = 15_000

/** Quick polls while a fast cluster is likely to finish, then a delay that doubles up to a second. */
const QUICK_POLL_MS = 200
const QUICK_PHASE_MS = 2_000
const MAX_POLL_MS = 1_000

/** The error of a use case stopped by `signal` ("Cancelled: interrupted by SIGTERM."). */
export function cancelledError(signal: AbortSignal, cause?: unknown): CancelledError {
  const reason: unknown = signal.reason
  const why = reason instanceof Error ? reason.message : 'interrupted'
  return new CancelledError(`Cancelled: ${why}.`, {cause})
}

export function nextPollDelay(elapsedMs: number, previousMs: number): number {
  if (elapsedMs < QUICK_PHASE_MS) return QUICK_POLL_MS
  return Math.min(previousMs * 2, MAX_POLL_MS)
}

async function pause(deps: WaitDeps, ms: number): Promise<void> {
  try {
    await deps.sleeper.sleep(ms, deps.signal)
  } catch (error) {
    if (deps.signal.aborted) throw cancelledError(deps.signal, error)
    throw error
  }
}

function describeWaiting(states: DeploymentState[]): string {
  return states.map((s) => `${s.name} (${s.reason ?? `${s.available}/${s.desired} available`})`).join(', ')
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

/**
 * Polls until every Deployment of the namespace (and each expected one) is Available. Throws TimeoutError
 * naming each deployment still waiting and why, ClusterError early for a reason that waiting cannot fix,
 * CancelledError when the signal aborts.
 */
export async function awaitReady(
  deps: WaitDeps,
  target: {namespace: string; deploymentNames: readonly string[]; timeoutMs: number},
): Promise<DeploymentState[]> {
  const started = deps.clock.now().getTime()
  const firstSeen = new Map<string, number>()
  for (let delay = QUICK_POLL_MS; ; delay = nextPollDelay(deps.clock.now().getTime() - started, delay)) {
    const states = await deps.cluster.deployments(target.namespace)
    const waiting = [...states.filter((s) => s.reason !== null), ...missingAsStates(target.deploymentNames, states)]
    if (waiting.length === 0) return states
    const now = deps.clock.now().getTime()
    const fatal = fatalPastGrace(waiting, firstSeen, now)
    if (fatal) {
      throw new ClusterError(`Deployment ${fatal.name} in namespace ${target.namespace} cannot become Available: ${fatal.reason}.`, {
        hint: 'Fix the cause (quota, image, crash) in demo.config.yaml or the templates.',
      })
    }
    if (now - started >= target.timeoutMs) {
      throw new TimeoutError(
        `Timed out after ${formatDuration(target.timeoutMs)} waiting for deployments in namespace ${target.namespace}: ${describeWaiting(waiting)}.`,
        {
          hint: 'Raise --wait-timeout if it is just slow.',
        },
      )
    }
    await pause(deps, delay)
  }
}

/**
 * Polls until the namespace is gone (404). Throws TimeoutError naming what holds it: finalizers and the
 * namespace's own conditions (NamespaceFinalizersRemaining, NamespaceDeletionContentFailure ...).
 */
export async function awaitNamespaceGone(deps: WaitDeps, target: {namespace: string; timeoutMs: number}): Promise<void> {
  const started = deps.clock.now().getTime()
  for (let delay = QUICK_POLL_MS; ; delay = nextPollDelay(deps.clock.now().getTime() - started, delay)) {
    const status = await deps.cluster.namespaceStatus(target.namespace)
    if (!status.exists) return
    if (deps.clock.now().getTime() - started >= target.timeoutMs) {
      const blockers = status.blockers.length > 0 ? `; it is held by ${status.blockers.join('; ')}` : ''
      throw new TimeoutError(`Namespace ${target.namespace} is still terminating after ${formatDuration(target.timeoutMs)}${blockers}.`, {
        hint: `Run the same command again to keep waiting, or inspect with \`kubectl get namespace ${target.namespace} -o yaml\`; a finalizer whose controller is gone must be removed by hand.`,
      })
    }
    await pause(deps, delay)
  }
}
