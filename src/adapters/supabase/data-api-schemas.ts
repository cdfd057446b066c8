import type {SupabaseManagement} from '../../core/ports.js'
import {quoteIdent} from '../databases/postgres/sql-text.js'
import {loadPg} from '../postgres/pg-module.js'

/** The shared Supabase project whose Data API (PostgREST) exposes each demo's schema. */
export interface SharedProject {
  api: SupabaseManagement
  projectRef: string
  /** The shared database (a role that may take advisory locks); the lock that serializes edits lives there. */
  lockDatabaseUrl: string
}

/** How long a create waits for another create's edit of the exposed schemas. */
const LOCK_TIMEOUT = '60s'

/**
 * Runs `body` holding a session advisory lock in the shared database, keyed by the project: reading the exposed
 * schemas, adding one and writing them back is a read-modify-write over the API, and two creates doing it at once
 * would each drop the other's schema.
 */
async function withSchemaLock<T>(project: SharedProject, body: () => Promise<T>): Promise<T> {
  const {Client} = await loadPg()
  const client = new Client({connectionString: project.lockDatabaseUrl, connectionTimeoutMillis: 5000})
  await client.connect()
  const key = `demo:postgrest-schemas:${project.projectRef}`
  try {
    await client.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`)
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [key])
    try {
      return await body()
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key])
    }
  } finally {
    await client.end().catch(() => {})
  }
}

/** Adds the schema to the project's exposed schemas (after the ones there). Idempotent. */
export async function exposeSchema(project: SharedProject, schema: string): Promise<void> {
  await withSchemaLock(project, async () => {
    const exposed = await project.api.exposedSchemas(project.projectRef)
    if (!exposed.includes(schema)) await project.api.setExposedSchemas(project.projectRef, [...exposed, schema])
  })
}

/** Removes the schema from the project's exposed schemas, leaving the others as they are. Idempotent. */
export async function unexposeSchema(project: SharedProject, schema: string): Promise<void> {
  await withSchemaLock(project, async () => {
    const exposed = await project.api.exposedSchemas(project.projectRef)
    if (exposed.includes(schema))
      await project.api.setExposedSchemas(
        project.projectRef,
        exposed.filter((s) => s !== schema),
      )
  })
}

const API_ROLES = 'anon, authenticated, service_role'

/**
 * The grants Supabase documents for a custom schema exposed to the Data API
 * (https://supabase.com/docs/guides/api/using-custom-schemas): usage, and all on its tables, routines and
 * sequences, now and by default for objects the owner creates later. Row-level security still applies.
 */
export function dataApiGrants(schema: string, owner: string): string[] {
  const s = quoteIdent(schema)
  const o = quoteIdent(owner)
  return [
    `GRANT USAGE ON SCHEMA ${s} TO ${API_ROLES}`,
    `GRANT ALL ON ALL TABLES IN SCHEMA ${s} TO ${API_ROLES}`,
    `GRANT ALL ON ALL ROUTINES IN SCHEMA ${s} TO ${API_ROLES}`,
    `GRANT ALL ON ALL SEQUENCES IN SCHEMA ${s} TO ${API_ROLES}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT ALL ON TABLES TO ${API_ROLES}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT ALL ON ROUTINES TO ${API_ROLES}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s} GRANT ALL ON SEQUENCES TO ${API_ROLES}`,
  ]
}
