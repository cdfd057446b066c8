import type {DatabaseMode, Demo, DemoDatabase} from '../../src/core/demo.js'
import {DatabaseError, UnsupportedDatabaseModeError, UsageError} from '../../src/core/errors.js'
import {schemaFor} from '../../src/core/naming.js'
import type {DatabaseAccess, Databases, DatabasesFor, OwnedDatabase} from '../../src/core/ports.js'

/**
 * The Databases port of one mode (default `none`), recording what was provisioned and dropped; `onProvision`
 * runs inside provision. Other modes keep what exists in `existing`, so `owned()` can be tested before their
 * real adapters land; mode `none` never owns anything.
 */
export class FakeDatabases implements Databases {
  readonly provisioned: string[] = []
  readonly dropped: string[] = []
  /** Demo ids and seed values of every reseed. */
  readonly reseeded: Array<[string, number]> = []
  /** Thrown by check() when set (the shared database unreachable, a missing seed ...). */
  checkError: Error | undefined
  /** The databases of this mode that exist now, by demo id; a test may add leftovers (a killed create). */
  readonly existing = new Map<string, DemoDatabase>()
  onProvision: (() => Promise<void>) | undefined
  /** What checkDataApi answers (a demo with a Data API: shared-schema on a Supabase project); undefined: none. */
  dataApi: {healthy: boolean; detail: string} | undefined

  constructor(readonly mode: DatabaseMode = 'none') {}

  planned(demoId: string): DemoDatabase {
    switch (this.mode) {
      case 'none':
        return {mode: 'none'}
      case 'shared-schema':
        return {mode: 'shared-schema', schema: schemaFor(demoId), supabase: null}
      case 'supabase-project':
        return {mode: 'supabase-project', projectRef: null, url: null, anonKey: null}
    }
  }

  async checkDataApi(): Promise<{healthy: boolean; detail: string} | undefined> {
    return this.dataApi
  }

  async check(): Promise<void> {
    if (this.checkError) throw this.checkError
  }

  async reseed(demo: Pick<Demo, 'id'>, seedValue: number): Promise<void> {
    if (this.mode === 'none')
      throw new UsageError(`Demo "${demo.id}" has no database of its own (database mode "none"), so there is nothing to reset.`)
    if (this.mode === 'supabase-project')
      throw new UsageError(`Demo "${demo.id}" has a Supabase project of its own, which demo cannot re-seed in place.`)
    if (!this.existing.has(demo.id)) throw new DatabaseError(`Demo "${demo.id}" has no database: there is nothing to reset.`)
    this.reseeded.push([demo.id, seedValue])
  }

  async provision(demo: Pick<Demo, 'id' | 'database'>): Promise<DatabaseAccess> {
    this.provisioned.push(demo.id)
    await this.onProvision?.()
    if (this.mode === 'none') return {database: {mode: 'none'}, secretEnv: {}}
    const database: DemoDatabase =
      this.mode === 'supabase-project'
        ? {mode: 'supabase-project', projectRef: `ref${demo.id}`, url: `https://ref${demo.id}.supabase.example`, anonKey: `anon-${demo.id}`}
        : demo.database
    this.existing.set(demo.id, database)
    return {database, secretEnv: {DATABASE_URL: `postgres://demo_${demo.id}:secret@db.example.com/app`}}
  }

  async drop(demo: Pick<Demo, 'id' | 'database'>): Promise<void> {
    this.dropped.push(demo.id)
    this.existing.delete(demo.id)
  }

  async isReachable(): Promise<boolean> {
    return true
  }

  async owned(): Promise<OwnedDatabase[]> {
    return [...this.existing].map(([demoId, database]) => ({demoId, name: nameOf(database), database}))
  }
}

function nameOf(database: DemoDatabase): string {
  if (database.mode === 'shared-schema') return `schema ${database.schema}`
  if (database.mode === 'supabase-project') return `project ${database.projectRef ?? '(not yet created)'}`
  return 'none'
}

/** DatabasesFor over the given adapters; any other mode is one this version "cannot handle", as in src/deps.ts. */
export function databasesFor(...adapters: Databases[]): DatabasesFor {
  return async (mode) => {
    const found = adapters.find((a) => a.mode === mode)
    if (!found) throw new UnsupportedDatabaseModeError(`Database mode "${mode}" is not available in this version of demo; only "none" is.`)
    return found
  }
}
