import {awaitNamespaceGone, cancelledError} from './await-ready.js'
import {assertSameContext, type Demo} from './demo.js'
import {authorizeCaller} from './authorize.js'
import {UnsupportedDatabaseModeError, VersionConflictError} from './errors.js'
import {findDemo} from './find-demo.js'
import type {Checkpoint, Clock, Cluster, Databases, DatabasesFor, DemoStore, Sleeper, StepRunner} from './ports.js'

export interface DestroyRequest {
  /** The demo's id, a unique id prefix, its name or its namespace (find-demo.ts). */
  id: string
  actor: string
  admins: readonly string[]
  /** Authenticated identities that may destroy anyone's demo (CI's, gc's ServiceAccount). */
  trustedIdentities: readonly string[]
  /** Wait until the namespace is gone (false: return once deletion is accepted; the row stays `destroying`). */
  wait: boolean
  timeoutMs: number
}

export interface DestroyDeps {
  store: DemoStore
  /** The cluster of a demo's recorded kubeconfig context (null: the default one); an explicit --context wins. */
  clusterFor: (kubeContext: string | null) => Promise<Cluster>
  /**
   * Asks whether to destroy the demo found, after the lookup and before anything is written; throws to stop
   * (nothing is changed then). Absent: no question (--yes).
   */
  confirm?: (demo: Demo) => Promise<void>
  /** The database is dropped with the adapter of the mode the demo was created with, not the one configured now. */
  databasesFor: DatabasesFor
  clock: Clock
  sleeper: Sleeper
  steps: StepRunner
  checkpoint: Checkpoint
  signal: AbortSignal
}

/** What destroy actually did, for an honest message. */
export type DestroyOutcome =
  {kind: 'already-destroyed'; demo: Demo} | {kind: 'destroyed'; demo: Demo; namespaceDeleted: boolean} | {kind: 'deleting'; demo: Demo}

/**
 * The adapter that can drop the demo's database, found before anything changes: a demo this version cannot
 * drop the database of is refused whole, never left without its namespace and with its database.
 */
async function databasesOf(deps: DestroyDeps, demo: Demo): Promise<Databases> {
  const {mode} = demo.database
  try {
    return await deps.databasesFor(mode)
  } catch (error) {
    if (!(error instanceof UnsupportedDatabaseModeError)) throw error
    throw new UnsupportedDatabaseModeError(
      `Cannot destroy demo "${demo.id}": its database has mode "${mode}", which this version of demo cannot drop. Nothing was changed.`,
      {
        hint: `Run \`demo destroy ${demo.id}\` with a version of demo that supports database mode "${mode}".`,
        cause: error,
      },
    )
  }
}

async function markDestroying(deps: DestroyDeps, demo: Demo, actor: string): Promise<Demo> {
  if (demo.status === 'destroying') return demo
  try {
    return await deps.store.update(
      demo.id,
      demo.version,
      {status: 'destroying'},
      {demoId: demo.id, type: 'destroying', at: deps.clock.now(), actor, data: {from: demo.status}},
    )
  } catch (error) {
    // Another destroy (or gc, or an extend) wrote first: decide once more on the row as it is now.
    const latest = error instanceof VersionConflictError ? await deps.store.get(demo.id) : undefined
    if (!latest) throw error
    if (latest.status === 'destroying') return latest
    return deps.store.update(
      latest.id,
      latest.version,
      {status: 'destroying'},
      {demoId: latest.id, type: 'destroying', at: deps.clock.now(), actor, data: {from: latest.status}},
    )
  }
}

/** Row `destroyed`, unless a concurrent destroy already recorded it (no second event, the first destroyedAt stays). */
async function markDestroyed(deps: DestroyDeps, demo: Demo, request: DestroyRequest, namespaceDeleted: boolean): Promise<Demo> {
  const latest = (await deps.store.get(demo.id)) ?? demo
  if (latest.status === 'destroyed') return latest
  const now = deps.clock.now()
  return deps.store.update(
    latest.id,
    latest.version,
    {status: 'destroyed', destroyedAt: now},
    {demoId: demo.id, type: 'destroyed', at: now, actor: request.actor, data: {namespaceDeleted}},
  )
}

/** What the steps of one destroy share. */
interface DestroyRun {
  deps: DestroyDeps
  request: DestroyRequest
  cluster: Cluster
  databases: Databases
  demo: Demo
  namespaceDeleted: boolean
}

/**
 * One named step of a destroy: its progress title, its key (the checkpoint passed after it), what it does.
 * Steps marked `waits` run only with --wait; without it the destroy ends after the namespace's deletion is
 * accepted, and a later destroy (or gc) finishes. Every step accepts that its work is already done.
 */
interface DestroyStep {
  key: string
  title: (run: DestroyRun) => string
  waits?: boolean
  run: (run: DestroyRun) => Promise<void>
}

export const DESTROY_STEPS: readonly DestroyStep[] = [
  {
    key: 'destroying',
    title: () => 'Mark the demo destroying',
    run: async (r) => {
      r.demo = await markDestroying(r.deps, r.demo, r.request.actor)
    },
  },
  {
    key: 'namespace-deleted',
    title: (r) => `Delete namespace ${r.demo.namespace}`,
    run: async (r) => {
      r.namespaceDeleted = await r.cluster.deleteNamespace({demoId: r.demo.id, namespace: r.demo.namespace})
    },
  },
  {
    key: 'namespace-gone',
    title: (r) => `Wait until namespace ${r.demo.namespace} is gone`,
    waits: true,
    run: (r) => awaitNamespaceGone({...r.deps, cluster: r.cluster}, {namespace: r.demo.namespace, timeoutMs: r.request.timeoutMs}),
  },
  {key: 'database-dropped', title: (r) => `Drop the database (${r.demo.database.mode})`, waits: true, run: (r) => r.databases.drop(r.demo)},
  {
    key: 'destroyed',
    title: () => 'Mark the demo destroyed',
    waits: true,
    run: async (r) => {
      r.demo = await markDestroyed(r.deps, r.demo, r.request, r.namespaceDeleted)
    },
  },
]

/**
 * Destroys a demo: find it → its creator (the same authenticated identity when the row records one), an admin or a trusted identity (authorize.ts) → (already destroyed: done) → its own kubeconfig context → the
 * database adapter of its recorded mode (UnsupportedDatabaseModeError when this version has none) → confirm
 * → DESTROY_STEPS (row `destroying` → delete the namespace, only if it carries the demo's marks → wait until
 * it is gone → drop the database → row `destroyed`). Every refusal comes before the question, and nothing is
 * written before `confirm` returns, nor once `signal` is aborted by then. Idempotent: running it again after a
 * crash, a timeout or --no-wait finishes the job.
 */
export async function destroyDemo(deps: DestroyDeps, request: DestroyRequest): Promise<DestroyOutcome> {
  const found = await findDemo(deps.store, request.id, (id) => `demo destroy ${id}`)
  const connected = await authorizeCaller(found, {...request, verb: 'destroy'}, () => deps.clusterFor(found.kubeContext))
  if (found.status === 'destroyed') return {kind: 'already-destroyed', demo: found}
  const cluster = connected ?? (await deps.clusterFor(found.kubeContext))
  assertSameContext(found, cluster.contextName(), `demo destroy ${found.id}`)
  const run: DestroyRun = {deps, request, cluster, databases: await databasesOf(deps, found), demo: found, namespaceDeleted: false}
  await deps.confirm?.(found)
  for (const step of DESTROY_STEPS) {
    if (deps.signal.aborted) throw cancelledError(deps.signal)
    if (step.waits && !request.wait) return {kind: 'deleting', demo: run.demo}
    await deps.steps.run(step.title(run), () => step.run(run))
    deps.checkpoint(step.key, run.demo.id)
  }
  return {kind: 'destroyed', demo: run.demo, namespaceDeleted: run.namespaceDeleted}
}
