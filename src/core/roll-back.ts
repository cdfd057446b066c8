import {awaitNamespaceGone} from './await-ready.js'
import type {Demo} from './demo.js'
import {CreateFailedError, DemoError, ExitCode} from './errors.js'
import type {Clock, Cluster, Databases, DemoStore, Sleeper} from './ports.js'

/** How long a rollback waits for the namespace to be gone before it reports it as left behind. */
export const ROLLBACK_WAIT_MS = 120_000

interface RollBackDeps {
  store: DemoStore
  cluster: Cluster
  databases: Databases
  clock: Clock
  sleeper: Sleeper
}

interface Failure {
  demo: Demo
  error: unknown
  timings: Record<string, number>
  /** --keep-on-failure: leave the namespace and database for debugging. */
  keep: boolean
  actor: string
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Removes the namespace (waiting until it is gone) and the database; returns why it could not, or null. */
async function cleanUp(deps: RollBackDeps, demo: Demo): Promise<string | null> {
  // Rollback must run even after Ctrl-C, so it waits on a signal of its own, never the aborted one.
  const waitDeps = {...deps, signal: new AbortController().signal}
  try {
    const deleted = await deps.cluster.deleteNamespace({demoId: demo.id, namespace: demo.namespace})
    if (deleted) await awaitNamespaceGone(waitDeps, {namespace: demo.namespace, timeoutMs: ROLLBACK_WAIT_MS})
    await deps.databases.drop(demo)
    return null
  } catch (error) {
    return messageOf(error)
  }
}

/** Marks the row failed if it is still `creating` (someone may be destroying it already). Returns a problem, or null. */
async function markFailed(deps: RollBackDeps, failure: Failure, outcome: {reason: string; cleanup: 'done' | 'kept' | 'incomplete'}): Promise<string | null> {
  try {
    const latest = await deps.store.get(failure.demo.id)
    if (!latest || latest.status !== 'creating') return null
    const now = deps.clock.now()
    await deps.store.update(
      latest.id,
      latest.version,
      {status: 'failed', lastError: outcome.reason, phaseTimings: {...failure.timings}, metadata: {...latest.metadata, cleanup: outcome.cleanup}},
      {demoId: latest.id, type: outcome.cleanup === 'done' ? 'rolled-back' : 'failed', at: now, actor: failure.actor, data: {reason: outcome.reason, cleanup: outcome.cleanup}},
    )
    return null
  } catch (error) {
    return messageOf(error)
  }
}

function leftBehind(demo: Demo, cleanup: 'done' | 'kept' | 'incomplete', problem: string | null): {text: string; hint: string} {
  if (cleanup === 'kept') {
    return {
      text: `Kept namespace ${demo.namespace} for debugging (--keep-on-failure); the demo is marked failed.`,
      hint: `Inspect with \`kubectl -n ${demo.namespace} get pods,events\`; remove it with \`demo destroy ${demo.id}\`.`,
    }
  }
  if (cleanup === 'done') return {text: `Rolled back: namespace ${demo.namespace} and the database are gone; the demo is marked failed.`, hint: ''}
  return {
    text: `Rollback incomplete (${problem ?? 'unknown'}): namespace ${demo.namespace} may remain; the demo is marked failed.`,
    hint: `When the cluster answers again, run \`demo destroy ${demo.id}\` to finish the cleanup.`,
  }
}

/**
 * After a failed or cancelled create: cleans up (unless kept), records `failed` with the reason, and returns
 * the error to show: the cause's message and exit code, plus what is left behind and what to run next.
 */
export async function rollBack(deps: RollBackDeps, failure: Failure): Promise<DemoError> {
  const reason = messageOf(failure.error)
  const cleanupProblem = failure.keep ? null : await cleanUp(deps, failure.demo)
  const cleanup = failure.keep ? 'kept' : cleanupProblem === null ? 'done' : 'incomplete'
  const storeProblem = await markFailed(deps, failure, {reason, cleanup})
  const left = leftBehind(failure.demo, cleanup, cleanupProblem)
  const stateNote = storeProblem ? ` Recording the failure in the state store failed too (${storeProblem}); run \`demo destroy ${failure.demo.id}\` later.` : ''
  return failedError(failure.error, `${reason} ${left.text}${stateNote}`, left.hint)
}

/** The error to show: the cause's code, exit code and hint, with what is left behind. */
function failedError(error: unknown, message: string, extraHint: string): DemoError {
  const cause = error instanceof DemoError ? error : undefined
  const hint = [cause?.hint, extraHint].filter(Boolean).join(' ')
  return new CreateFailedError(message, {code: cause?.code ?? 'E_CREATE_FAILED', exitCode: cause?.exitCode ?? ExitCode.failed, hint: hint || undefined, cause: error})
}
