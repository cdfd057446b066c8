import type {LoadedConfig} from '../../config.js'
import {ConfigError, UsageError} from '../../core/errors.js'
import type {Clock, Databases, Random, Sleeper, SupabaseManagement, SupabaseProject} from '../../core/ports.js'
import {readMigrations} from '../databases/postgres/migrations.js'
import {seedSourceFor} from '../databases/seeds/config-seeds.js'
import {supabaseAuthUsers} from './auth-users.js'
import {SupabaseManagementApi} from './management-client.js'
import {setUpProjectDatabase} from './project-database-setup.js'
import {supabaseDatabaseUrl, supabaseProjectUrl, SupabaseProjectDatabases, type ProjectDatabaseHooks} from './project-databases.js'
import {SupabaseSharedSchemaDatabases} from './shared-project-databases.js'

export interface SupabaseSources {
  loaded: LoadedConfig
  env: NodeJS.ProcessEnv
  clock: Clock
  sleeper: Sleeper
  random: Random
  /** Output lines of a command seed. */
  output: (line: string) => void
}

/** The Management API with SUPABASE_ACCESS_TOKEN (DEMO_SUPABASE_API_URL points it elsewhere: a stand-in, a proxy). */
export function openManagementApi(sources: Pick<SupabaseSources, 'env' | 'clock' | 'sleeper'>): SupabaseManagement {
  const token = sources.env.SUPABASE_ACCESS_TOKEN
  if (!token) {
    throw new UsageError('SUPABASE_ACCESS_TOKEN is not set; the Supabase database modes need it.', {
      hint: 'Create a personal access token at supabase.com/dashboard/account/tokens and export SUPABASE_ACCESS_TOKEN=<token>.',
    })
  }
  return new SupabaseManagementApi({
    token,
    baseUrl: sources.env.DEMO_SUPABASE_API_URL,
    hooks: {sleep: (ms) => sources.sleeper.sleep(ms), now: () => sources.clock.now().getTime()},
  })
}

/** A template of `{ref}` (and `{password}`, `{host}` for a database URL); refuses one without `{ref}` at all. */
function fromTemplate(name: string, template: string, values: Record<string, string>): string {
  if (!template.includes('{ref}')) {
    throw new ConfigError(`${name} must contain {ref}.`, {hint: `Set ${name} to a URL with {ref} where the project ref goes (README "Supabase").`})
  }
  return Object.entries(values).reduce((text, [key, value]) => text.replaceAll(`{${key}}`, value), template)
}

/**
 * A project's API URL: https://<ref>.supabase.co, or DEMO_SUPABASE_PROJECT_URL_TEMPLATE (self-hosted Supabase, a
 * proxy, the test stand-in), e.g. `http://127.0.0.1:54321/p/{ref}`.
 */
export function projectUrlFor(env: NodeJS.ProcessEnv): (ref: string) => string {
  const template = env.DEMO_SUPABASE_PROJECT_URL_TEMPLATE
  if (!template) return supabaseProjectUrl
  fromTemplate('DEMO_SUPABASE_PROJECT_URL_TEMPLATE', template, {})
  return (ref) => fromTemplate('DEMO_SUPABASE_PROJECT_URL_TEMPLATE', template, {ref})
}

/**
 * A project's database URL for its `postgres` user: Supabase's direct connection, or DEMO_SUPABASE_DATABASE_URL_TEMPLATE
 * with `{ref}`, `{password}` (URL-encoded) and `{host}` (the host the API reports). The result holds the password: secret.
 */
export function databaseUrlFor(env: NodeJS.ProcessEnv): (project: SupabaseProject, password: string) => string {
  const template = env.DEMO_SUPABASE_DATABASE_URL_TEMPLATE
  if (!template) return supabaseDatabaseUrl
  fromTemplate('DEMO_SUPABASE_DATABASE_URL_TEMPLATE', template, {})
  return (project, password) =>
    fromTemplate('DEMO_SUPABASE_DATABASE_URL_TEMPLATE', template, {
      ref: project.ref,
      password: encodeURIComponent(password),
      host: project.databaseHost ?? `db.${project.ref}.supabase.co`,
    })
}

/** shared-schema on the Supabase project `supabase.projectRef`, around plain shared-schema over the project's Postgres (`adminUrl`). */
export function openSupabaseSharedSchema(sources: SupabaseSources, inner: Databases, adminUrl: string, projectRef: string): Databases {
  return new SupabaseSharedSchemaDatabases({
    inner,
    api: openManagementApi(sources),
    projectRef,
    adminUrl,
    authUsers: supabaseAuthUsers,
    projectUrl: projectUrlFor(sources.env),
  })
}

/** The app's migrations and the type's seed, as shared-schema loads them, for a project's own database. */
export function projectDatabaseHooks(loaded: LoadedConfig, output: (line: string) => void): ProjectDatabaseHooks {
  return {
    checkType: (demoType) => {
      readMigrations(loaded.migrationsDir)
      seedSourceFor(loaded, demoType)
    },
    prepare: (databaseUrl, demo) =>
      setUpProjectDatabase({
        databaseUrl,
        migrations: readMigrations(loaded.migrationsDir),
        source: seedSourceFor(loaded, demo.demoType),
        run: {seedValue: demo.seedValue ?? 0, createdAt: demo.createdAt},
        output,
      }),
  }
}

/** `database.mode: supabase-project` from the config and the environment; a missing organization is a config error. */
export function openSupabaseProjects(sources: SupabaseSources): SupabaseProjectDatabases {
  const {loaded, env} = sources
  const config = loaded.project
  const organization = env.DEMO_SUPABASE_ORG ?? config.supabase.organization
  if (!organization) {
    throw new ConfigError(`${loaded.configPath ?? 'demo.config.yaml'}: "supabase.organization" is required by database.mode supabase-project.`, {
      hint: 'Set supabase.organization to your organization slug (or export DEMO_SUPABASE_ORG).',
    })
  }
  return new SupabaseProjectDatabases({
    ...projectDatabaseHooks(loaded, sources.output),
    api: openManagementApi(sources),
    authUsers: supabaseAuthUsers,
    organization,
    region: env.DEMO_SUPABASE_REGION ?? config.supabase.region,
    plan: config.supabase.plan,
    projectLimit: config.supabase.projectLimit,
    healthyTimeoutMs: config.supabase.healthyTimeoutSeconds * 1000,
    clock: sources.clock,
    sleeper: sources.sleeper,
    random: sources.random,
    projectUrl: projectUrlFor(env),
    databaseUrl: databaseUrlFor(env),
  })
}
