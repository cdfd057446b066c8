import type {DatabaseAccess, Databases} from '../../core/ports.js'

/**
 * Database mode `none`: the demo gets no database of its own (its services use whatever their images are
 * configured for). shared-schema and supabase-project plug into the same port.
 */
export class NoDatabases implements Databases {
  readonly mode = 'none' as const

  provision(): Promise<DatabaseAccess> {
    return Promise.resolve({mode: 'none', schema: null, secretEnv: {}, supabaseProjectId: null, supabaseUrl: null, supabaseAnonKey: null})
  }

  drop(): Promise<void> {
    return Promise.resolve()
  }

  isReachable(): Promise<boolean> {
    return Promise.resolve(true)
  }
}
