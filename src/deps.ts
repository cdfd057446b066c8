import {randomBytes} from 'node:crypto'
import type {LoadedConfig} from './config.js'
import type {ParseCache} from './parse-cache.js'
import type {SupabaseSources} from './adapters/supabase/open.js'
import {embeddedStateDir, stateDatabaseUrl} from './state-url.js'
import {explicitConfigPath} from './config-path.js'
import type {Identity} from './core/identity.js'
import {resolveIdentity} from './core/identity.js'
import type {
  Checkpoint,
  Cluster,
  ClusterAccess,
  Clock,
  Databases,
  DemoStore,
  InstallTarget,
  Random,
  Sleeper,
  Stats,
  StepRunner,
  UrlProber,
} from './core/ports.js'
import type {TemplateFile} from './core/render-stack.js'
import type {Preferences} from './core/validate-preference.js'
import type {DatabaseMode, DemoDatabase} from './core/demo.js'
import type {SharedDatabasePrivileges} from './core/shared-database.js'
import {ConfigError, UnsupportedDatabaseModeError} from './core/errors.js'
import {NoDatabases} from './adapters/databases/none.js'
import {systemSleeper} from './adapters/sleeper.js'
import {DatabaseClock, machineClock} from './adapters/clock.js'
import {gatherIdentityFacts} from './adapters/identity.js'
import {acquireLock} from './adapters/postgres/embedded-lock.js'
import {openStore, type OpenedStore} from './adapters/postgres/open-store.js'
import type {PreferencesFile} from './adapters/preferences.js'
import {readPreferences} from './adapters/preferences-file.js'
import {terminalPrompt, type Prompt} from './adapters/prompt.js'
import {listrSteps} from './adapters/steps.js'
import {cancelOnSignals, killAtCheckpoint, type Cancellation} from './signals.js'

/** The streams a command reads and writes, passed in (as kind passes IO streams) so tests can supply their own. */
export interface IO {
  stdout: NodeJS.WritableStream & {isTTY?: boolean; columns?: number}
  stderr: NodeJS.WritableStream & {isTTY?: boolean; columns?: number}
  stdin: NodeJS.ReadableStream & {isTTY?: boolean}
}

export interface DepsOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  io: IO
  packageRoot: string
  dataDir: string
  /** Where validated configs and parsed templates are remembered (parse-cache.ts); nothing is remembered without it. */
  cacheDir?: string | undefined
  configFlag?: string | undefined
  owner?: string | undefined
  kubeconfig?: string | undefined
  context?: string | undefined
}

export const systemRandom: Random = {bytes: (n) => new Uint8Array(randomBytes(n))}

/** How long a `demo gc` on the embedded store waits for another one to finish (see Deps.exclusiveGcRun). */
export const GC_RUN_LOCK_WAIT_MS = 10 * 60_000

/**
 * The composition root: the only place real adapters are constructed. Everything is built lazily and
 * once, so `demo --help` or `demo list` never pay for the Kubernetes client. Tests replace it through
 * `setDepsFactory` with a subclass whose methods return fakes.
 */
export class Deps {
  private loaded: LoadedConfig | undefined
  private opened: Promise<OpenedStore> | undefined
  private who: Identity | undefined
  private synced: DatabaseClock | undefined
  /** One connection per kubeconfig context: gc and health act on demos of several contexts in one process. */
  private readonly connections = new Map<string, Promise<Cluster & ClusterAccess>>()

  constructor(protected readonly options: DepsOptions) {}

  /** The state database's clock once the store is open (DatabaseClock), this machine's before. */
  get clock(): Clock {
    return this.databaseClock()
  }

  private databaseClock(): DatabaseClock {
    this.synced ??= new DatabaseClock(machineClock(this.options.env))
    return this.synced
  }

  get random(): Random {
    return systemRandom
  }

  get sleeper(): Sleeper {
    return systemSleeper
  }

  get env(): NodeJS.ProcessEnv {
    return this.options.env
  }

  /** The working directory relative paths of flags are resolved against. */
  get cwd(): string {
    return this.options.cwd
  }

  get io(): IO {
    return this.options.io
  }

  /**
   * demo.config.yaml, validated (loaded on first use: zod and js-yaml cost list and get ~100 ms they do not need;
   * a config text validated before by this build is read back from the cache instead: parse-cache.ts).
   */
  async config(): Promise<LoadedConfig> {
    if (!this.loaded) {
      const {loadConfigRemembered} = await import('./parse-cache.js')
      this.loaded = await loadConfigRemembered(
        {cwd: this.options.cwd, env: this.options.env, packageRoot: this.options.packageRoot, configFlag: this.options.configFlag},
        await this.parseCache(),
      )
    }
    return this.loaded
  }

  /** Refuses a --config / DEMO_CONFIG that names no file, also for commands that never load the config. */
  checkConfigFlag(): void {
    explicitConfigPath({cwd: this.options.cwd, env: this.options.env, configFlag: this.options.configFlag})
  }

  identity(): Identity {
    this.who ??= resolveIdentity(gatherIdentityFacts({explicit: this.options.owner, env: this.options.env, cwd: this.options.cwd}))
    return this.who
  }

  stateDir(): string {
    return embeddedStateDir(this.options.dataDir, this.options.env)
  }

  /**
   * With the embedded store, one `demo gc` run at a time (issue 12). It was made when each process opened the
   * store itself, taking its lock query by query, so that a write of one run could not wait past that lock's
   * 10 s for the other and fail its demo; the store's server (store-server.ts) has no such wait, and the run lock
   * stays because on a laptop one run at a time is what people expect: a second run waits for the first as a
   * whole (saying at once which gc it waits for) and then finds the work done; after GC_RUN_LOCK_WAIT_MS it gives up with
   * StoreUnavailableError naming the other gc. With Postgres nothing is taken: each row is claimed by
   * compare-and-set, so two runs may overlap. Returns the release function (also run at exit).
   */
  async exclusiveGcRun(): Promise<() => void> {
    if (stateDatabaseUrl(this.options.env)) return () => {}
    return acquireLock(`${this.stateDir()}.gc.lock`, {
      waitMs: GC_RUN_LOCK_WAIT_MS,
      notice: (message) => this.io.stderr.write(`${message}\n`),
      messages: {
        waitingFor: 'another demo gc on the embedded store to finish',
        busy: 'Another demo gc holds the embedded store',
        hint: 'Run `demo gc` again once it has finished (or end it); this run changed nothing.',
      },
    })
  }

  async store(): Promise<DemoStore> {
    const notice = (message: string): void => {
      this.io.stderr.write(`${message}\n`)
    }
    this.opened ??= openStore({databaseUrl: stateDatabaseUrl(this.options.env), stateDir: this.stateDir(), lock: {notice}}).then((opened) =>
      this.syncClock(opened),
    )
    return (await this.opened).store
  }

  /** Usage analytics over the state store (opened once, with the store). */
  async stats(): Promise<Stats> {
    await this.store()
    const opened = await this.opened
    if (!opened) throw new Error('the state store was closed')
    return opened.stats
  }

  /** Expiry is decided by the state database's clock (fault matrix T21): the clock learns its offset as the store opens. */
  private async syncClock(opened: OpenedStore): Promise<OpenedStore> {
    try {
      await this.databaseClock().sync(opened.store)
      return opened
    } catch (error) {
      await opened.close().catch(() => {})
      throw error
    }
  }

  /** The context a command acts in: --context, else `defaultContext` (e.g. the demo's own), else the kubeconfig's current one (undefined). */
  requestedContext(defaultContext?: string | null): string | undefined {
    return this.options.context ?? defaultContext ?? undefined
  }

  /** The cluster of --kubeconfig/--context (else `defaultContext`; else KUBECONFIG, ~/.kube/config, in-cluster); one connection per context. */
  async cluster(options: {defaultContext?: string | null} = {}): Promise<Cluster> {
    return this.connect(options)
  }

  /** What `demo doctor` asks of the cluster of --kubeconfig/--context (the same connection as cluster()). */
  async clusterAccess(): Promise<ClusterAccess> {
    return this.connect({})
  }

  private async connect(options: {defaultContext?: string | null}): Promise<Cluster & ClusterAccess> {
    const context = this.requestedContext(options.defaultContext)
    const key = context ?? ''
    let connection = this.connections.get(key)
    if (!connection) {
      connection = import('./adapters/kubernetes/kubernetes-cluster.js').then(({connectKubernetesCluster}) =>
        connectKubernetesCluster({kubeconfig: this.options.kubeconfig, context, env: this.options.env}),
      )
      this.connections.set(key, connection)
    }
    return connection
  }

  /** demo's own objects in the cluster of --kubeconfig/--context, else the kubeconfig's current context (`demo gc install`). */
  async installTarget(): Promise<InstallTarget> {
    const {connectInstallTarget} = await import('./adapters/kubernetes/kubernetes-install-target.js')
    return connectInstallTarget({kubeconfig: this.options.kubeconfig, context: this.options.context, env: this.options.env})
  }

  /**
   * Starts loading what a command that talks to the cluster will need (the Kubernetes client, listr2) while
   * it opens the state store; errors surface later, where the modules are really used.
   */
  preloadClusterModules(): void {
    const ignore = (): void => {}
    import('./adapters/kubernetes/kubernetes-cluster.js').then((m) => m.preloadKubernetesClient()).catch(ignore)
    import('listr2').catch(ignore)
  }

  /** The per-demo database of the configured mode (what create uses); a mode this version lacks is a config error. */
  async databases(): Promise<Databases> {
    const config = await this.config()
    const {mode} = config.project.database
    try {
      return await this.databasesFor(mode)
    } catch (error) {
      if (!(error instanceof UnsupportedDatabaseModeError)) throw error
      throw new ConfigError(`${config.configPath ?? 'demo.config.yaml'}: "database.mode": "${mode}" is not available in this version.`, {
        hint: 'Set database.mode to none, shared-schema or supabase-project.',
      })
    }
  }

  /** The per-demo database of a mode, whatever the config says: destroy and gc drop a demo's database with the mode it was created with. */
  async databasesFor(mode: DatabaseMode, recorded?: DemoDatabase): Promise<Databases> {
    if (mode === 'none') return new NoDatabases()
    if (mode === 'shared-schema') return this.sharedSchemaDatabases(recorded?.mode === 'shared-schema' ? recorded.supabase?.projectRef : undefined)
    if (mode === 'supabase-project') {
      const config = await this.config()
      const {openSupabaseProjects} = await import('./adapters/supabase/open.js')
      return openSupabaseProjects(this.supabaseSources(config))
    }
    // A row written by a newer version may name a mode this one does not know.
    const unknown: string = mode
    throw new UnsupportedDatabaseModeError(`Database mode "${unknown}" is not available in this version of demo.`, {
      hint: `Use a version of demo that supports "${unknown}".`,
    })
  }

  /** The shared Postgres URL of mode shared-schema, from the variable database.urlEnv names; ConfigError when it is not set. */
  private async sharedDatabaseUrl(): Promise<string> {
    const {urlEnv} = (await this.config()).project.database
    const adminUrl = this.options.env[urlEnv]
    if (!adminUrl) {
      throw new ConfigError(`Database mode "shared-schema" needs the shared Postgres, but ${urlEnv} is not set.`, {
        hint: `Set ${urlEnv} to postgres://<role>@<host>:<port>/<database> of a role with CREATEROLE and CREATE on that database (README "Database per demo").`,
      })
    }
    return adminUrl
  }

  /** `demo doctor`: what the shared database's role may do (one connection, read-only). */
  async sharedDatabasePrivileges(): Promise<SharedDatabasePrivileges> {
    const adminUrl = await this.sharedDatabaseUrl()
    const {readSharedDatabasePrivileges} = await import('./adapters/databases/shared-schema.js')
    return readSharedDatabasePrivileges(adminUrl)
  }

  /**
   * Mode shared-schema: the shared Postgres named by database.urlEnv (DEMO_SHARED_DATABASE_URL); ConfigError when
   * it is not set. On a Supabase project when the config names one or the demo's row recorded one (`recordedRef`
   * wins: a demo is dropped through the project it was created on, also after the config changed).
   */
  private async sharedSchemaDatabases(recordedRef?: string): Promise<Databases> {
    const config = await this.config()
    const {connectionLimit} = config.project.database
    const adminUrl = await this.sharedDatabaseUrl()
    const [{SharedSchemaDatabases}, {readMigrations}, {seedSourceFor}] = await Promise.all([
      import('./adapters/databases/shared-schema.js'),
      import('./adapters/databases/postgres/migrations.js'),
      import('./adapters/databases/seeds/config-seeds.js'),
    ])
    const inner = new SharedSchemaDatabases({
      adminUrl,
      connectionLimit,
      migrations: () => readMigrations(config.migrationsDir),
      seedFor: (demoType) => seedSourceFor(config, demoType),
      output: (line) =>
        this.io.stderr.write(`  seed: ${line}
`),
    })
    const projectRef = recordedRef ?? config.project.supabase.projectRef
    if (!projectRef) return inner
    const {openSupabaseSharedSchema} = await import('./adapters/supabase/open.js')
    return openSupabaseSharedSchema(this.supabaseSources(config), inner, adminUrl, projectRef)
  }

  private supabaseSources(config: LoadedConfig): SupabaseSources {
    return {
      loaded: config,
      output: (line) => this.io.stderr.write(`  seed: ${line}\n`),
      env: this.env,
      clock: this.clock,
      sleeper: this.sleeper,
      random: this.random,
    }
  }

  async templates(): Promise<TemplateFile[]> {
    const {loadTemplates} = await import('./adapters/kubernetes/templates-loader.js')
    return loadTemplates((await this.config()).templatesDir, await this.parseCache())
  }

  /** Where this build remembers what it parsed (parse-cache.ts); none without a cache directory or a build id. */
  private async parseCache(): Promise<ParseCache | undefined> {
    const {readBuildId} = await import('./parse-cache.js')
    const buildId = readBuildId(this.options.packageRoot)
    return this.options.cacheDir && buildId ? {dir: this.options.cacheDir, buildId} : undefined
  }

  /** HTTP GETs of demo URLs for `demo health` (node:http/https; loaded only by health). */
  async urlProber(): Promise<UrlProber> {
    const {HttpUrlProber} = await import('./adapters/http/url-prober.js')
    return new HttpUrlProber()
  }

  /** Progress of a use case's steps on stderr (listr2). */
  steps(): StepRunner {
    return listrSteps({stream: this.io.stderr, enabled: true})
  }

  /** The personal defaults for `demo create`, read tolerantly (`warn` hears why a file was ignored). */
  preferences(warn?: (message: string) => void): Preferences {
    return readPreferences(this.options.env, warn)
  }

  /** The preferences file for `demo config` (conf is loaded only here). */
  async preferencesFile(): Promise<PreferencesFile> {
    const {openPreferences} = await import('./adapters/preferences.js')
    return openPreferences(this.options.env)
  }

  /** Asks the person at the terminal; `interactive` is false when stdin is not a terminal. */
  prompt(): Prompt {
    return terminalPrompt(this.io)
  }

  /** The test hook DEMO_TEST_KILL_AT. */
  checkpoint(): Checkpoint {
    return killAtCheckpoint(this.options.env)
  }

  /** Ctrl-C, SIGTERM and SIGHUP abort the returned signal once, so a long use case can roll back. */
  cancellation(note: (message: string) => void): Cancellation {
    return cancelOnSignals(note)
  }

  async close(): Promise<void> {
    if (!this.opened) return
    const opened = await this.opened.catch(() => undefined)
    this.opened = undefined
    await opened?.close()
  }
}

export type DepsFactory = (options: DepsOptions) => Deps

const defaultFactory: DepsFactory = (options) => new Deps(options)
let factory: DepsFactory = defaultFactory

/** Replaces how commands get their Deps (in-process tests pass a factory of fakes); undefined restores the real one. */
export function setDepsFactory(next: DepsFactory | undefined): void {
  factory = next ?? defaultFactory
}

export function makeDeps(options: DepsOptions): Deps {
  return factory(options)
}
