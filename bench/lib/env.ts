import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {cpus, homedir, totalmem} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {log, run, runOk} from './proc.js'

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))
/** The node that runs the bench also runs the CLI (Node 24 from the `node` devDependency when PATH is set). */
export const NODE = process.execPath

/** Removes the password (and secret-looking query values) from a connection URL before it is shown anywhere. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(url)'
  }
}

export function databaseName(url: string): string {
  return new URL(url).pathname.slice(1)
}

// ---------------------------------------------------------------- Postgres

export interface Postgres {
  startedByUs: boolean
}

export async function ensurePostgres(): Promise<Postgres> {
  const r = await runOk('bash', [join(REPO, 'test/support/postgres.sh'), 'start'])
  const startedByUs = r.stdout.trim() === 'started'
  log(`Postgres ${startedByUs ? 'started' : 'already running'}`)
  return {startedByUs}
}

export async function stopPostgres(): Promise<void> {
  await run('bash', [join(REPO, 'test/support/postgres.sh'), 'stop'])
}

/** A fresh database; returns its URL (never log it unredacted). */
export async function createDatabase(): Promise<string> {
  const r = await runOk('bash', [join(REPO, 'test/support/postgres.sh'), 'create-db'])
  const url = r.stdout.trim().split('\n').at(-1) ?? ''
  if (!url.startsWith('postgres://')) throw new Error('postgres.sh create-db printed no URL')
  return url
}

export async function dropDatabase(url: string): Promise<void> {
  const r = await run('bash', [join(REPO, 'test/support/postgres.sh'), 'drop-db', databaseName(url)])
  if (r.code !== 0) log(`warning: could not drop ${databaseName(url)}: ${r.stderr.trim()}`)
}

// ---------------------------------------------------------------- Cluster

export interface Cluster {
  kubeconfig: string
  kubectl: string
  startedByUs: boolean
}

/**
 * The bench runs its own named test cluster (DEMO_CLUSTER_NAME=bench, own ports and state) by default, so other
 * people's test runs starting and stopping the shared "local" cluster cannot pull it away mid-run.
 * DEMO_BENCH_CLUSTER=local uses the shared one.
 */
export const CLUSTER_NAME = process.env.DEMO_BENCH_CLUSTER ?? 'bench'
export const clusterEnv = (): NodeJS.ProcessEnv => ({...process.env, DEMO_CLUSTER_NAME: CLUSTER_NAME})

function stateDir(): string {
  const root = process.env.DEMO_TESTBED_STATE ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local/state'), 'demo-testbed')
  return join(root, CLUSTER_NAME)
}

/** DEMO_CLUSTER_CONTROLLER_QPS of the bench cluster as test/cluster/up.sh started it; '' for the default. */
export function controllerQps(): string {
  const file = join(stateDir(), 'controller-qps')
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : ''
}

/** kube-controller-manager's client rate limit on the bench cluster, in words. */
export function controllerRateLimit(): string {
  const qps = controllerQps()
  return qps === ''
    ? 'its default, 20 requests/s and a burst of 30 per controller'
    : `${qps} requests/s and a burst of ${2 * Number(qps)} per controller (DEMO_CLUSTER_CONTROLLER_QPS; the default is 20 and 30)`
}

/** The kubectl built by the test bed from the same Kubernetes version as the apiserver; Debian's only as a fallback. */
export function findKubectl(): string {
  const binDirFile = join(stateDir(), 'bin-dir')
  if (existsSync(binDirFile)) {
    const candidate = join(readFileSync(binDirFile, 'utf8').trim(), 'kubectl')
    if (existsSync(candidate)) return candidate
  }
  const cache = join(process.env.DEMO_TESTBED_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'demo-testbed'), 'bin')
  if (existsSync(cache)) {
    for (const key of readdirSync(cache).sort().reverse()) {
      const candidate = join(cache, key, 'kubectl')
      if (!key.endsWith('.partial') && existsSync(candidate)) return candidate
    }
  }
  return '/usr/bin/kubectl'
}

export async function ensureCluster(): Promise<Cluster> {
  const status = await run('bash', [join(REPO, 'test/cluster/status.sh')], {env: clusterEnv()})
  const startedByUs = status.code !== 0
  if (startedByUs) log(`starting test cluster "${CLUSTER_NAME}" (DEMO_CLUSTER_NAME=${CLUSTER_NAME} npm run cluster:up)`)
  const up = await runOk('bash', [join(REPO, 'test/cluster/up.sh')], {timeoutMs: 30 * 60_000, env: clusterEnv()})
  const kubeconfig = up.stdout.trim().split('\n').at(-1) ?? ''
  if (!existsSync(kubeconfig)) throw new Error(`cluster:up printed no kubeconfig path`)
  log(`cluster "${CLUSTER_NAME}" ${startedByUs ? 'started' : 'already up'}; kubeconfig ${kubeconfig}`)
  return {kubeconfig, kubectl: findKubectl(), startedByUs}
}

export async function stopCluster(): Promise<void> {
  await run('bash', [join(REPO, 'test/cluster/down.sh')], {timeoutMs: 120_000, env: clusterEnv()})
}

// ---------------------------------------------------------------- Versions and machine

export interface Versions {
  node: string
  kubectl: string
  kubectlPath: string
  apiserver: string
  postgres: string
  psql: string
  demo: string
  build: string
  gitCommit: string
  machine: string
}

export async function versions(
  cluster: Cluster | undefined,
  databaseUrl: string | undefined,
  pkg: {bin: string; origin: string; commit?: string | undefined},
): Promise<Versions> {
  const kubectl = cluster?.kubectl ?? findKubectl()
  const client = await run(kubectl, ['version', '--client', '-o', 'json'])
  let apiserver = 'n/a'
  // The apiserver's version when the cluster is up, even if this run did not need it.
  const kubeconfig =
    cluster?.kubeconfig ??
    ((await run('bash', [join(REPO, 'test/cluster/status.sh')], {env: clusterEnv()})).code === 0 ? join(stateDir(), 'kubeconfig') : undefined)
  if (kubeconfig) {
    const server = await run(kubectl, ['--kubeconfig', kubeconfig, 'version', '-o', 'json'])
    apiserver = (JSON.parse(server.stdout || '{}') as {serverVersion?: {gitVersion?: string}}).serverVersion?.gitVersion ?? 'n/a'
  }
  let postgres = 'n/a'
  if (databaseUrl) {
    const r = await run('psql', ['-X', '-A', '-t', '-d', databaseUrl, '-c', 'SHOW server_version'])
    postgres = r.stdout.trim() || 'n/a'
  }
  const psql = (await run('psql', ['--version'])).stdout.trim()
  const demo = (await run(NODE, [pkg.bin, '--version'], {cwd: REPO})).stdout.trim()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return {
    node: process.version,
    kubectl: (JSON.parse(client.stdout || '{}') as {clientVersion?: {gitVersion?: string}}).clientVersion?.gitVersion ?? 'n/a',
    kubectlPath: kubectl.replace(homedir(), '~'),
    apiserver,
    postgres,
    psql,
    demo,
    build: pkg.origin,
    gitCommit: pkg.commit ?? 'unknown',
    machine: `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${process.platform} ${process.arch}`,
  }
}
