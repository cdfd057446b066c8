import {randomBytes} from 'node:crypto'
import {CoreV1Api, KubernetesObjectApi, PatchStrategy} from '@kubernetes/client-node'
import {connectKubernetesCluster} from '../../../src/adapters/kubernetes/kubernetes-cluster.js'
import {clusterContract} from '../../contract/cluster.contract.js'
import {deleteTestNamespace, isApiException, loadTestKubeConfig, NEVER_READY_LABEL, TEST_NAMESPACE_LABEL} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const objects = KubernetesObjectApi.makeApiClient(kubeConfig)
/**
 * Namespaces outlive a run on the shared test cluster (and take a while to terminate), so names are unique
 * per run: one random token per process, then a counter.
 */
const RUN = randomBytes(3).toString('hex')
let count = 0

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read
  } catch (error) {
    if (isApiException(error) && error.code === 404) return undefined
    throw error
  }
}

async function releaseHold(namespace: string, name: string): Promise<void> {
  const body = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace, finalizers: []}}
  await orUndefined(objects.patch(body, undefined, undefined, 'it', undefined, PatchStrategy.MergePatch))
}

clusterContract('KubernetesCluster on the local control plane', async () => {
  const cluster = await connectKubernetesCluster({kubeconfig: process.env.DEMO_TEST_KUBECONFIG})
  const created: string[] = []
  const holds: string[] = []
  return {
    cluster,
    context: kubeConfig.getCurrentContext(),
    // The test bed's admin client certificate (test/cluster/up.sh): CN=demo-testbed-admin.
    username: 'demo-testbed-admin',
    namespaceLabels: {[TEST_NAMESPACE_LABEL]: 'true'},
    settleMs: 90_000,
    newOwner: () => {
      count += 1
      const demoId = `c${RUN}${String(count).padStart(3, '0')}`
      created.push(`ctr-${demoId}`, `ctr-${demoId}-x`)
      return {demoId, namespace: `ctr-${demoId}`}
    },
    createForeignNamespace: async (name, metadata = {}) => {
      created.push(name)
      await core.createNamespace({
        body: {metadata: {name, labels: {...metadata.labels, [TEST_NAMESPACE_LABEL]: 'true'}, annotations: metadata.annotations}},
      })
    },
    readNamespace: async (name) => {
      const ns = await orUndefined(core.readNamespace({name}))
      if (!ns) return undefined
      const labels = {...ns.metadata?.labels}
      delete labels[TEST_NAMESPACE_LABEL]
      // The API server adds this label to every namespace.
      delete labels['kubernetes.io/metadata.name']
      return {labels, annotations: {...ns.metadata?.annotations}, terminating: ns.metadata?.deletionTimestamp !== undefined}
    },
    readObject: async (namespace, kind, name) => {
      const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1'
      const found = await orUndefined(objects.read({apiVersion, kind, metadata: {name, namespace}}))
      return found && (JSON.parse(JSON.stringify(found)) as Record<string, unknown>)
    },
    holdDeletion: async (namespace, finalizer) => {
      await core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'held', finalizers: [finalizer]}}})
      holds.push(namespace)
      return () => releaseHold(namespace, 'held')
    },
    neverReady: (deployment) => {
      const copy = structuredClone(deployment) as typeof deployment & {spec: {template: {metadata: {labels: Record<string, string>}}}}
      copy.spec.template.metadata.labels = {...copy.spec.template.metadata.labels, ...NEVER_READY_LABEL}
      return copy
    },
    close: async () => {
      for (const namespace of holds) await releaseHold(namespace, 'held')
      for (const name of created) await deleteTestNamespace(kubeConfig, name)
    },
  }
})
