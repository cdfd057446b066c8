import {StoreError} from '../../core/errors.js'
import type {Db} from './db.js'
import {sql as init} from './migrations/0001-init.js'
import {sql as clusterIdentity} from './migrations/0002-cluster-identity.js'
import {sql as authenticatedIdentity} from './migrations/0003-authenticated-identity.js'
import {sql as seedValue} from './migrations/0004-seed-value.js'
import {sql as statsIndex} from './migrations/0005-stats-index.js'
import {sql as statsTypeIndex} from './migrations/0006-stats-type-index.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

/** Versioned, append-only: never edit a released migration, add the next one. */
export const MIGRATIONS: readonly Migration[] = [
  {version: 1, name: 'init', sql: init},
  {version: 2, name: 'cluster-identity', sql: clusterIdentity},
  {version: 3, name: 'authenticated-identity', sql: authenticatedIdentity},
  {version: 4, name: 'seed-value', sql: seedValue},
  {version: 5, name: 'stats-index', sql: statsIndex},
  {version: 6, name: 'stats-type-index', sql: statsTypeIndex},
]

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version))

/** The versions recorded as applied (a set, not a maximum: branches merged later may add lower numbers). */
async function appliedVersions(db: Db): Promise<Set<number>> {
  const exists = await db.query<{t: string | null}>(`SELECT to_regclass('demo_orchestrator.schema_migrations')::text AS t`)
  if (!exists.rows[0]?.t) return new Set()
  const {rows} = await db.query<{version: number}>('SELECT version FROM demo_orchestrator.schema_migrations')
  return new Set(rows.map((r) => Number(r.version)))
}

function pending(applied: Set<number>): Migration[] {
  return MIGRATIONS.filter((m) => !applied.has(m.version))
}

function refuseNewer(applied: Set<number>): void {
  const version = Math.max(0, ...applied)
  if (version > LATEST) {
    throw new StoreError(`The state database has schema version ${version}; this demo CLI knows only up to ${LATEST}.`, {
      hint: 'Upgrade the demo CLI (npm install -g demo-cli@latest) before using this database.',
    })
  }
}

/**
 * Brings the demo_orchestrator schema up to date. Concurrent callers serialise on a transaction-scoped
 * advisory lock (safe behind a transaction pooler), so ten processes starting at once apply each migration once.
 */
export async function migrate(db: Db): Promise<void> {
  const current = await appliedVersions(db)
  refuseNewer(current)
  if (pending(current).length === 0) return
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('demo_orchestrator:migrate', 0))`)
    await tx.query('CREATE SCHEMA IF NOT EXISTS demo_orchestrator')
    await tx.query(`CREATE TABLE IF NOT EXISTS demo_orchestrator.schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
    const underLock = await appliedVersions(tx)
    refuseNewer(underLock)
    for (const migration of pending(underLock)) {
      await tx.query(migration.sql)
      await tx.query('INSERT INTO demo_orchestrator.schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
    }
  })
}
