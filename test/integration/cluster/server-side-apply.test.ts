import assert from 'node:assert/strict'
import {test} from 'node:test'
import {KubernetesObjectApi, PatchStrategy, type KubernetesObject} from '@kubernetes/client-node'
import {createTestNamespace, deleteTestNamespace, loadTestKubeConfig} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const objects = KubernetesObjectApi.makeApiClient(kubeConfig)
const FIELD_MANAGER = 'demo-integration-test'

function apply<T extends KubernetesObject>(object: T): Promise<T> {
  return objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)
}

function theObjects(namespace: string): KubernetesObject[] {
  const labels = {app: 'web', 'app.kubernetes.io/managed-by': 'demo'}
  return [
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'settings', namespace, labels}, data: {GREETING: 'hello'}} as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'web', namespace, labels},
      spec: {selector: {app: 'web'}, ports: [{name: 'http', port: 80, targetPort: 8080}]},
    } as KubernetesObject,
  ]
}

test('server-side apply with a field manager is idempotent: a second apply changes nothing', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'ssa')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))

  const first = await Promise.all(theObjects(namespace).map(apply))
  const second = await Promise.all(theObjects(namespace).map(apply))

  for (const [index, applied] of first.entries()) {
    const again = second[index]
    assert.ok(again)
    assert.equal(again.metadata?.resourceVersion, applied.metadata?.resourceVersion, `${applied.kind} resourceVersion`)
    assert.equal(again.metadata?.generation, applied.metadata?.generation, `${applied.kind} generation`)
    assert.ok(
      again.metadata?.managedFields?.some((entry) => entry.manager === FIELD_MANAGER && entry.operation === 'Apply'),
      `${applied.kind} is managed by ${FIELD_MANAGER}`,
    )
  }
})
