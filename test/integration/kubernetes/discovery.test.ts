// The built-in kinds Discovery answers without asking (BUILT_IN_KINDS) must be what the API server's own
// discovery says: the same resource name and scope, for every entry.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  NetworkingV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1APIResourceList,
} from '@kubernetes/client-node'
import {BUILT_IN_KINDS} from '../../../src/adapters/kubernetes/rest.js'
import {loadTestKubeConfig} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const discoveryOf: Record<string, () => Promise<V1APIResourceList>> = {
  v1: () => kubeConfig.makeApiClient(CoreV1Api).getAPIResources(),
  'apps/v1': () => kubeConfig.makeApiClient(AppsV1Api).getAPIResources(),
  'batch/v1': () => kubeConfig.makeApiClient(BatchV1Api).getAPIResources(),
  'networking.k8s.io/v1': () => kubeConfig.makeApiClient(NetworkingV1Api).getAPIResources(),
  'policy/v1': () => kubeConfig.makeApiClient(PolicyV1Api).getAPIResources(),
  'autoscaling/v2': () => kubeConfig.makeApiClient(AutoscalingV2Api).getAPIResources(),
  'rbac.authorization.k8s.io/v1': () => kubeConfig.makeApiClient(RbacAuthorizationV1Api).getAPIResources(),
}

describe('BUILT_IN_KINDS against the API server’s discovery', () => {
  it('covers only group versions this test can read', () => {
    assert.deepEqual([...BUILT_IN_KINDS.keys()].sort(), Object.keys(discoveryOf).sort())
  })

  for (const [apiVersion, kinds] of BUILT_IN_KINDS) {
    it(`names each kind of ${apiVersion} by its resource and scope as discovery does`, async () => {
      const served = (await discoveryOf[apiVersion]!()).resources.filter((r) => !r.name.includes('/'))
      for (const kind of kinds) {
        const found = served.find((r) => r.kind === kind.kind)
        assert.ok(found, `${apiVersion} ${kind.kind} is not served`)
        assert.deepEqual({kind: kind.kind, name: found.name, namespaced: found.namespaced}, kind)
      }
    })
  }
})
