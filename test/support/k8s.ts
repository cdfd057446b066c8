// Helpers for tests that talk to the local test control plane (test/cluster/up.sh, docs/local-cluster.md).
import {randomBytes} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'
import {ApiException, CoreV1Api, KubeConfig} from '@kubernetes/client-node'

/** Label put on every namespace a test creates, so leftovers of a killed run can be found. */
export const TEST_NAMESPACE_LABEL = 'demo.test/integration'

/**
 * Pods (or pod templates) carrying this label are scheduled and reported Running but never Ready on the
 * local control plane: a kwok Stage of the test bed keeps them not Ready.
 */
export const NEVER_READY_LABEL = {'demo.test/never-ready': 'true'} as const

/** Loads the test cluster's kubeconfig from DEMO_TEST_KUBECONFIG; throws with a hint when it is not set. */
export function loadTestKubeConfig(): KubeConfig {
  const path = process.env.DEMO_TEST_KUBECONFIG
  if (path === undefined || path === '') {
    throw new Error(
      'DEMO_TEST_KUBECONFIG is not set. Run `npm run test:integration`, or `export DEMO_TEST_KUBECONFIG=$(npm run -s cluster:up | tail -n 1)`.',
    )
  }
  const kubeConfig = new KubeConfig()
  kubeConfig.loadFromFile(path)
  return kubeConfig
}

/** A fresh DNS-1123 namespace name such as `it-quota-1a2b3c4d`. */
export function aNamespaceName(purpose: string): string {
  return `it-${purpose}-${randomBytes(4).toString('hex')}`.slice(0, 63)
}

export function isApiException(error: unknown): error is ApiException<unknown> {
  return error instanceof ApiException
}

/** Awaits a call that must fail with an API error, and returns that error. */
export async function apiErrorOf(call: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await call
  } catch (error) {
    if (isApiException(error)) return error
    throw error
  }
  throw new Error('expected the API call to fail, but it succeeded')
}

/** The message of the Status an API error carries (client-node 2.x keeps the body as raw JSON text). */
export function statusMessage(error: ApiException<unknown>): string {
  const text = typeof error.body === 'string' ? error.body : JSON.stringify(error.body)
  try {
    const status: unknown = JSON.parse(text)
    if (typeof status === 'object' && status !== null && 'message' in status && typeof status.message === 'string') {
      return status.message
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text
}

export interface PollOptions {
  timeoutMs?: number
  intervalMs?: number
}

/** Polls `probe` until it returns a value other than undefined; throws naming `what` at the deadline. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  {timeoutMs = 60_000, intervalMs = 250}: PollOptions = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, {cause: lastError})
    }
    await sleep(intervalMs)
  }
}

/**
 * Creates a namespace labelled as a test namespace and waits for its `default` ServiceAccount, without
 * which the ServiceAccount admission plugin rejects pods.
 */
export async function createTestNamespace(kubeConfig: KubeConfig, purpose: string, labels: Record<string, string> = {}): Promise<string> {
  const core = kubeConfig.makeApiClient(CoreV1Api)
  const name = aNamespaceName(purpose)
  await core.createNamespace({body: {metadata: {name, labels: {...labels, [TEST_NAMESPACE_LABEL]: 'true'}}}})
  await eventually(`ServiceAccount ${name}/default`, async () => core.readNamespacedServiceAccount({name: 'default', namespace: name}))
  return name
}

/** Whether the namespace exists (a terminating one still does). */
export async function namespaceExists(core: CoreV1Api, name: string): Promise<boolean> {
  try {
    await core.readNamespace({name})
    return true
  } catch (error) {
    if (isApiException(error) && error.code === 404) return false
    throw error
  }
}

/** Requests deletion of a namespace; idempotent (a namespace already gone is fine). */
export async function deleteTestNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  try {
    await kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({name})
  } catch (error) {
    if (!(isApiException(error) && error.code === 404)) throw error
  }
}
