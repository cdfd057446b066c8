import {join} from 'node:path'
import pg from 'pg'
import {readMigrations, type SqlFile} from '../../src/adapters/databases/postgres/migrations.js'
import {readSeedProfile} from '../../src/adapters/databases/seeds/seed-profile.js'
import type {SeedSource} from '../../src/adapters/databases/seeds/seed-source.js'
import {SharedSchemaDatabases, type SharedSchemaOptions} from '../../src/adapters/databases/shared-schema.js'

export const REPO = join(import.meta.dirname, '..', '..')
export const BUILT_IN_MIGRATIONS = join(REPO, 'templates', 'migrations')
export const SEEDS = join(REPO, 'seeds')

/** The built-in seed of a type (types and seeds share names). */
export function builtInSeed(name: string): SeedSource {
  return {kind: 'generated', name, profile: readSeedProfile(SEEDS, name)}
}

/** A shared-schema adapter over `adminUrl` with the built-in migrations and seeds, unless `overrides` say otherwise. */
export function sharedSchema(adminUrl: string, overrides: Partial<SharedSchemaOptions> = {}): SharedSchemaDatabases {
  return new SharedSchemaDatabases({
    adminUrl,
    connectionLimit: 5,
    migrations: (): SqlFile[] => readMigrations(BUILT_IN_MIGRATIONS),
    seedFor: builtInSeed,
    ...overrides,
  })
}

/** Runs `body` with a client on `url`, closed afterwards. */
export async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    return await body(client)
  } finally {
    await client.end()
  }
}

/**
 * A checksum of every table of the schema (all rows, in a fixed order), by table name. Persona password hashes are
 * left out: they are salted per demo on purpose; everything else must be byte-identical for the same seed value.
 */
export async function tableChecksums(client: pg.Client, schema: string): Promise<Record<string, string>> {
  const {rows: tables} = await client.query<{name: string}>(
    `SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND relname <> 'schema_migrations' ORDER BY relname`,
    [schema],
  )
  const sums: Record<string, string> = {}
  for (const {name} of tables) {
    const {rows} = await client.query<{sum: string | null; n: number}>(
      `SELECT md5(string_agg((to_jsonb(t) - 'password_hash')::text, E'\\n' ORDER BY (to_jsonb(t) - 'password_hash')::text)) AS sum, count(*)::int AS n
       FROM "${schema}"."${name}" t`,
    )
    sums[name] = `${rows[0]?.n ?? 0}:${rows[0]?.sum ?? ''}`
  }
  return sums
}

/** Whether a schema and a role of this name exist. */
export async function schemaAndRole(client: pg.Client, name: string): Promise<{schema: boolean; role: boolean}> {
  const {rows} = await client.query<{schema: boolean; role: boolean}>(
    `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1) AS schema, EXISTS (SELECT FROM pg_roles WHERE rolname = $1) AS role`,
    [name],
  )
  return rows[0] ?? {schema: false, role: false}
}

/** The SQLSTATE a query fails with as `url`'s role, or 'ok'. */
export async function sqlStateOf(url: string, sql: string): Promise<string> {
  return withClient(url, async (client) => {
    try {
      await client.query(sql)
      return 'ok'
    } catch (error) {
      return String((error as {code?: string}).code)
    }
  })
}
