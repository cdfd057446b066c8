import assert from 'node:assert/strict'
import {test} from 'node:test'
import {CoreV1Api, type V1Pod} from '@kubernetes/client-node'
import {apiErrorOf, statusMessage, createTestNamespace, deleteTestNamespace, eventually, loadTestKubeConfig} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)

function aPod(name: string, overrides: Partial<NonNullable<V1Pod['spec']>['containers'][number]> = {}): V1Pod {
  return {
    metadata: {name},
    spec: {containers: [{name: 'app', image: 'registry.invalid/demo/web:1', ...overrides}]},
  }
}

test('a ResourceQuota rejects a pod that would exceed it with 403 "exceeded quota"', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'quota')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))
  await core.createNamespacedResourceQuota({
    namespace,
    body: {metadata: {name: 'compute'}, spec: {hard: {'requests.cpu': '1', 'requests.memory': '1Gi', pods: '5'}}},
  })
  // Until the quota controller has computed status.used, admission answers "status unknown for quota".
  await eventually('quota status to be computed', async () => {
    const quota = await core.readNamespacedResourceQuota({name: 'compute', namespace})
    return quota.status?.used?.['requests.cpu'] === undefined ? undefined : quota
  })

  const fits = await core.createNamespacedPod({
    namespace,
    body: aPod('fits', {resources: {requests: {cpu: '500m', memory: '256Mi'}}}),
  })
  const error = await apiErrorOf(core.createNamespacedPod({namespace, body: aPod('too-big', {resources: {requests: {cpu: '2', memory: '256Mi'}}})}))

  assert.equal(fits.metadata?.name, 'fits')
  assert.equal(error.code, 403)
  assert.match(statusMessage(error), /exceeded quota: compute/)
})

test('a LimitRange injects default requests and limits into a pod that has none', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'limits')
  t.after(() => deleteTestNamespace(kubeConfig, namespace))
  await core.createNamespacedLimitRange({
    namespace,
    body: {
      metadata: {name: 'defaults'},
      spec: {
        limits: [{type: 'Container', defaultRequest: {cpu: '100m', memory: '64Mi'}, _default: {cpu: '200m', memory: '128Mi'}}],
      },
    },
  })

  const pod = await core.createNamespacedPod({namespace, body: aPod('bare')})

  const resources = pod.spec?.containers[0]?.resources
  assert.deepEqual(resources?.requests, {cpu: '100m', memory: '64Mi'})
  assert.deepEqual(resources?.limits, {cpu: '200m', memory: '128Mi'})
})

test('a namespace enforcing the restricted Pod Security level rejects a privileged pod', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'psa', {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  })
  t.after(() => deleteTestNamespace(kubeConfig, namespace))

  const error = await apiErrorOf(core.createNamespacedPod({namespace, body: aPod('privileged', {securityContext: {privileged: true}})}))
  const compliant = await core.createNamespacedPod({
    namespace,
    body: aPod('restricted', {
      securityContext: {
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        runAsUser: 1000,
        capabilities: {drop: ['ALL']},
        seccompProfile: {type: 'RuntimeDefault'},
      },
    }),
  })

  assert.equal(error.code, 403)
  assert.match(statusMessage(error), /violates PodSecurity "restricted:latest".*privileged/)
  assert.equal(compliant.metadata?.name, 'restricted')
})
