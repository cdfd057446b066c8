import {randomBytes} from 'node:crypto'
import type pg from 'pg'
import type {Demo, DemoDatabase} from '../../core/demo.js'
import {DatabaseError, UsageError} from '../../core/errors.js'
import {schemaFor} from '../../core/naming.js'
import type {DatabaseAccess, Databases, OwnedDatabase} from '../../core/ports.js'
import type {SharedDatabasePrivileges} from '../../core/shared-database.js'
import {
  checkPrivileges,
  connect,
  describeUrl,
  dropDemoSchema,
  ensureDemoSchema,
  inTransaction,
  markedDemoSchemas,
  readPrivileges,
} from './postgres/demo-schema.js'
import {applyMigrations, type SqlFile} from './postgres/migrations.js'
import {quoteIdent} from './postgres/sql-text.js'
import {appTables, truncateAppTables} from './seeds/load-seed.js'
import {
  loadSeedInTransaction,
  personaHashes,
  personasOf,
  restorePersonaHashes,
  runSeedCommand,
  setPersonaPasswords,
  type Login,
  type SeedRun,
  type SeedSource,
} from './seeds/seed-source.js'

export interface SharedSchemaOptions {
  /** The shared Postgres (DEMO_SHARED_DATABASE_URL): a role with CREATEROLE and CREATE on the database. */
  adminUrl: string
  /** The app's migration files, in order (read when first needed, so a bad directory fails the check). */
  migrations: () => SqlFile[]
  /** Where a type's data comes from; throws ConfigError for an unknown seed. */
  seedFor: (demoType: string) => SeedSource
  /** Most sessions a demo's role may hold at once. */
  connectionLimit: number
  /** Output lines of a command seed (the progress list). */
  output?: (line: string) => void
}

/** The role's URL: the shared server and database, the demo's role and password, search_path on its schema. */
export function demoDatabaseUrl(adminUrl: string, role: string, password: string): string {
  const url = new URL(adminUrl)
  url.username = role
  url.password = password
  url.search = ''
  url.searchParams.set('options', `-c search_path=${role}`)
  return url.toString()
}

const SHARED_DATABASE = 'the shared database (DEMO_SHARED_DATABASE_URL)'

/** What the role of the shared database at `adminUrl` may do (`demo doctor`); DatabaseUnavailableError when it cannot connect. */
export async function readSharedDatabasePrivileges(adminUrl: string): Promise<SharedDatabasePrivileges> {
  const client = await connect(adminUrl, SHARED_DATABASE)
  try {
    return await readPrivileges(client, describeUrl(adminUrl))
  } finally {
    await client.end().catch(() => {})
  }
}

type ProvisionedDemo = Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt' | 'seedValue'>

/**
 * Database mode `shared-schema`: schema `demo_<id>` in a shared Postgres, owned by a login role of the same name
 * that can use nothing else; the app's migrations and the type's seed loaded in the same transaction that creates
 * them, so a failure leaves neither schema nor role behind.
 */
export class SharedSchemaDatabases implements Databases {
  readonly mode = 'shared-schema' as const

  constructor(private readonly options: SharedSchemaOptions) {}

  planned(demoId: string): DemoDatabase {
    return {mode: 'shared-schema', schema: schemaFor(demoId), supabase: null}
  }

  async check(demoType: string): Promise<void> {
    this.options.migrations()
    this.options.seedFor(demoType)
    await this.withAdmin(checkPrivileges)
  }

  async provision(demo: ProvisionedDemo): Promise<DatabaseAccess> {
    const schema = this.schemaOf(demo)
    const source = this.options.seedFor(demo.demoType)
    const migrations = this.options.migrations()
    const password = randomBytes(24).toString('base64url')
    const run: SeedRun = {seedValue: demo.seedValue ?? 0, createdAt: demo.createdAt}
    const timings = partTimer()
    const logins = await this.withAdmin(async (client) => {
      await checkPrivileges(client)
      return inTransaction(client, async () => {
        await timings.time('schema', () =>
          ensureDemoSchema(client, {name: schema, demoId: demo.id, password, connectionLimit: this.options.connectionLimit}),
        )
        await client.query(`SET LOCAL ROLE ${quoteIdent(schema)}`)
        await timings.time('migrations', () => applyMigrations(client, schema, migrations))
        await timings.time('seed', async () => {
          if (await this.isEmpty(client, schema)) await loadSeedInTransaction(client, source, run)
        })
        return timings.time('logins', () => setPersonaPasswords(client, schema, personasOf(source)))
      })
    })
    const databaseUrl = demoDatabaseUrl(this.options.adminUrl, schema, password)
    if (source.kind === 'command')
      await timings.time('seedCommand', () => runSeedCommand(source, {databaseUrl, schema, run}, this.options.output ?? (() => {})))
    return {database: this.planned(demo.id), secretEnv: secretEnv(databaseUrl, schema, logins), timings: timings.seconds}
  }

  async reseed(demo: Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt'>, seedValue: number): Promise<void> {
    const schema = this.schemaOf(demo)
    const source = this.options.seedFor(demo.demoType)
    if (source.kind === 'command') {
      throw new UsageError(`Demo "${demo.id}" is seeded by a command, which cannot run inside a reset's transaction; nothing was changed.`, {
        hint: `Destroy it and create a new one (\`demo create --type ${demo.demoType} --seed-value <n>\`).`,
      })
    }
    await this.withAdmin(async (client) => {
      await this.assertExists(client, demo.id, schema)
      await inTransaction(client, async () => {
        const hashes = await personaHashes(client, schema, personasOf(source))
        await client.query(`SET LOCAL ROLE ${quoteIdent(schema)}`)
        await client.query(`SET LOCAL search_path = ${quoteIdent(schema)}`)
        await truncateAppTables(client, schema)
        await loadSeedInTransaction(client, source, {seedValue, createdAt: demo.createdAt})
        await restorePersonaHashes(client, schema, hashes)
      })
    })
  }

  async drop(demo: Pick<Demo, 'id' | 'database'>): Promise<void> {
    const schema = this.schemaOf(demo)
    await this.withAdmin((client) => dropDemoSchema(client, {name: schema, demoId: demo.id}))
  }

  async isReachable(demo: Pick<Demo, 'id' | 'database'>): Promise<boolean> {
    try {
      return await this.withAdmin(async (client) => {
        const {rows} = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schemaOf(demo)])
        return rows.length > 0
      })
    } catch {
      return false
    }
  }

  async owned(): Promise<OwnedDatabase[]> {
    const found = await this.withAdmin(markedDemoSchemas)
    return found.map(({demoId, name, kinds}) => ({
      demoId,
      name: `${[...kinds].sort().reverse().join(' and ')} ${name}`,
      database: this.planned(demoId),
    }))
  }

  private schemaOf(demo: Pick<Demo, 'id' | 'database'>): string {
    return demo.database.mode === 'shared-schema' ? demo.database.schema : schemaFor(demo.id)
  }

  /** Whether every app table is empty (a killed create's schema is adopted without loading its seed twice). */
  private async isEmpty(client: pg.Client, schema: string): Promise<boolean> {
    for (const table of await appTables(client, schema)) {
      const {rows} = await client.query(`SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(table)} LIMIT 1`)
      if (rows.length > 0) return false
    }
    return true
  }

  private async assertExists(client: pg.Client, demoId: string, schema: string): Promise<void> {
    const {rows} = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
    if (rows.length === 0) {
      throw new DatabaseError(`Demo "${demoId}" has no schema ${schema} in the shared database: there is nothing to reset.`, {
        hint: `Destroy it with \`demo destroy ${demoId}\` and create a new one.`,
      })
    }
  }

  private async withAdmin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await connect(this.options.adminUrl, SHARED_DATABASE)
    try {
      return await body(client)
    } finally {
      await client.end().catch(() => {})
    }
  }
}

/** Seconds each named part of provisioning took (the monotonic clock), for the create's phase timings. */
function partTimer(): {seconds: Record<string, number>; time<T>(part: string, body: () => Promise<T>): Promise<T>} {
  const seconds: Record<string, number> = {}
  return {
    seconds,
    async time(part, body) {
      const started = performance.now()
      try {
        return await body()
      } finally {
        seconds[part] = Math.round(performance.now() - started) / 1000
      }
    },
  }
}

/** What the demo's Secret gets: DATABASE_URL, DB_SCHEMA and, when the seed has personas, DEMO_LOGINS (JSON). */
function secretEnv(databaseUrl: string, schema: string, logins: Login[]): Record<string, string> {
  const env: Record<string, string> = {DATABASE_URL: databaseUrl, DB_SCHEMA: schema}
  if (logins.length > 0) env.DEMO_LOGINS = JSON.stringify(logins)
  return env
}
