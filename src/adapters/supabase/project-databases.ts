import type {Demo, DemoDatabase} from '../../core/demo.js'
import {LimitError, SupabaseError, TimeoutError, UsageError} from '../../core/errors.js'
import {isValidId} from '../../core/naming.js'
import type {
  Clock,
  DatabaseAccess,
  Databases,
  OwnedDatabase,
  ProvisionHooks,
  Random,
  Sleeper,
  SupabaseApiKeys,
  SupabaseManagement,
  SupabaseProject,
} from '../../core/ports.js'
import type {AuthUsers, DemoLogin} from './auth-users.js'

/** Every project demo creates is named `demo-<id>`; gc finds projects a killed create left by this name. */
export const PROJECT_PREFIX = 'demo-'

/** Statuses after which a project never becomes healthy by waiting. */
const DEAD_STATUSES = new Set(['INIT_FAILED', 'REMOVED', 'GOING_DOWN', 'INACTIVE', 'PAUSING', 'PAUSE_FAILED', 'RESTORE_FAILED'])

/** Statuses that count against an organization's limit of active projects. */
const INACTIVE_STATUSES = new Set(['INACTIVE', 'REMOVED', 'GOING_DOWN'])

/** A free organization may have two active projects (supabase.com/pricing, "Free: 2 active projects"). */
export const FREE_PLAN_PROJECT_LIMIT = 2

/** Polling of a new project: the first pause, growth per poll, the longest pause (well within 120 requests a minute). */
export const POLL = {firstMs: 2000, factor: 1.5, maxMs: 15_000}

type ProvisionedDemo = Pick<Demo, 'id' | 'demoType' | 'database' | 'createdAt' | 'seedValue'>

/** What a project's database gets besides the Management API's work. */
export interface ProjectDatabaseHooks {
  /** Throws (ConfigError ...) when the type's seed or the migrations cannot be read: checked before anything exists. */
  checkType?: (demoType: string) => void
  /** The app's migrations and the type's seed over the project's database; returns the demo logins, which become Auth users. */
  prepare?: (databaseUrl: string, demo: ProvisionedDemo) => Promise<DemoLogin[]>
}

export interface SupabaseProjectOptions extends ProjectDatabaseHooks {
  api: SupabaseManagement
  authUsers: AuthUsers
  organization: string
  region: string
  plan?: 'free' | 'pro' | undefined
  /** Overrides the organization's project limit (otherwise 2 on the free plan, none on paid plans). */
  projectLimit?: number | undefined
  healthyTimeoutMs: number
  clock: Clock
  sleeper: Sleeper
  random: Random
  /** The project's API URL (https://<ref>.supabase.co). */
  projectUrl: (ref: string) => string
  /** The project's database connection string for its `postgres` user. Secret (it holds the password). */
  databaseUrl: (project: SupabaseProject, password: string) => string
}

export function supabaseProjectUrl(ref: string): string {
  return `https://${ref}.supabase.co`
}

/** Supabase's direct connection: user postgres, database postgres, port 5432, TLS required. */
export function supabaseDatabaseUrl(project: SupabaseProject, password: string): string {
  const host = project.databaseHost ?? `db.${project.ref}.supabase.co`
  return `postgresql://postgres:${encodeURIComponent(password)}@${host}:5432/postgres?sslmode=require`
}

function projectName(demoId: string): string {
  return `${PROJECT_PREFIX}${demoId}`
}

function demoIdOf(name: string): string | undefined {
  const id = name.startsWith(PROJECT_PREFIX) ? name.slice(PROJECT_PREFIX.length) : ''
  return isValidId(id) ? id : undefined
}

function refOf(database: DemoDatabase): string | null {
  return database.mode === 'supabase-project' ? database.projectRef : null
}

/**
 * `database.mode: supabase-project`: a Supabase project per demo (the plan's phase 2), named `demo-<id>`.
 * provision records the project's ref on the row (hooks.record) before it waits for ACTIVE_HEALTHY, so a killed
 * create leaves a row that points at it; a create that finds a project of the demo's name adopts it (and sets a
 * new database password, since the first one was never stored). drop deletes only a project named `demo-<id>`.
 */
export class SupabaseProjectDatabases implements Databases {
  readonly mode = 'supabase-project' as const

  constructor(private readonly options: SupabaseProjectOptions) {}

  planned(): DemoDatabase {
    return {mode: 'supabase-project', projectRef: null, url: null, anonKey: null}
  }

  /** The type's seed and migrations, and the organization's project limit: refused before any row or namespace exists. */
  async check(demoType: string): Promise<void> {
    this.options.checkType?.(demoType)
    const {api, organization} = this.options
    const limit = this.options.projectLimit ?? ((await api.organizationPlan(organization)) === 'free' ? FREE_PLAN_PROJECT_LIMIT : undefined)
    if (limit === undefined) return
    const active = (await api.projects()).filter((p) => p.organization === organization && !INACTIVE_STATUSES.has(p.status))
    if (active.length < limit) return
    throw new LimitError(
      `Cannot create a Supabase project: organization "${organization}" allows ${limit} active projects and has ${active.length} (${active.map((p) => p.name).join(', ')}).`,
      {hint: 'Destroy a demo with `demo destroy <id>`, pause or delete a project in the Supabase dashboard, or upgrade the organization.'},
    )
  }

  async provision(demo: ProvisionedDemo, hooks: ProvisionHooks = {}): Promise<DatabaseAccess> {
    const password = this.newPassword()
    const found = await this.findProject(demo)
    const project = found ?? (await this.createProject(demo.id, password))
    if (refOf(demo.database) !== project.ref) await hooks.record?.(this.recorded(project.ref, null))
    const healthy = await this.waitHealthy(project, hooks)
    if (found) await this.options.api.setDatabasePassword(project.ref, password)
    const keys = await this.options.api.apiKeys(project.ref)
    const databaseUrl = this.options.databaseUrl(healthy, password)
    const logins = (await this.options.prepare?.(databaseUrl, demo)) ?? []
    const url = this.options.projectUrl(project.ref)
    await this.options.authUsers.create({url, serviceRoleKey: keys.serviceRole}, demo.id, logins)
    const secretEnv: Record<string, string> = {DATABASE_URL: databaseUrl, SUPABASE_URL: url, SUPABASE_ANON_KEY: keys.anon}
    if (logins.length > 0) secretEnv.DEMO_LOGINS = JSON.stringify(logins)
    return {database: this.recorded(project.ref, keys.anon), secretEnv, serviceRoleEnv: {SUPABASE_SERVICE_ROLE_KEY: keys.serviceRole}}
  }

  /** The database password lives only in the demo's Secret, so demo cannot reconnect to re-seed (a new password would break the running services). */
  reseed(demo: Pick<Demo, 'id'>): Promise<void> {
    return Promise.reject(
      new UsageError(`Demo "${demo.id}" has a Supabase project of its own, which demo cannot re-seed in place; nothing was changed.`, {
        hint: `Destroy it with \`demo destroy ${demo.id}\` and create a new one.`,
      }),
    )
  }

  async drop(demo: Pick<Demo, 'id' | 'database'>): Promise<void> {
    const project = await this.findProject(demo)
    if (!project) return
    await this.options.api.deleteProject(project.ref)
  }

  async isReachable(demo: Pick<Demo, 'id' | 'database'>): Promise<boolean> {
    const ref = refOf(demo.database)
    return ref !== null && (await this.options.api.project(ref))?.status === 'ACTIVE_HEALTHY'
  }

  async owned(): Promise<OwnedDatabase[]> {
    const ours = (await this.options.api.projects()).filter((p) => p.organization === this.options.organization && demoIdOf(p.name))
    return Promise.all(
      ours.map(async (p) => ({
        demoId: demoIdOf(p.name) ?? '',
        name: `project ${p.ref} (${p.name})`,
        database: this.recorded(p.ref, p.status === 'ACTIVE_HEALTHY' ? (await this.keysOf(p.ref)).anon : null),
      })),
    )
  }

  private async keysOf(ref: string): Promise<SupabaseApiKeys> {
    return this.options.api.apiKeys(ref)
  }

  private recorded(ref: string, anonKey: string | null): DemoDatabase {
    return {mode: 'supabase-project', projectRef: ref, url: this.options.projectUrl(ref), anonKey}
  }

  /**
   * The demo's project: the one the row records (which must be named `demo-<id>`: a ref that names someone
   * else's project is refused, never deleted), else one of the demo's name a killed create left.
   */
  private async findProject(demo: Pick<Demo, 'id' | 'database'>): Promise<SupabaseProject | undefined> {
    const ref = refOf(demo.database)
    const name = projectName(demo.id)
    const project = ref ? await this.options.api.project(ref) : (await this.options.api.projects()).find((p) => p.name === name)
    if (project && project.name !== name) {
      throw new SupabaseError(
        `Supabase project ${project.ref} is named "${project.name}", not "${name}": it is not demo ${demo.id}'s and is left untouched.`,
        {
          hint: 'Check the project in the Supabase dashboard; fix or delete the demo row by hand.',
        },
      )
    }
    return project
  }

  private createProject(demoId: string, password: string): Promise<SupabaseProject> {
    const {organization, region, plan} = this.options
    return this.options.api.createProject({name: projectName(demoId), organization, region, databasePassword: password, plan})
  }

  /** Polls with growing pauses (POLL) until ACTIVE_HEALTHY; TimeoutError after healthyTimeoutMs, SupabaseError on a dead status. */
  private async waitHealthy(project: SupabaseProject, hooks: ProvisionHooks): Promise<SupabaseProject> {
    const {clock, sleeper, healthyTimeoutMs} = this.options
    const startedAt = clock.now().getTime()
    let pauseMs = POLL.firstMs
    for (;;) {
      const now = await this.options.api.project(project.ref)
      if (!now) throw new SupabaseError(`Supabase project ${project.ref} disappeared while it was being created.`)
      if (now.status === 'ACTIVE_HEALTHY') return now
      if (DEAD_STATUSES.has(now.status)) throw new SupabaseError(`Supabase project ${project.ref} is ${now.status}; it will not become healthy.`)
      const waitedMs = clock.now().getTime() - startedAt
      hooks.progress?.(`project ${project.ref} is ${now.status} (${Math.round(waitedMs / 1000)} s)`)
      if (waitedMs + pauseMs > healthyTimeoutMs) {
        throw new TimeoutError(
          `Supabase project ${project.ref} was not healthy after ${Math.round(healthyTimeoutMs / 1000)} s (last status ${now.status}).`,
          {
            hint: 'Supabase may be slow right now (status.supabase.com); try again, or raise supabase.healthyTimeout in demo.config.yaml.',
          },
        )
      }
      await sleeper.sleep(pauseMs)
      pauseMs = Math.min(POLL.maxMs, Math.round(pauseMs * POLL.factor))
    }
  }

  /** 32 random characters from a URL-safe alphabet (no character that needs quoting in a connection string). */
  private newPassword(): string {
    return Buffer.from(this.options.random.bytes(24)).toString('base64url')
  }
}
