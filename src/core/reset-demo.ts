import {assertModifiable, type Demo} from './demo.js'
import {PermissionError} from './errors.js'
import {findDemo} from './find-demo.js'
import {mayManage} from './identity.js'
import type {Clock, DatabasesFor, DemoStore} from './ports.js'

export interface ResetRequest {
  /** The demo's id, a unique id prefix, its name or its namespace (find-demo.ts). */
  id: string
  /** --seed-value: re-seed with this value (and record it); undefined = the value recorded on the row. */
  seedValue: number | undefined
  actor: string
  admins: readonly string[]
}

export interface ResetDeps {
  store: DemoStore
  clock: Clock
  /** The demo is re-seeded by the adapter of the mode it was created with. */
  databasesFor: DatabasesFor
}

export interface ResetResult {
  demo: Demo
  seedValue: number
}

/**
 * Puts a live demo's data back to its freshly seeded state in place (the services keep running): the adapter
 * empties the app's tables and loads the seed in one transaction. Owner or admin only; refused for a demo that is
 * destroyed, destroying or failed. Records a `reset` event and the seed value used. Safe to repeat.
 */
export async function resetDemo(deps: ResetDeps, request: ResetRequest): Promise<ResetResult> {
  const demo = await findDemo(deps.store, request.id)
  if (!mayManage(request.actor, demo, request.admins)) {
    throw new PermissionError(`Cannot reset demo "${demo.id}": it belongs to ${demo.createdBy}, and you are ${request.actor}.`, {
      hint: 'Ask its owner, or an admin listed under `admins` in demo.config.yaml.',
    })
  }
  assertModifiable(demo, 'reset')
  const seedValue = request.seedValue ?? demo.seedValue ?? 0
  const databases = await deps.databasesFor(demo.database.mode)
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
