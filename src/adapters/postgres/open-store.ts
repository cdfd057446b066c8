import type {DemoStore, Stats} from '../../core/ports.js'
import {openPostgres, redactUrl, type Db} from './db.js'
import {PostgresDemoStore} from './demo-store.js'
import type {LockOptions} from './embedded-lock.js'
import {migrate} from './migrate.js'
import {loadPg} from './pg-module.js'
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
 * none runs, store-client.ts); migrates either. A Postgres store of the same URL opened early (openPostgresEarly)
 * is taken over, with its failure if it failed.
 */
export async function openStore(options: StoreOptions): Promise<OpenedStore> {
  const db: Db = options.databaseUrl
    ? await (takeEarly(options.databaseUrl) ?? openPostgres(options.databaseUrl).then(openMigrated))
    : await openServedEmbedded(options.stateDir, {notice: options.lock?.notice}).then(openMigrated)
  const where = options.databaseUrl ? `shared Postgres ${redactUrl(options.databaseUrl)}` : `embedded store at ${options.stateDir}`
  return {store: new PostgresDemoStore(db, where), stats: new PostgresStats(db), close: () => db.close()}
}

async function openMigrated(db: Db): Promise<Db> {
  try {
    await migrate(db)
    return db
  } catch (error) {
    await db.close()
    throw error
  }
}

/** The Postgres store openPostgresEarly started, until a command takes it over or it is discarded. */
let early: {url: string; opened: Promise<Db>} | undefined

/**
 * Starts connecting to the shared Postgres store at `url` and migrating it, and resolves once the connection is
 * under way (pg loaded, the socket opening), not when it is open: bin/run.js calls this before oclif loads, so
 * the connection's round trips (TCP, TLS, SCRAM, the schema version) overlap the ~0.1 s of loading the command
 * instead of following it. The command's openStore of the same URL takes it over. Pending migrations are applied
 * then, as that openStore would have (bin/run.js skips help and dry runs; a command that fails on its flags
 * after this leaves the schema migrated, which the next command would have done).
 */
export async function openPostgresEarly(url: string): Promise<void> {
  if (early) return
  // Loaded before the connection starts: were pg's import still pending, the connection would wait behind oclif's.
  await loadPg()
  if (early) return
  const opened = openPostgres(url).then(openMigrated)
  // Its failure is the command's to report when it opens the store; a command that never does ignores it.
  opened.catch(() => {})
  early = {url, opened}
}

function takeEarly(url: string): Promise<Db> | undefined {
  if (early?.url !== url) return undefined
  const {opened} = early
  early = undefined
  return opened
}

/** Closes the store openPostgresEarly opened when no command took it over (one that failed before it opened it). */
export async function discardEarlyStore(): Promise<void> {
  const left = early
  early = undefined
  const db = await left?.opened.catch(() => undefined)
  await db?.close()
}
