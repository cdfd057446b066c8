import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {test} from 'node:test'
import {AppsV1Api, CoreV1Api, type V1Pod} from '@kubernetes/client-node'
import {NEVER_READY_LABEL, createTestNamespace, deleteTestNamespace, eventually, loadTestKubeConfig} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const apps = kubeConfig.makeApiClient(AppsV1Api)

function readyStatus(pod: V1Pod): string | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === 'Ready')?.status
}

test('a pod labelled demo.test/never-ready=true is scheduled and Running but stays not Ready', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'neverready')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: {name: 'stuck', labels: {...NEVER_READY_LABEL}},
      spec: {containers: [{name: 'app', image: 'registry.invalid/demo/web:1'}]},
    },
  })

  const running = await eventually('pod "stuck" to be Running', async () => {
    const pod = await core.readNamespacedPod({name: 'stuck', namespace})
    return pod.status?.phase === 'Running' ? pod : undefined
  })
  await sleep(3_000)
  const later = await core.readNamespacedPod({name: 'stuck', namespace})

  assert.match(running.spec?.nodeName ?? '', /^kwok-node-\d+$/)
  assert.equal(readyStatus(running), 'False')
  assert.equal(later.status?.phase, 'Running')
  assert.equal(readyStatus(later), 'False')
  assert.equal(later.status?.containerStatuses?.[0]?.ready, false)
})

test('a deployment whose pods are never Ready reports ProgressDeadlineExceeded and no available replicas', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'neverready')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))
  const labels = {app: 'web', ...NEVER_READY_LABEL}
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: {name: 'web'},
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 5,
        selector: {matchLabels: {app: 'web'}},
        template: {metadata: {labels}, spec: {containers: [{name: 'app', image: 'registry.invalid/demo/web:1'}]}},
      },
    },
  })

  const stalled = await eventually('deployment "web" to exceed its progress deadline', async () => {
    const deployment = await apps.readNamespacedDeployment({name: 'web', namespace})
    const progressing = deployment.status?.conditions?.find((condition) => condition.type === 'Progressing')
    return progressing?.reason === 'ProgressDeadlineExceeded' ? deployment : undefined
  })

  assert.equal(stalled.status?.availableReplicas ?? 0, 0)
  assert.equal(stalled.status?.replicas, 2)
  assert.equal(stalled.status?.conditions?.find((condition) => condition.type === 'Available')?.status, 'False')
})
