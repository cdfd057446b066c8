import type {LoadedConfig} from '../../config.js'
import {ConfigError, UsageError} from '../../core/errors.js'
import type {Clock, Random, Sleeper, SupabaseManagement} from '../../core/ports.js'
import {readMigrations} from '../databases/postgres/migrations.js'
import {seedSourceFor} from '../databases/seeds/config-seeds.js'
import {supabaseAuthUsers} from './auth-users.js'
import {SupabaseManagementApi} from './management-client.js'
import {setUpProjectDatabase} from './project-database-setup.js'
import {supabaseDatabaseUrl, supabaseProjectUrl, SupabaseProjectDatabases, type ProjectDatabaseHooks} from './project-databases.js'

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
    projectUrl: supabaseProjectUrl,
    databaseUrl: supabaseDatabaseUrl,
  })
}
