import {authorizeCaller} from './authorize.js'
import {assertDemoCluster, connectDemoCluster} from './cluster-match.js'
import {assertModifiable, type Demo} from './demo.js'
import {findDemo} from './find-demo.js'
import type {Clock, Cluster, DatabasesFor, DemoStore} from './ports.js'

export interface ResetRequest {
  /** The demo's id, a unique id prefix, its name or its namespace (find-demo.ts). */
  id: string
  /** --seed-value: re-seed with this value (and record it); undefined = the value recorded on the row. */
  seedValue: number | undefined
  actor: string
  admins: readonly string[]
  /** Authenticated identities that may reset anyone's demo (CI's ServiceAccount). */
  trustedIdentities: readonly string[]
}

export interface ResetDeps {
  store: DemoStore
  clock: Clock
  /**
   * The cluster of a demo's recorded kubeconfig context (null: the default one). Reset touches nothing there; it
   * asks it only who the caller is (authorize.ts), when the decision needs it.
   */
  clusterFor: (kubeContext: string | null) => Promise<Cluster>
  /** The demo is re-seeded by the adapter of the mode it was created with. */
  databasesFor: DatabasesFor
}

export interface ResetResult {
  demo: Demo
  seedValue: number
}

/**
 * Puts a live demo's data back to its freshly seeded state in place (the services keep running): the adapter
 * empties the app's tables and loads the seed in one transaction. Who may: the rule of destroy and extend
 * (authorizeCaller: the creator's authenticated identity where the row records one, an admin, a trusted identity;
 * PermissionError otherwise), the identity asked of the demo's own cluster (WrongClusterError for another one).
 * Refused for a demo that is destroyed, destroying or failed. Records a `reset` event and the seed value used.
 * Safe to repeat.
 */
export async function resetDemo(deps: ResetDeps, request: ResetRequest): Promise<ResetResult> {
  const demo = await findDemo(deps.store, request.id)
  const connected = await authorizeCaller(demo, {...request, verb: 'reset'}, () => connectDemoCluster(deps.clusterFor, demo))
  // Who the caller is counts only as the demo's own cluster says it (another cluster may know the same name).
  if (connected) await assertDemoCluster(connected, demo, `demo reset ${demo.id}`)
  assertModifiable(demo, 'reset')
  const seedValue = request.seedValue ?? demo.seedValue ?? 0
  const databases = await deps.databasesFor(demo.database.mode, demo.database)
  await databases.reseed(demo, seedValue)
  const latest = (await deps.store.get(demo.id)) ?? demo
  const updated = await deps.store.update(
    demo.id,
    latest.version,
    {seedValue},
    {demoId: demo.id, type: 'reset', at: deps.clock.now(), actor: request.actor, data: {seedValue, previousSeedValue: demo.seedValue}},
  )
  return {demo: updated, seedValue}
}
