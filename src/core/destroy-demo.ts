import {awaitNamespaceGone, cancelledError} from './await-ready.js'
import {authorizeCaller} from './authorize.js'
import {assertDemoCluster, connectDemoCluster} from './cluster-match.js'
import type {Demo} from './demo.js'
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
  /** Why the demo is destroyed, recorded in its events (gc: "expired", "the namespace vanished outside demo"). */
  reason?: string
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

/** What the steps of a destroy need, once the demo, its cluster and its database adapter are known (gc starts here). */
export type DestroyStepDeps = Pick<DestroyDeps, 'store' | 'clock' | 'sleeper' | 'steps' | 'checkpoint' | 'signal'>

/** What destroy actually did, for an honest message. */
export type DestroyOutcome =
  {kind: 'already-destroyed'; demo: Demo} | {kind: 'destroyed'; demo: Demo; namespaceDeleted: boolean} | {kind: 'deleting'; demo: Demo}

/**
 * The adapter that can drop the demo's database, found before anything changes: a demo this version cannot
 * drop the database of is refused whole, never left without its namespace and with its database.
 */
export async function databasesOf(deps: Pick<DestroyDeps, 'databasesFor'>, demo: Demo): Promise<Databases> {
  const {mode} = demo.database
  try {
    return await deps.databasesFor(mode, demo.database)
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

function reasonData(reason: string | undefined): Record<string, unknown> {
  return reason === undefined ? {} : {reason}
}

/** The row `destroying`, compare-and-set on the version read: VersionConflictError when someone else wrote first. */
export async function claimForDestroy(deps: Pick<DestroyDeps, 'store' | 'clock'>, demo: Demo, who: {actor: string; reason?: string}): Promise<Demo> {
  return deps.store.update(
    demo.id,
    demo.version,
    {status: 'destroying'},
    {demoId: demo.id, type: 'destroying', at: deps.clock.now(), actor: who.actor, data: {from: demo.status, ...reasonData(who.reason)}},
  )
}

async function markDestroying(deps: DestroyStepDeps, demo: Demo, request: DestroyRequest): Promise<Demo> {
  if (demo.status === 'destroying') return demo
  try {
    return await claimForDestroy(deps, demo, request)
  } catch (error) {
    // Another destroy (or gc, or an extend) wrote first: decide once more on the row as it is now.
    const latest = error instanceof VersionConflictError ? await deps.store.get(demo.id) : undefined
    if (!latest) throw error
    if (latest.status === 'destroying') return latest
    return claimForDestroy(deps, latest, request)
  }
}

/**
 * Row `destroyed`, unless a concurrent destroy already recorded it (no second event, the first destroyedAt stays).
 * The first write goes on the version this destroy wrote (`destroying`) without reading the row again; a
 * concurrent write (a gc run's claim, the other destroy's `destroyed`) makes it a VersionConflictError, and then
 * the row is read and decided on as it is, up to 3 times.
 */
async function markDestroyed(run: DestroyRun): Promise<Demo> {
  let latest = run.demo
  for (let attempt = 1; ; attempt++) {
    try {
      return await markDestroyedOnce(run, latest)
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 3) throw error
      latest = (await run.deps.store.get(run.demo.id)) ?? run.demo
    }
  }
}

async function markDestroyedOnce(run: DestroyRun, latest: Demo): Promise<Demo> {
  const {deps, demo, request} = run
  if (latest.status === 'destroyed') {
    run.destroyedByOther = true
    return latest
  }
  const now = deps.clock.now()
  return deps.store.update(
    latest.id,
    latest.version,
    {status: 'destroyed', destroyedAt: now},
    {
      demoId: demo.id,
      type: 'destroyed',
      at: now,
      actor: request.actor,
      data: {namespaceDeleted: run.namespaceDeleted, ...reasonData(request.reason)},
    },
  )
}

/** What the steps of one destroy share. */
interface DestroyRun {
  deps: DestroyStepDeps
  request: DestroyRequest
  cluster: Cluster
  databases: Databases
  demo: Demo
  namespaceDeleted: boolean
  /** Another destroy (or gc) recorded the row destroyed before this one could. */
  destroyedByOther: boolean
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
  /** Only waits on Kubernetes (no writes): run through `DestroyStepOptions.idle` when given. */
  idle?: boolean
  run: (run: DestroyRun) => Promise<void>
}

export const DESTROY_STEPS: readonly DestroyStep[] = [
  {
    key: 'destroying',
    title: () => 'Mark the demo destroying',
    run: async (r) => {
      r.demo = await markDestroying(r.deps, r.demo, r.request)
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
    idle: true,
    run: (r) => awaitNamespaceGone({...r.deps, cluster: r.cluster}, {namespace: r.demo.namespace, timeoutMs: r.request.timeoutMs}),
  },
  {key: 'database-dropped', title: (r) => `Drop the database (${r.demo.database.mode})`, waits: true, run: (r) => r.databases.drop(r.demo)},
  {
    key: 'destroyed',
    title: () => 'Mark the demo destroyed',
    waits: true,
    run: async (r) => {
      r.demo = await markDestroyed(r)
    },
  },
]

/**
 * Destroys a demo: find it → its creator (the same authenticated identity when the row records one), an admin or
 * a trusted identity (authorize.ts) → (already destroyed: done) → its cluster (its own kubeconfig context, or the
 * current one when that context is unknown here and the row records the cluster's identity), checked by identity
 * (WrongClusterError) or context name → the database adapter of its recorded mode (UnsupportedDatabaseModeError
 * when this version has none) → confirm → DESTROY_STEPS (runDestroySteps). Every refusal comes before the
 * question, and nothing is written before `confirm` returns, nor once `signal` is aborted by then. Idempotent:
 * running it again after a crash, a timeout or --no-wait finishes the job.
 */
export async function destroyDemo(deps: DestroyDeps, request: DestroyRequest): Promise<DestroyOutcome> {
  const found = await findDemo(deps.store, request.id, (id) => `demo destroy ${id}`)
  const connected = await authorizeCaller(found, {...request, verb: 'destroy'}, () => connectDemoCluster(deps.clusterFor, found))
  if (found.status === 'destroyed') return {kind: 'already-destroyed', demo: found}
  const cluster = connected ?? (await connectDemoCluster(deps.clusterFor, found))
  await assertDemoCluster(cluster, found, `demo destroy ${found.id}`)
  const databases = await databasesOf(deps, found)
  await deps.confirm?.(found)
  return runDestroySteps(deps, request, {cluster, databases, demo: found})
}

export interface DestroyStepOptions {
  /**
   * Runs the steps that only wait on Kubernetes (the namespace going away). gc passes one that gives up its
   * concurrency lane meanwhile, so `--concurrency` bounds the work (claims, deletes, row writes), not the waiting.
   */
  idle?: <T>(work: () => Promise<T>) => Promise<T>
}

/**
 * DESTROY_STEPS on a demo already found and checked (destroyDemo, and gc after it claimed the row): row
 * `destroying` → delete the namespace, only if it carries the demo's marks → wait until it is gone → drop the
 * database → row `destroyed`. Outcome `already-destroyed` when a concurrent destroy recorded it first.
 */
export async function runDestroySteps(
  deps: DestroyStepDeps,
  request: DestroyRequest,
  target: {cluster: Cluster; databases: Databases; demo: Demo},
  options: DestroyStepOptions = {},
): Promise<DestroyOutcome> {
  const run: DestroyRun = {deps, request, ...target, namespaceDeleted: false, destroyedByOther: false}
  for (const step of DESTROY_STEPS) {
    if (deps.signal.aborted) throw cancelledError(deps.signal)
    if (step.waits && !request.wait) return {kind: 'deleting', demo: run.demo}
    const work = () => deps.steps.run(step.title(run), () => step.run(run))
    await (step.idle && options.idle ? options.idle(work) : work())
    deps.checkpoint(step.key, run.demo.id)
  }
  if (run.destroyedByOther) return {kind: 'already-destroyed', demo: run.demo}
  return {kind: 'destroyed', demo: run.demo, namespaceDeleted: run.namespaceDeleted}
}
