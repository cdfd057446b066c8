import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createDatabase, dropDatabase, ensureCluster, ensurePostgres, NODE, stopCluster, stopPostgres, type Cluster, type Postgres} from './env.js'
import {removePackage, withManifest, type Package} from './package.js'
import {log, run, type RunOptions, type RunResult} from './proc.js'
import {leftoverNamespaces} from './stack.js'

/** What every benchmark gets: lazily started services, scratch resources that are cleaned up, a demo runner. */
export class Context {
  /** --runs N, when given; each benchmark has its own default. */
  readonly runs: number | undefined
  /** An empty working directory, so no stray demo.config.yaml is picked up by walking upward. */
  readonly workDir: string
  private pg: Promise<Postgres> | undefined
  private kube: Promise<Cluster> | undefined
  private readonly databases: string[] = []
  /** Namespaces the benchmarks may have created; all are deleted at the end. */
  readonly namespaces = new Set<string>()
  lastDatabaseUrl: string | undefined

  /** The CLI under test (a private copy of the package). */
  readonly pkg: Package
  /** Packages made by benchmarks (e.g. the with-manifest copy), removed at cleanup. */
  readonly extraPackages: Package[] = []
  private manifestedPkg: Promise<Package | undefined> | undefined

  constructor(runs: number | undefined, pkg: Package) {
    this.runs = runs
    this.pkg = pkg
    this.workDir = mkdtempSync(join(tmpdir(), 'demo-bench-'))
  }

  /**
   * The same build with `oclif manifest` run in it, measured next to the build as it is to show the effect of
   * shipping a manifest; undefined when the package under test already has one.
   */
  manifested(): Promise<Package | undefined> {
    this.manifestedPkg ??= this.pkg.hasManifest
      ? Promise.resolve(undefined)
      : withManifest(this.pkg).then((p) => {
          this.extraPackages.push(p)
          return p
        })
    return this.manifestedPkg
  }

  postgres(): Promise<Postgres> {
    this.pg ??= ensurePostgres()
    return this.pg
  }

  cluster(): Promise<Cluster> {
    this.kube ??= ensureCluster()
    return this.kube
  }

  async database(): Promise<string> {
    await this.postgres()
    const url = await createDatabase()
    this.databases.push(url)
    this.lastDatabaseUrl = url
    return url
  }

  /** Runs `node bin/run.js ...args` in the scratch directory with extra environment. */
  demo(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: Omit<RunOptions, 'env'> & {pkg?: Package} = {}): Promise<RunResult> {
    return run(NODE, [(options.pkg ?? this.pkg).bin, ...args], {cwd: this.workDir, ...options, env: {...process.env, NO_COLOR: '1', ...env}})
  }

  async kubectl(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const c = await this.cluster()
    return run(c.kubectl, args, {cwd: this.workDir, ...options, env: {...process.env, KUBECONFIG: c.kubeconfig, ...options.env}})
  }

  /** Deletes every namespace recorded, drops the scratch databases, stops what we started. */
  async cleanup(): Promise<void> {
    if (this.kube) {
      const names = [...new Set([...this.namespaces, ...(await leftoverNamespaces(this))])]
      if (names.length > 0) {
        log(`cleanup: deleting ${names.length} namespace(s)`)
        const r = await this.kubectl(['delete', 'namespace', '--ignore-not-found', '--wait=true', '--timeout=180s', ...names], {timeoutMs: 240_000})
        if (r.code !== 0) log(`warning: namespace cleanup: ${r.stderr.trim()}`)
      }
      this.namespaces.clear()
    }
    for (const url of this.databases.splice(0)) await dropDatabase(url)
    const kube = await this.kube?.catch(() => undefined)
    if (kube?.startedByUs) {
      log('stopping the cluster we started')
      await stopCluster()
    }
    const pg = await this.pg?.catch(() => undefined)
    if (pg?.startedByUs) {
      log('stopping Postgres we started')
      await stopPostgres()
    }
    rmSync(this.workDir, {recursive: true, force: true})
    for (const p of [this.pkg, ...this.extraPackages.splice(0)]) removePackage(p)
  }
}
