import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment} from '@kubernetes/client-node'
import {apiErrorOf, createTestNamespace, deleteTestNamespace, eventually, loadTestKubeConfig} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const apps = kubeConfig.makeApiClient(AppsV1Api)
const core = kubeConfig.makeApiClient(CoreV1Api)

function aDeployment(name: string, replicas: number): V1Deployment {
  const labels = {app: name}
  return {
    metadata: {name, labels},
    spec: {
      replicas,
      selector: {matchLabels: labels},
      template: {
        metadata: {labels},
        spec: {containers: [{name: 'app', image: 'registry.invalid/demo/web:1', ports: [{containerPort: 8080}]}]},
      },
    },
  }
}

async function createAvailableDeployment(config: KubeConfig, namespace: string, replicas: number): Promise<V1Deployment> {
  const client = config.makeApiClient(AppsV1Api)
  await client.createNamespacedDeployment({namespace, body: aDeployment('web', replicas)})
  return eventually(`deployment ${namespace}/web to become Available`, async () => {
    const deployment = await client.readNamespacedDeployment({name: 'web', namespace})
    const available = deployment.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True'
    return available && deployment.status?.availableReplicas === replicas ? deployment : undefined
  })
}

test('a deployment with 3 replicas becomes Available with 3 Running and Ready pods', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'deploy')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))

  const deployment = await createAvailableDeployment(kubeConfig, namespace, 3)

  assert.equal(deployment.status?.readyReplicas, 3)
  const pods = await core.listNamespacedPod({namespace, labelSelector: 'app=web'})
  assert.equal(pods.items.length, 3)
  for (const pod of pods.items) {
    assert.equal(pod.status?.phase, 'Running', `pod ${pod.metadata?.name} phase`)
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', `pod ${pod.metadata?.name} Ready`)
    assert.match(pod.spec?.nodeName ?? '', /^kwok-node-\d+$/)
    assert.match(pod.status?.podIP ?? '', /^10\.244\./)
  }
})

test('deleting a namespace with a running deployment completes instead of staying Terminating', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'nsdelete')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))
  await createAvailableDeployment(kubeConfig, namespace, 3)

  await core.deleteNamespace({name: namespace})

  const gone = await eventually(
    `namespace ${namespace} to be deleted`,
    async () => {
      const error = await apiErrorOf(core.readNamespace({name: namespace})).catch(() => undefined)
      return error?.code === 404 ? error : undefined
    },
    {timeoutMs: 120_000, intervalMs: 500},
  )
  assert.equal(gone.code, 404)
  const listed = await apps.listDeploymentForAllNamespaces({fieldSelector: `metadata.namespace=${namespace}`})
  assert.deepEqual(listed.items, [])
})
