import {randomBytes} from 'node:crypto'
import type {LoadedConfig} from './config.js'
import {stateDatabaseUrl} from './state-url.js'
import type {Identity} from './core/identity.js'
import {resolveIdentity} from './core/identity.js'
import type {Cluster, Clock, Databases, DemoStore, Random} from './core/ports.js'
import type {TemplateFile} from './core/render-stack.js'
import {ConfigError} from './core/errors.js'
import {NoDatabases} from './adapters/databases/none.js'
import {systemSleeper} from './adapters/sleeper.js'
import {gatherIdentityFacts} from './adapters/identity.js'
import {embeddedStateDir, openStore, type OpenedStore} from './adapters/postgres/open-store.js'

export interface DepsOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  packageRoot: string
  dataDir: string
  configFlag?: string | undefined
  owner?: string | undefined
  kubeconfig?: string | undefined
  context?: string | undefined
}

export const systemClock: Clock = {now: () => new Date()}
export const systemRandom: Random = {bytes: (n) => new Uint8Array(randomBytes(n))}

/**
 * The composition root: the only place real adapters are constructed. Everything is built lazily and
 * once, so `demo --help` or `demo list` never pay for the Kubernetes client.
 */
export class Deps {
  private loaded: LoadedConfig | undefined
  private opened: Promise<OpenedStore> | undefined
  private who: Identity | undefined
  readonly clock = systemClock
  readonly random = systemRandom
  readonly sleeper = systemSleeper
  private connected: Promise<Cluster> | undefined

  constructor(private readonly options: DepsOptions) {}

  /** demo.config.yaml, validated (loaded on first use: zod and js-yaml cost list and get ~100 ms they do not need). */
  async config(): Promise<LoadedConfig> {
    if (!this.loaded) {
      const {loadConfig} = await import('./config.js')
      this.loaded = loadConfig({cwd: this.options.cwd, env: this.options.env, packageRoot: this.options.packageRoot, configFlag: this.options.configFlag})
    }
    return this.loaded
  }

  identity(): Identity {
    this.who ??= resolveIdentity(gatherIdentityFacts({explicit: this.options.owner, env: this.options.env, cwd: this.options.cwd}))
    return this.who
  }

  stateDir(): string {
    return embeddedStateDir(this.options.dataDir, this.options.env)
  }

  async store(): Promise<DemoStore> {
    this.opened ??= openStore({databaseUrl: stateDatabaseUrl(this.options.env), stateDir: this.stateDir()})
    return (await this.opened).store
  }

  /** The cluster of --kubeconfig/--context (else `defaultContext`, e.g. the demo's own; else KUBECONFIG, ~/.kube/config, in-cluster); the client loads on first use. */
  async cluster(options: {defaultContext?: string | null} = {}): Promise<Cluster> {
    const context = this.options.context ?? options.defaultContext ?? undefined
    this.connected ??= import('./adapters/kubernetes/kubernetes-cluster.js').then(({connectKubernetesCluster}) =>
      connectKubernetesCluster({kubeconfig: this.options.kubeconfig, context}),
    )
    return this.connected
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

  /** The per-demo database of the configured mode. */
  async databases(): Promise<Databases> {
    const config = await this.config()
    const {mode} = config.project.database
    if (mode !== 'none') {
      throw new ConfigError(`${config.configPath ?? 'demo.config.yaml'}: "database.mode": "${mode}" is not available in this version; only "none" is.`, {
        hint: 'Set database.mode to none (shared-schema and supabase-project are planned).',
      })
    }
    return new NoDatabases()
  }

  async templates(): Promise<TemplateFile[]> {
    const {loadTemplates} = await import('./adapters/kubernetes/templates-loader.js')
    return loadTemplates((await this.config()).templatesDir)
  }

  async close(): Promise<void> {
    if (!this.opened) return
    const opened = await this.opened.catch(() => undefined)
    this.opened = undefined
    await opened?.close()
  }
}
