import type pg from 'pg'
import {DatabaseError, DatabaseUnavailableError} from '../../../core/errors.js'
import {missingPrivileges, type SharedDatabasePrivileges} from '../../../core/shared-database.js'
import type {Queryable} from './migrations.js'
import {loadPg} from '../../postgres/pg-module.js'
import {quoteIdent, quoteLiteral} from './sql-text.js'

/**
 * The SQL building blocks of a schema-per-demo database, shared by every adapter that puts a demo in a schema of
 * a Postgres it administers (shared-schema here; a Supabase project's database builds on the same): connect,
 * check privileges, create the schema and its role, drop them. Every function takes a connected client.
 */

/** The mark on a demo's schema and role (COMMENT): only objects carrying it are adopted, listed and dropped. */
export function ownershipMark(demoId: string, database: string): string {
  return `demo-cli:${database}:${demoId}`
}

const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  '28P01',
  '28000',
  '3D000',
  '57P03',
])

/** The host and database of a URL, never its password, for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`
  } catch {
    return '(an unparsable URL)'
  }
}

/** Opens a client on `url`; DatabaseUnavailableError (classified by error code) when it cannot connect. */
export async function connect(url: string, what: string, timeoutMs = 5000): Promise<pg.Client> {
  const {Client} = await loadPg()
  const client = new Client({connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'demo-cli'})
  client.on('error', () => {})
  try {
    await client.connect()
    return client
  } catch (error) {
    await client.end().catch(() => {})
    const raw = (error as {code?: unknown}).code
    const code = typeof raw === 'string' ? raw : ''
    const reason = error instanceof Error ? error.message : String(error)
    if (CONNECTION_FAILURES.has(code) || /timeout/i.test(code) || code === '') {
      throw new DatabaseUnavailableError(`Cannot connect to ${what} at ${describeUrl(url)}: ${reason}.`, {
        hint: 'Check DEMO_SHARED_DATABASE_URL (host, port, database, credentials) and that the server accepts connections from here.',
        cause: error,
      })
    }
    throw new DatabaseError(`Cannot connect to ${what} at ${describeUrl(url)}: ${reason}.`, {cause: error})
  }
}

/** Runs `body` in one transaction on `client`; rolls back and rethrows on any error. */
export async function inTransaction<T>(client: pg.Client, body: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    const result = await body()
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** What the connected role may do in this database (read-only): the facts create's check and `demo doctor` judge. */
export async function readPrivileges(client: Queryable, where: string): Promise<SharedDatabasePrivileges> {
  const {rows} = await client.query<{
    role: string
    db: string
    version: string
    superuser: boolean
    createrole: boolean
    create: boolean
    public_create: boolean | null
  }>(
    `SELECT current_user AS role, current_database() AS db, current_setting('server_version') AS version,
            r.rolsuper AS superuser, r.rolcreaterole AS createrole, has_database_privilege(current_database(), 'CREATE') AS create,
            (SELECT has_schema_privilege('public', n.oid, 'CREATE') FROM pg_namespace n WHERE n.nspname = 'public') AS public_create
     FROM pg_roles r WHERE r.rolname = current_user`,
  )
  const row = rows[0]
  if (!row) throw new DatabaseError('Cannot read the privileges of the shared database role.')
  return {
    where,
    role: row.role,
    database: row.db,
    serverVersion: row.version,
    superuser: row.superuser,
    createRole: row.createrole,
    createOnDatabase: row.create,
    publicMayCreateInPublic: row.public_create,
  }
}

/**
 * The up-front check: the connected role may create roles (CREATEROLE) and schemas (CREATE on the database).
 * DatabaseError whose hint is the exact GRANT to run.
 */
export async function checkPrivileges(client: Queryable): Promise<void> {
  const privileges = await readPrivileges(client, '')
  const missing = missingPrivileges(privileges)
  if (missing.length === 0) return
  throw new DatabaseError(
    `The shared database role "${privileges.role}" lacks ${missing.map((m) => m.name).join(' and ')}: it cannot create a schema and a login role per demo.`,
    {hint: `As a superuser run: ${missing.map((m) => m.grant).join(' ')}`},
  )
}

export interface DemoRole {
  /** The schema and the login role: both `demo_<id>`. */
  name: string
  demoId: string
  password: string
  connectionLimit: number
}

interface Marked {
  exists: boolean
  mark: string | null
}

async function roleMark(client: Queryable, role: string): Promise<Marked> {
  const {rows} = await client.query<{mark: string | null}>(`SELECT shobj_description(oid, 'pg_authid') AS mark FROM pg_roles WHERE rolname = $1`, [
    role,
  ])
  return {exists: rows.length > 0, mark: rows[0]?.mark ?? null}
}

async function schemaMark(client: Queryable, schema: string): Promise<Marked> {
  const {rows} = await client.query<{mark: string | null}>(
    `SELECT obj_description(oid, 'pg_namespace') AS mark FROM pg_namespace WHERE nspname = $1`,
    [schema],
  )
  return {exists: rows.length > 0, mark: rows[0]?.mark ?? null}
}

async function databaseName(client: Queryable): Promise<string> {
  const {rows} = await client.query<{db: string}>('SELECT current_database() AS db')
  return rows[0]?.db ?? ''
}

function refuseForeign(kind: string, name: string, found: Marked, mark: string): void {
  if (found.exists && found.mark !== mark) {
    throw new DatabaseError(`A ${kind} named "${name}" exists without this demo's mark (${found.mark ?? 'no comment'}); it is left untouched.`, {
      hint: `It was not made by demo for this database. Remove it by hand if it is a leftover, or check for another installation using the same names.`,
    })
  }
}

/**
 * Creates (or adopts) the demo's login role and the schema it owns, inside the caller's transaction: the role gets
 * a new password, a connection limit, search_path = its schema; the schema and role carry our mark. Refuses a
 * role or schema of that name without our mark.
 */
export async function ensureDemoSchema(client: Queryable, role: DemoRole): Promise<void> {
  const mark = ownershipMark(role.demoId, await databaseName(client))
  const name = quoteIdent(role.name)
  const existingRole = await roleMark(client, role.name)
  refuseForeign('role', role.name, existingRole, mark)
  const existingSchema = await schemaMark(client, role.name)
  refuseForeign('schema', role.name, existingSchema, mark)
  const options = `LOGIN NOINHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT ${role.connectionLimit} PASSWORD ${quoteLiteral(role.password)}`
  await client.query(existingRole.exists ? `ALTER ROLE ${name} WITH ${options}` : `CREATE ROLE ${name} WITH ${options}`)
  await client.query(`COMMENT ON ROLE ${name} IS ${quoteLiteral(mark)}`)
  // PostgreSQL 16+ gives the creator ADMIN but not SET on a role it creates; membership lets us own its schema and drop what it owns.
  await client.query(`GRANT ${name} TO CURRENT_USER`)
  await client.query(`ALTER ROLE ${name} SET search_path = ${name}`)
  if (!existingSchema.exists) await client.query(`CREATE SCHEMA ${name} AUTHORIZATION ${name}`)
  await client.query(`COMMENT ON SCHEMA ${name} IS ${quoteLiteral(mark)}`)
}

/**
 * Removes the demo's schema (cascade) and role: no more logins, its sessions ended, everything it owns in this
 * database dropped. Idempotent; refuses (DatabaseError) a schema or role of that name without our mark.
 */
export async function dropDemoSchema(client: pg.Client, demo: {name: string; demoId: string}): Promise<void> {
  const mark = ownershipMark(demo.demoId, await databaseName(client))
  const name = quoteIdent(demo.name)
  const role = await roleMark(client, demo.name)
  const schema = await schemaMark(client, demo.name)
  refuseForeign('role', demo.name, role, mark)
  refuseForeign('schema', demo.name, schema, mark)
  if (role.exists) {
    await client.query(`ALTER ROLE ${name} NOLOGIN`)
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [demo.name])
  }
  await inTransaction(client, async () => {
    if (schema.exists) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
    if (role.exists) {
      await client.query(`DROP OWNED BY ${name}`)
      await client.query(`DROP ROLE IF EXISTS ${name}`)
    }
  })
}

/** Every schema and role of this database that carries our mark, by demo id (read-only). */
export async function markedDemoSchemas(client: Queryable): Promise<Array<{demoId: string; name: string; kinds: string[]}>> {
  const prefix = `demo-cli:${await databaseName(client)}:`
  const {rows} = await client.query<{name: string; mark: string; kind: string}>(
    `SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS mark, 'schema' AS kind FROM pg_namespace
     WHERE obj_description(oid, 'pg_namespace') LIKE 'demo-cli:%'
     UNION ALL
     SELECT rolname, shobj_description(oid, 'pg_authid'), 'role' FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE 'demo-cli:%'
     ORDER BY 1, 3`,
  )
  const found = new Map<string, {demoId: string; name: string; kinds: string[]}>()
  for (const row of rows.filter((r) => r.mark.startsWith(prefix))) {
    const demoId = row.mark.slice(prefix.length)
    const entry = found.get(demoId) ?? {demoId, name: row.name, kinds: []}
    entry.kinds.push(row.kind)
    found.set(demoId, entry)
  }
  return [...found.values()]
}
