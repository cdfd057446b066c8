import type {Demo} from '../../src/core/demo.js'
import type {DatabaseAccess, Databases} from '../../src/core/ports.js'

/** The Databases port of mode `none`, recording what was provisioned and dropped; `onProvision` runs inside provision. */
export class FakeDatabases implements Databases {
  readonly mode = 'none' as const
  readonly provisioned: string[] = []
  readonly dropped: string[] = []
  onProvision: (() => Promise<void>) | undefined

  async provision(demo: Pick<Demo, 'id'>): Promise<DatabaseAccess> {
    this.provisioned.push(demo.id)
    await this.onProvision?.()
    return {mode: 'none', schema: null, secretEnv: {}, supabaseProjectId: null, supabaseUrl: null, supabaseAnonKey: null}
  }

  async drop(demo: Pick<Demo, 'id'>): Promise<void> {
    this.dropped.push(demo.id)
  }

  async isReachable(): Promise<boolean> {
    return true
  }
}
