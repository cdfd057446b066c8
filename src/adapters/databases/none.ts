import type {DemoDatabase} from '../../core/demo.js'
import {UsageError} from '../../core/errors.js'
import type {DatabaseAccess, Databases, OwnedDatabase} from '../../core/ports.js'

/**
 * Database mode `none`: the demo gets no database of its own (its services use whatever their images are
 * configured for). shared-schema and supabase-project plug into the same port.
 */
export class NoDatabases implements Databases {
  readonly mode = 'none' as const

  planned(): DemoDatabase {
    return {mode: 'none'}
  }

  check(): Promise<void> {
    return Promise.resolve()
  }

  provision(): Promise<DatabaseAccess> {
    return Promise.resolve({database: {mode: 'none'}, secretEnv: {}})
  }

  reseed(demo: {id: string}): Promise<void> {
    return Promise.reject(
      new UsageError(`Demo "${demo.id}" has no database of its own (database mode "none"), so there is nothing to reset.`, {
        hint: 'Set database.mode: shared-schema in demo.config.yaml for demos with seeded data.',
      }),
    )
  }

  drop(): Promise<void> {
    return Promise.resolve()
  }

  isReachable(): Promise<boolean> {
    return Promise.resolve(true)
  }

  owned(): Promise<OwnedDatabase[]> {
    return Promise.resolve([])
  }
}
