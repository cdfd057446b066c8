import {createClient} from '@supabase/supabase-js'
import type pg from 'pg'
import type {Demo, DemoDatabase} from '../../core/demo.js'
import {ConfigError} from '../../core/errors.js'
import {isValidId, schemaFor} from '../../core/naming.js'
import type {DatabaseAccess, Databases, OwnedDatabase, ProvisionHooks, SupabaseManagement} from '../../core/ports.js'
import {connect, inTransaction} from '../databases/postgres/demo-schema.js'
import {quoteIdent} from '../databases/postgres/sql-text.js'
import {appTables} from '../databases/seeds/load-seed.js'
import type {AuthTarget, AuthUsers, DemoLogin} from './auth-users.js'
import {dataApiGrants, exposeSchema, unexposeSchema, type SharedProject} from './data-api-schemas.js'

/** The roles Supabase's Data API runs requests as (https://supabase.com/docs/guides/database/postgres/roles). */
export const DATA_API_ROLES = ['anon', 'authenticated', 'service_role'] as const

const DATA_API_TIMEOUT_MS = 10_000

export interface SupabaseSharedSchemaOptions {
  /** Plain shared-schema over the project's Postgres: schema, role, migrations and seed. */
  inner: Databases
  api: SupabaseManagement
  /** supabase.projectRef: the shared project. */
  projectRef: string
  /** The project's Postgres as the admin role of shared-schema (grants, the advisory lock). Secret. */
  adminUrl: string
  authUsers: AuthUsers
  /** The project's API URL (https://<ref>.supabase.co, or DEMO_SUPABASE_PROJECT_URL_TEMPLATE). */
  projectUrl: (ref: string) => string
}

type ProvisionedDemo = Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt' | 'seedValue'>

function isLogin(value: unknown): value is DemoLogin {
  if (!value || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  return typeof v.email === 'string' && typeof v.password === 'string' && typeof v.role === 'string'
}

/** The demo logins shared-schema put in the Secret (DEMO_LOGINS, JSON): they become the project's Auth users. */
function loginsOf(secretEnv: Record<string, string>): DemoLogin[] {
  const parsed: unknown = secretEnv.DEMO_LOGINS ? JSON.parse(secretEnv.DEMO_LOGINS) : []
  return Array.isArray(parsed) ? parsed.filter(isLogin) : []
}

/**
 * A persona's e-mail as an Auth user of the shared project: every demo seeds the same personas, and e-mails are
 * unique in a project's Auth, so each demo's are plus-addressed with its id (admin+k3x9a2bq@demo.example).
 */
export function authEmail(email: string, demoId: string): string {
  const at = email.lastIndexOf('@')
  return at < 0 ? `${email}+${demoId}` : `${email.slice(0, at)}+${demoId}${email.slice(at)}`
}

function schemaOf(demo: Pick<Demo, 'id' | 'database'>): string {
  return demo.database.mode === 'shared-schema' ? demo.database.schema : schemaFor(demo.id)
}

/** The demo id of a schema named `demo_<id>`, else undefined (someone else's exposed schema). */
function demoIdOfSchema(schema: string): string | undefined {
  const id = schema.startsWith('demo_') ? schema.slice('demo_'.length) : ''
  return isValidId(id) && schemaFor(id) === schema ? id : undefined
}

/**
 * shared-schema on a Supabase project (`supabase.projectRef`): the project's Postgres is the shared database, and
 * on top of plain shared-schema each demo's schema is granted to the Data API's roles as Supabase documents for
 * custom schemas, exposed to PostgREST (serialized by an advisory lock, data-api-schemas.ts), and its demo logins
 * become Auth users tagged with the demo id. Drop undoes all three before dropping the schema; `owned` also finds
 * tagged Auth users and exposed `demo_<id>` schemas a killed create or destroy left, so gc reconciles them.
 */
export class SupabaseSharedSchemaDatabases implements Databases {
  readonly mode = 'shared-schema' as const

  constructor(private readonly options: SupabaseSharedSchemaOptions) {}

  planned(demoId: string): DemoDatabase {
    return this.options.inner.planned(demoId)
  }

  /** Plain shared-schema's checks, the project is there, and the Data API's roles exist in its database. */
  async check(demoType: string): Promise<void> {
    await this.options.inner.check(demoType)
    const {projectRef} = this.options
    if (!(await this.options.api.project(projectRef))) {
      throw new ConfigError(`Supabase project ${projectRef} (supabase.projectRef) was not found with this SUPABASE_ACCESS_TOKEN.`, {
        hint: 'Check supabase.projectRef in demo.config.yaml and that the token may manage that project.',
      })
    }
    const missing = await this.withAdmin(async (client) => {
      const {rows} = await client.query<{rolname: string}>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [[...DATA_API_ROLES]])
      return DATA_API_ROLES.filter((role) => !rows.some((r) => r.rolname === role))
    })
    if (missing.length > 0) {
      throw new ConfigError(`The shared database has no role ${missing.join(', ')}: it is not the Postgres of a Supabase project.`, {
        hint: `Point ${'DEMO_SHARED_DATABASE_URL'} (database.urlEnv) at the Postgres of project ${projectRef}.`,
      })
    }
  }

  async provision(demo: ProvisionedDemo, hooks?: ProvisionHooks): Promise<DatabaseAccess> {
    const access = await this.options.inner.provision(demo, hooks)
    const schema = schemaOf({id: demo.id, database: access.database})
    await this.grantDataApi(schema)
    await exposeSchema(this.project(), schema)
    const keys = await this.options.api.apiKeys(this.options.projectRef)
    const url = this.options.projectUrl(this.options.projectRef)
    const logins = loginsOf(access.secretEnv).map((login) => ({...login, authEmail: authEmail(login.email, demo.id)}))
    const authLogins = logins.map((login) => ({email: login.authEmail, password: login.password, role: login.role}))
    await this.options.authUsers.create({url, serviceRoleKey: keys.serviceRole}, demo.id, authLogins)
    const secretEnv: Record<string, string> = {...access.secretEnv, SUPABASE_URL: url, SUPABASE_ANON_KEY: keys.anon}
    if (logins.length > 0) secretEnv.DEMO_LOGINS = JSON.stringify(logins)
    return {
      database: this.recorded(schema, keys.anon),
      secretEnv,
      serviceRoleEnv: {SUPABASE_SERVICE_ROLE_KEY: keys.serviceRole},
    }
  }

  reseed(demo: Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt'>, seedValue: number): Promise<void> {
    return this.options.inner.reseed(demo, seedValue)
  }

  /** Deletes the demo's Auth users, un-exposes its schema, then drops schema and role. Idempotent. */
  async drop(demo: Pick<Demo, 'id' | 'database'>): Promise<void> {
    await this.options.authUsers.deleteFor(await this.authTarget(), demo.id)
    await unexposeSchema(this.project(), schemaOf(demo))
    await this.options.inner.drop(demo)
  }

  isReachable(demo: Pick<Demo, 'id' | 'database'>): Promise<boolean> {
    return this.options.inner.isReachable(demo)
  }

  /** Plain shared-schema's schemas and roles, plus Auth users tagged with a demo id and exposed `demo_<id>` schemas, one entry per demo. */
  async owned(): Promise<OwnedDatabase[]> {
    const keys = await this.options.api.apiKeys(this.options.projectRef)
    const [schemas, tagged, exposed] = await Promise.all([
      this.options.inner.owned(),
      this.options.authUsers.tagged(this.authTargetWith(keys.serviceRole)),
      this.options.api.exposedSchemas(this.options.projectRef),
    ])
    const parts = new Map<string, string[]>(schemas.map((s) => [s.demoId, [s.name]]))
    const add = (demoId: string, part: string): void => {
      if (isValidId(demoId)) parts.set(demoId, [...(parts.get(demoId) ?? []), part])
    }
    for (const [demoId, count] of tagged) add(demoId, `${count} Supabase Auth user${count === 1 ? '' : 's'}`)
    for (const schema of exposed) {
      const demoId = demoIdOfSchema(schema)
      if (demoId) add(demoId, `Data API exposure of ${schema}`)
    }
    return [...parts].map(([demoId, names]) => ({demoId, name: names.join(', '), database: this.recorded(schemaFor(demoId), keys.anon)}))
  }

  /** A `head` count of the first non-empty app table through the Data API with the anon key, as the demo's anon role sees it. */
  async checkDataApi(demo: Pick<Demo, 'id' | 'database'>): Promise<{healthy: boolean; detail: string} | undefined> {
    const supabase = demo.database.mode === 'shared-schema' ? demo.database.supabase : null
    if (!supabase) return undefined
    const schema = schemaOf(demo)
    try {
      const table = await this.seededTable(schema)
      if (!table) return {healthy: false, detail: `schema ${schema} has no seeded table to count through the Data API`}
      const client = createClient(supabase.url, supabase.anonKey, {
        db: {schema},
        auth: {persistSession: false, autoRefreshToken: false, detectSessionInUrl: false},
        global: {fetch: (input, init) => fetch(input, {...init, signal: AbortSignal.timeout(DATA_API_TIMEOUT_MS)})},
      })
      const {count, error, status} = await client.from(table).select('*', {count: 'exact', head: true})
      if (error || count === null)
        return {healthy: false, detail: `Data API count of ${schema}.${table} as anon answered ${status}${error?.code ? ` (${error.code})` : ''}`}
      return {healthy: true, detail: `Data API: ${count} rows in ${schema}.${table} as anon`}
    } catch (error) {
      return {healthy: false, detail: `Data API of ${schema} not reachable (${error instanceof Error ? error.message : String(error)})`}
    }
  }

  private async seededTable(schema: string): Promise<string | undefined> {
    return this.withAdmin(async (client) => {
      for (const table of await appTables(client, schema)) {
        const {rows} = await client.query(`SELECT 1 FROM ${quoteIdent(schema)}.${quoteIdent(table)} LIMIT 1`)
        if (rows.length > 0) return table
      }
      return undefined
    })
  }

  /** As the schema's owner role (shared-schema's admin is a member), so default privileges cover what the owner creates later. */
  private async grantDataApi(schema: string): Promise<void> {
    await this.withAdmin((client) =>
      inTransaction(client, async () => {
        await client.query(`SET LOCAL ROLE ${quoteIdent(schema)}`)
        for (const statement of dataApiGrants(schema, schema)) await client.query(statement)
      }),
    )
  }

  private async authTarget(): Promise<AuthTarget> {
    return this.authTargetWith((await this.options.api.apiKeys(this.options.projectRef)).serviceRole)
  }

  private authTargetWith(serviceRoleKey: string): AuthTarget {
    return {url: this.options.projectUrl(this.options.projectRef), serviceRoleKey}
  }

  /** What the row records: the schema and the shared project's ref, URL and anon key. */
  private recorded(schema: string, anonKey: string): DemoDatabase {
    const {projectRef} = this.options
    return {mode: 'shared-schema', schema, supabase: {projectRef, url: this.options.projectUrl(projectRef), anonKey}}
  }

  private project(): SharedProject {
    return {api: this.options.api, projectRef: this.options.projectRef, lockDatabaseUrl: this.options.adminUrl}
  }

  private async withAdmin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await connect(this.options.adminUrl, 'the shared database of the Supabase project')
    try {
      return await body(client)
    } finally {
      await client.end().catch(() => {})
    }
  }
}
