import {awaitNamespaceGone, cancelledError} from './await-ready.js'
import {assertSameContext, type Demo} from './demo.js'
import {PermissionError, UnsupportedDatabaseModeError, VersionConflictError} from './errors.js'
import {findDemo} from './find-demo.js'
import {mayManage} from './identity.js'
import type {Checkpoint, Clock, Cluster, Databases, DatabasesFor, DemoStore, Sleeper, StepRunner} from './ports.js'

export interface DestroyRequest {
  /** The demo's id, a unique id prefix, its name or its namespace (find-demo.ts). */
  id: string
  actor: string
  admins: readonly string[]
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
  | {kind: 'already-destroyed'; demo: Demo}
  | {kind: 'destroyed'; demo: Demo; namespaceDeleted: boolean}
  | {kind: 'deleting'; demo: Demo}

function assertMayDestroy(demo: Demo, request: DestroyRequest): void {
  if (!mayManage(request.actor, demo, request.admins)) {
    throw new PermissionError(`Cannot destroy demo "${demo.id}": it belongs to ${demo.createdBy}, and you are ${request.actor}.`, {
      hint: 'Ask its owner, or an admin listed under `admins` in demo.config.yaml.',
    })
  }
}

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
    throw new UnsupportedDatabaseModeError(`Cannot destroy demo "${demo.id}": its database has mode "${mode}", which this version of demo cannot drop. Nothing was changed.`, {
      hint: `Run \`demo destroy ${demo.id}\` with a version of demo that supports database mode "${mode}".`,
      cause: error,
    })
  }
}

async function markDestroying(deps: DestroyDeps, demo: Demo, actor: string): Promise<Demo> {
  if (demo.status === 'destroying') return demo
  try {
    return await deps.store.update(demo.id, demo.version, {status: 'destroying'}, {demoId: demo.id, type: 'destroying', at: deps.clock.now(), actor, data: {from: demo.status}})
  } catch (error) {
    // Another destroy (or gc, or an extend) wrote first: decide once more on the row as it is now.
    const latest = error instanceof VersionConflictError ? await deps.store.get(demo.id) : undefined
    if (!latest) throw error
    if (latest.status === 'destroying') return latest
    return deps.store.update(latest.id, latest.version, {status: 'destroying'}, {demoId: latest.id, type: 'destroying', at: deps.clock.now(), actor, data: {from: latest.status}})
  }
}

/** Row `destroyed`, unless a concurrent destroy already recorded it (no second event, the first destroyedAt stays). */
async function markDestroyed(deps: DestroyDeps, demo: Demo, request: DestroyRequest, namespaceDeleted: boolean): Promise<Demo> {
  const latest = (await deps.store.get(demo.id)) ?? demo
  if (latest.status === 'destroyed') return latest
  const now = deps.clock.now()
  return deps.store.update(latest.id, latest.version, {status: 'destroyed', destroyedAt: now}, {demoId: demo.id, type: 'destroyed', at: now, actor: request.actor, data: {namespaceDeleted}})
}

/**
 * Destroys a demo: find it → confirm → owner or admin → the database adapter of the demo's recorded mode
 * (UnsupportedDatabaseModeError, before any change, when this version has none) → row `destroying` → delete
 * the namespace (only if it carries the demo's marks) → wait until it is gone → drop the database → row
 * `destroyed`. Idempotent: every step accepts that its work is already done, so running it again after a
 * crash, a timeout or --no-wait finishes the job. Nothing is written before `confirm` returns, nor once
 * `signal` is aborted by then.
 */
export async function destroyDemo(deps: DestroyDeps, request: DestroyRequest): Promise<DestroyOutcome> {
  const found = await findDemo(deps.store, request.id, (id) => `demo destroy ${id}`)
  await deps.confirm?.(found)
  if (deps.signal.aborted) throw cancelledError(deps.signal)
  const cluster = await deps.clusterFor(found.kubeContext)
  assertMayDestroy(found, request)
  if (found.status === 'destroyed') return {kind: 'already-destroyed', demo: found}
  assertSameContext(found, cluster.contextName(), `demo destroy ${found.id}`)
  const databases = await databasesOf(deps, found)
  const demo = await deps.steps.run('Mark the demo destroying', () => markDestroying(deps, found, request.actor))
  deps.checkpoint('destroying', demo.id)
  const owner = {demoId: demo.id, namespace: demo.namespace}
  const namespaceDeleted = await deps.steps.run(`Delete namespace ${demo.namespace}`, () => cluster.deleteNamespace(owner))
  deps.checkpoint('namespace-deleted', demo.id)
  if (!request.wait) return {kind: 'deleting', demo}
  await deps.steps.run(`Wait until namespace ${demo.namespace} is gone`, () => awaitNamespaceGone({...deps, cluster}, {namespace: demo.namespace, timeoutMs: request.timeoutMs}))
  await deps.steps.run(`Drop the database (${demo.database.mode})`, () => databases.drop(demo))
  const destroyed = await deps.steps.run('Mark the demo destroyed', () => markDestroyed(deps, demo, request, namespaceDeleted))
  return {kind: 'destroyed', demo: destroyed, namespaceDeleted}
}
