import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AppsV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api} from '@kubernetes/client-node'
import {
  apiErrorOf,
  statusMessage,
  createTestNamespace,
  deleteTestNamespace,
  eventually,
  isApiException,
  loadTestKubeConfig,
} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api)

/** A kubeconfig for the same API server that authenticates with a bearer token only. */
function kubeConfigWithToken(token: string): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster()
  assert.ok(cluster, 'the test kubeconfig has a current cluster')
  const tokenConfig = new KubeConfig()
  tokenConfig.loadFromOptions({
    clusters: [{name: 'test', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: false}],
    users: [{name: 'service-account', token}],
    contexts: [{name: 'test', cluster: 'test', user: 'service-account'}],
    currentContext: 'test',
  })
  return tokenConfig
}

async function deleteIgnoringNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call()
  } catch (error) {
    if (!(isApiException(error) && error.code === 404)) throw error
  }
}

test('a ServiceAccount token allowed only to read namespaces gets 403 when it creates a deployment', async (t) => {
  const namespace = await createTestNamespace(kubeConfig, 'rbac')
  const roleName = `${namespace}-namespace-reader`
  t.after(async () => {
    await deleteIgnoringNotFound(() => rbac.deleteClusterRoleBinding({name: roleName}))
    await deleteIgnoringNotFound(() => rbac.deleteClusterRole({name: roleName}))
    await deleteTestNamespace(kubeConfig, namespace)
  })
  await core.createNamespacedServiceAccount({namespace, body: {metadata: {name: 'reader'}}})
  await rbac.createClusterRole({
    body: {metadata: {name: roleName}, rules: [{apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list']}]},
  })
  await rbac.createClusterRoleBinding({
    body: {
      metadata: {name: roleName},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName},
      subjects: [{kind: 'ServiceAccount', name: 'reader', namespace}],
    },
  })

  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name: 'reader',
    namespace,
    body: {spec: {audiences: [], expirationSeconds: 600}},
  })
  const token = tokenRequest.status?.token ?? ''
  const asReader = kubeConfigWithToken(token)
  // RBAC objects reach the authorizer through an informer, so the binding can take a moment to apply.
  const ownNamespace = await eventually('the reader token to be allowed to read namespaces', async () =>
    asReader.makeApiClient(CoreV1Api).readNamespace({name: namespace}),
  )
  const error = await apiErrorOf(
    asReader.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: {name: 'web'},
        spec: {
          selector: {matchLabels: {app: 'web'}},
          template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'app', image: 'registry.invalid/web:1'}]}},
        },
      },
    }),
  )

  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the TokenRequest API returns a JWT')
  assert.equal(ownNamespace.metadata?.name, namespace)
  assert.equal(error.code, 403)
  assert.match(statusMessage(error), new RegExp(`"system:serviceaccount:${namespace}:reader" cannot create resource "deployments"`))
})
