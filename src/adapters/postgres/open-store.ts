import type {DemoStore, Stats} from '../../core/ports.js'
import {openPostgres, redactUrl, type Db} from './db.js'
import {PostgresDemoStore} from './demo-store.js'
import type {LockOptions} from './embedded-lock.js'
import {migrate} from './migrate.js'
import {PostgresStats} from './stats.js'
import {openServedEmbedded} from './store-client.js'

export interface OpenedStore {
  store: DemoStore
  /** Usage analytics over the same database. */
  stats: Stats
  close(): Promise<void>
}

export interface StoreOptions {
  databaseUrl: string | null
  stateDir: string
  /** The embedded store: `notice` hears at once when its server has to wait for another process's lock. */
  lock?: Pick<LockOptions, 'notice'>
}

/**
 * Opens the shared Postgres store when a URL is given, else the embedded one through its server (started when
 * none runs, store-client.ts); migrates either.
 */
export async function openStore(options: StoreOptions): Promise<OpenedStore> {
  const db: Db = options.databaseUrl
    ? await openPostgres(options.databaseUrl)
    : await openServedEmbedded(options.stateDir, {notice: options.lock?.notice})
  try {
    await migrate(db)
  } catch (error) {
    await db.close()
    throw error
  }
  const where = options.databaseUrl ? `shared Postgres ${redactUrl(options.databaseUrl)}` : `embedded store at ${options.stateDir}`
  return {store: new PostgresDemoStore(db, where), stats: new PostgresStats(db), close: () => db.close()}
}
