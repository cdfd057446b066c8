import type {KubeConfig} from '@kubernetes/client-node'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'
import {ClusterError, UsageError} from '../../core/errors.js'

export interface KubeConfigSource {
  /** --kubeconfig */
  kubeconfig?: string | undefined
  /** --context (or the demo's own context) */
  context?: string | undefined
  env: NodeJS.ProcessEnv
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/**
 * Test only: a directory that stands in for `/` when the pod's service account files are read
 * (`<root>/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}`), so the in-cluster path is tested
 * for real against the test bed without writing into the machine's /var/run, which every process shares.
 */
function inClusterRoot(env: NodeJS.ProcessEnv): string {
  return env.DEMO_TEST_IN_CLUSTER_ROOT ?? ''
}

/** Which file(s) the kubeconfig comes from and why, for messages that name them, as kubectl finds them. */
function locate(source: KubeConfigSource): {paths: string[]; from: string} | undefined {
  if (source.kubeconfig) return {paths: [source.kubeconfig], from: '--kubeconfig'}
  const fromEnv = (source.env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '')
  if (fromEnv.length > 0) return {paths: fromEnv, from: '$KUBECONFIG'}
  const home = join(source.env.HOME ?? homedir(), '.kube', 'config')
  return existsSync(home) ? {paths: [home], from: 'the default location'} : undefined
}

function readFiles(kubeConfig: KubeConfig, where: {paths: string[]; from: string}): void {
  const missing = where.paths.filter((p) => !existsSync(p))
  if (missing.length === where.paths.length) {
    throw new UsageError(`Cannot read the kubeconfig ${where.paths.join(delimiter)} (from ${where.from}): no such file.`, {
      hint: 'Point --kubeconfig or KUBECONFIG at a kubeconfig file (`kubectl config view --minify` shows the one kubectl uses).',
    })
  }
  const file = where.paths.find((p) => existsSync(p)) as string
  try {
    // kubectl merges every file of KUBECONFIG, the first one winning; the client's loader does the same from process.env.
    if (where.paths.length > 1 && where.from === '$KUBECONFIG') kubeConfig.loadFromDefault()
    else kubeConfig.loadFromFile(file)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message.split('\n')[0] : String(error))
    throw new UsageError(`Cannot read the kubeconfig ${file} (from ${where.from}): ${reason}.`, {
      hint: 'Fix the file, or point --kubeconfig or KUBECONFIG at another one.',
      cause: error,
    })
  }
}

function contextsOf(kubeConfig: KubeConfig): string {
  const names = kubeConfig.getContexts().map((c) => c.name)
  return names.length > 0 ? names.join(', ') : 'none'
}

function useContext(kubeConfig: KubeConfig, context: string, file: string): void {
  if (!kubeConfig.getContextObject(context)) {
    throw new UsageError(`The kubeconfig has no context "${context}".`, {hint: `Contexts in ${file}: ${contextsOf(kubeConfig)}.`})
  }
  kubeConfig.setCurrentContext(context)
}

function assertServer(kubeConfig: KubeConfig, nothingFound: boolean, file: string): void {
  if (kubeConfig.getCurrentCluster()?.server) return
  if (nothingFound) {
    throw new ClusterError('No Kubernetes cluster is configured: no --kubeconfig, no KUBECONFIG, no ~/.kube/config, and not running in a pod.', {
      hint: 'Pass --kubeconfig <file> or set KUBECONFIG, and pick a context with --context.',
    })
  }
  throw new UsageError(`Context "${kubeConfig.getCurrentContext()}" of the kubeconfig ${file} names no cluster with a server.`, {
    hint: `Pick another with --context (contexts: ${contextsOf(kubeConfig)}), or fix the context's cluster entry.`,
  })
}

/**
 * Loads the kubeconfig as kubectl would (--kubeconfig, then $KUBECONFIG, then ~/.kube/config, then the pod's
 * service account) and selects `context`. Every refusal names the file, says what is missing and lists the
 * contexts there are; none falls back to http://localhost:8080 as the client library would.
 */
export function loadKubeConfig(kubeConfig: KubeConfig, source: KubeConfigSource): KubeConfig {
  const where = locate(source)
  if (where) readFiles(kubeConfig, where)
  else if (source.env.KUBERNETES_SERVICE_HOST && existsSync(`${inClusterRoot(source.env)}${SERVICE_ACCOUNT_TOKEN}`)) {
    // The client reads KUBERNETES_SERVICE_HOST/PORT from process.env, which is `env` everywhere but in unit tests.
    kubeConfig.loadFromCluster(inClusterRoot(source.env))
  }
  const file = where ? where.paths.join(delimiter) : 'the in-cluster configuration'
  if (source.context) useContext(kubeConfig, source.context, file)
  else if (where && !kubeConfig.getCurrentContext()) {
    throw new UsageError(`The kubeconfig ${file} has no current-context; its contexts: ${contextsOf(kubeConfig)}.`, {
      hint: 'Pick one with --context <name>, or set it with `kubectl config use-context <name>`.',
    })
  }
  assertServer(kubeConfig, where === undefined, file)
  return kubeConfig
}
