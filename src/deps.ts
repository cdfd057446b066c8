import {randomBytes} from 'node:crypto'
import {loadConfig, type LoadedConfig} from './config.js'
import type {Identity} from './core/identity.js'
import {resolveIdentity} from './core/identity.js'
import type {Clock, DemoStore, Random} from './core/ports.js'
import {gatherIdentityFacts} from './adapters/identity.js'
import {embeddedStateDir, openStore, type OpenedStore} from './adapters/postgres/open-store.js'

export interface DepsOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  packageRoot: string
  dataDir: string
  configFlag?: string | undefined
  owner?: string | undefined
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

  constructor(private readonly options: DepsOptions) {}

  config(): LoadedConfig {
    this.loaded ??= loadConfig({cwd: this.options.cwd, env: this.options.env, packageRoot: this.options.packageRoot, configFlag: this.options.configFlag})
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
    const {databaseUrl} = this.config()
    this.opened ??= openStore({databaseUrl, stateDir: this.stateDir()})
    return (await this.opened).store
  }

  async close(): Promise<void> {
    if (!this.opened) return
    const opened = await this.opened.catch(() => undefined)
    this.opened = undefined
    await opened?.close()
  }
}
