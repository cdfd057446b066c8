import {awaitNamespaceGone} from './await-ready.js'
import type {Demo, DemoStatus} from './demo.js'
import {CancelledError, ClusterAuthError, CreateFailedError, DemoError, ForeignNamespaceError, StoreUnavailableError} from './errors.js'
import type {Clock, Cluster, DatabasesFor, DemoStore, Sleeper, StepRunner} from './ports.js'

/** How long a rollback waits for the namespace to be gone before it reports it as left behind. */
export const ROLLBACK_WAIT_MS = 120_000

interface RollBackDeps {
  store: DemoStore
  cluster: Cluster
  /** The database is dropped with the adapter of the mode the row records. */
  databasesFor: DatabasesFor
  clock: Clock
  sleeper: Sleeper
  /** The rollback shows its own steps: deleting a namespace takes seconds, and silence looks like a hang. */
  steps: StepRunner
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

/** Carries a rollback step's outcome through the step runner when it is a problem, so the step shows as failed. */
class StepProblem<T> extends Error {
  constructor(
    message: string,
    readonly outcome: T,
  ) {
    super(message)
  }
}

/**
 * Runs a rollback step that reports problems as values (it never throws), and shows it failed (✖ with the problem)
 * when `problemOf` finds one, rather than ✔ next to a namespace that may remain or a row that was not recorded.
 */
async function honestStep<T>(deps: RollBackDeps, title: string, run: () => Promise<T>, problemOf: (outcome: T) => string | null): Promise<T> {
  try {
    return await deps.steps.run(title, async () => {
      const outcome = await run()
      const problem = problemOf(outcome)
      if (problem !== null) throw new StepProblem(problem, outcome)
      return outcome
    })
  } catch (error) {
    if (error instanceof StepProblem) return (error as StepProblem<T>).outcome
    throw error
  }
}

/** Removes the namespace (waiting until it is gone) and the database; returns why it could not, or null. */
async function cleanUp(deps: RollBackDeps, demo: Demo): Promise<string | null> {
  const same = (problem: string | null) => problem
  const namespace = await honestStep(deps, `Roll back: delete namespace ${demo.namespace}`, () => removeNamespace(deps, demo), same)
  const database = await honestStep(deps, `Roll back: drop the database (${demo.database.mode})`, () => dropDatabase(deps, demo), same)
  const problems = [namespace, database].filter((p): p is string => p !== null)
  return problems.length > 0 ? problems.join('; ') : null
}

async function removeNamespace(deps: RollBackDeps, demo: Demo): Promise<string | null> {
  // Rollback must run even after Ctrl-C, so it waits on a signal of its own, never the aborted one.
  const waitDeps = {...deps, signal: new AbortController().signal}
  try {
    const deleted = await deps.cluster.deleteNamespace({demoId: demo.id, namespace: demo.namespace})
    if (deleted) await awaitNamespaceGone(waitDeps, {namespace: demo.namespace, timeoutMs: ROLLBACK_WAIT_MS})
    return null
  } catch (error) {
    // A namespace of that name without our marks was never ours (create refused it): nothing of ours to remove.
    if (error instanceof ForeignNamespaceError) return null
    return messageOf(error)
  }
}

/**
 * Dropped even when the namespace could not be removed, so a database is never left behind for that reason.
 * A mode without an adapter is a problem reported like any other (cleanup incomplete), never a silent skip.
 */
async function dropDatabase(deps: RollBackDeps, demo: Demo): Promise<string | null> {
  try {
    const databases = await deps.databasesFor(demo.database.mode, demo.database)
    await databases.drop(demo)
    return null
  } catch (error) {
    return messageOf(error)
  }
}

/** What recording the failure did to the row: marked it failed, found it changed by someone else, or failed itself. */
type RowOutcome = {kind: 'marked'} | {kind: 'left'; status: DemoStatus | 'gone'} | {kind: 'problem'; problem: unknown}

/** Marks the row failed if it is still `creating`; a row someone else moved on (a destroy racing the create) is left as it is. */
async function markFailed(
  deps: RollBackDeps,
  failure: Failure,
  outcome: {reason: string; cleanup: 'done' | 'kept' | 'incomplete'},
): Promise<RowOutcome> {
  try {
    const latest = await deps.store.get(failure.demo.id)
    if (!latest) return {kind: 'left', status: 'gone'}
    if (latest.status !== 'creating') return {kind: 'left', status: latest.status}
    const now = deps.clock.now()
    await deps.store.update(
      latest.id,
      latest.version,
      {status: 'failed', lastError: outcome.reason, phaseTimings: {...failure.timings}, metadata: {...latest.metadata, cleanup: outcome.cleanup}},
      {
        demoId: latest.id,
        type: outcome.cleanup === 'done' ? 'rolled-back' : 'failed',
        at: now,
        actor: failure.actor,
        data: {reason: outcome.reason, cleanup: outcome.cleanup},
      },
    )
    return {kind: 'marked'}
  } catch (error) {
    return {kind: 'problem', problem: error}
  }
}

/** How the row ended up, for the message: only a row this rollback marked is "marked failed". */
function rowNote(demo: Demo, row: RowOutcome): string {
  if (row.kind === 'left')
    return row.status === 'gone' ? 'its row is gone from the state store' : `the demo was left ${row.status} by another command`
  if (row.kind === 'problem') {
    // The cause already said the store is unreachable when that is why the create failed; say it once, briefly.
    if (row.problem instanceof StoreUnavailableError)
      return `the unreachable state store could not record it as failed; run \`demo destroy ${demo.id}\` once it answers again`
    return `recording it as failed in the state store failed too (${messageOf(row.problem)}); run \`demo destroy ${demo.id}\` later`
  }
  return 'the demo is marked failed'
}

function leftBehind(failure: Failure, cleanup: 'done' | 'kept' | 'incomplete', problem: string | null, row: string): {text: string; hint: string} {
  const {demo} = failure
  if (cleanup === 'kept') {
    return {
      text: `Kept namespace ${demo.namespace} for debugging (--keep-on-failure); ${row}.`,
      hint: `Inspect with \`kubectl -n ${demo.namespace} describe deployments\` and \`kubectl -n ${demo.namespace} get pods,events\`; remove it with \`demo destroy ${demo.id}\`.`,
    }
  }
  if (cleanup === 'done') {
    // The namespace is gone, so no kubectl hint; after a cancel there is nothing to inspect.
    const hint =
      failure.error instanceof CancelledError ? '' : 'To inspect the failure, run the create again with --keep-on-failure: it keeps the namespace.'
    return {text: `Rolled back: namespace ${demo.namespace} and the database are gone; ${row}.`, hint}
  }
  // Credentials the API server refused (fault matrix T15) refuse the rollback's delete as well: it was still tried (they
  // are loaded again once more, a login in the meantime counts), and otherwise the row says `failed` with cleanup
  // `incomplete`, so `demo destroy` with valid credentials, or gc with its own, deletes what may remain.
  const when = failure.error instanceof ClusterAuthError ? 'Once you are logged in again' : 'When the cluster answers again'
  return {
    text: `Rollback incomplete (${clause(problem ?? 'unknown')}): namespace ${demo.namespace} may remain; ${row}.`,
    hint: `${when}, run \`demo destroy ${demo.id}\` to finish the cleanup.`,
  }
}

/**
 * The cause as a sentence, unchanged but for a final period. Not lower-cased after the colon: it may begin
 * with a Kubernetes kind ("Deployment api-gateway ...").
 */
function sentence(message: string): string {
  return message.endsWith('.') ? message : `${message}.`
}

/** A message inside parentheses in the middle of a sentence: without its final period ("(… revoked): namespace …"). */
function clause(message: string): string {
  return message.replace(/\.+$/, '')
}

/**
 * After a failed or cancelled create: cleans up (unless kept), records `failed` with the reason, and returns
 * the error to show: what happened first (the cause's message), then what is left behind and what to run
 * next, with the cause's code and exit code.
 */
export async function rollBack(deps: RollBackDeps, failure: Failure): Promise<DemoError> {
  const reason = messageOf(failure.error)
  const cleanupProblem = failure.keep ? null : await cleanUp(deps, failure.demo)
  const cleanup = failure.keep ? 'kept' : cleanupProblem === null ? 'done' : 'incomplete'
  const row = await honestStep(
    deps,
    'Roll back: record the demo as failed',
    () => markFailed(deps, failure, {reason, cleanup}),
    (outcome) => (outcome.kind === 'problem' ? messageOf(outcome.problem) : null),
  )
  const left = leftBehind(failure, cleanup, cleanupProblem, rowNote(failure.demo, row))
  return failedError(failure.error, `Create of demo ${failure.demo.id} failed: ${sentence(reason)} ${left.text}`, left.hint)
}

/** The error to show: the cause's code, exit code and hint, with what is left behind. */
function failedError(error: unknown, message: string, extraHint: string): DemoError {
  const cause = error instanceof DemoError ? error : undefined
  const hint = [cause?.hint, extraHint].filter(Boolean).join(' ')
  return new CreateFailedError(message, {code: cause?.code, exitCode: cause?.exitCode, hint: hint || undefined, cause: error})
}
