// Real identities on the test bed: ServiceAccounts with tokens from the TokenRequest API, and kubeconfig files
// that authenticate with them (and only them), for tests of who may do what (fault matrix X9, T15, T16).
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {CoreV1Api, RbacAuthorizationV1Api, type KubeConfig, type V1PolicyRule} from '@kubernetes/client-node'
import {tempDir} from './databases.js'
import {createTestNamespace, deleteTestNamespace, eventually, isApiException} from './k8s.js'

export interface TestIdentity {
  /** What `kubectl auth whoami` says: system:serviceaccount:<namespace>:<name>. */
  username: string
  name: string
  token: string
  /** A kubeconfig of the test bed's server that authenticates with this token only. */
  kubeconfig: string
}

/** A kubeconfig file for the admin kubeconfig's server (or `server`), authenticating with `token` only. */
export function tokenKubeconfig(admin: KubeConfig, token: string, options: {server?: string} = {}): string {
  const cluster = admin.getCurrentCluster()
  if (!cluster) throw new Error('the test kubeconfig has no current cluster')
  const server = options.server ?? cluster.server
  const clusterEntry: Record<string, unknown> = {server}
  if (server.startsWith('https:')) clusterEntry['certificate-authority-data'] = cluster.caData
  // client-node sends a bearer token over plain HTTP (a test proxy) only with this set.
  else clusterEntry['insecure-skip-tls-verify'] = true
  const file = join(tempDir('demo-identity-'), 'kubeconfig')
  // One context name for every identity: a demo records its context, and another identity acts in the same one.
  const context = 'testbed'
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: context, cluster: clusterEntry}],
      users: [{name: context, user: {token}}],
      contexts: [{name: context, context: {cluster: context, user: context}}],
      'current-context': context,
    }),
    {mode: 0o600},
  )
  return file
}

async function ignoringNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call()
  } catch (error) {
    if (!(isApiException(error) && error.code === 404)) throw error
  }
}

/** ServiceAccounts in a test namespace of their own, each bound to a ClusterRole of `rules`; `cleanup` removes all. */
export async function serviceAccounts(
  admin: KubeConfig,
  purpose: string,
  names: string[],
  rules: V1PolicyRule[],
): Promise<{namespace: string; identities: Record<string, TestIdentity>; cleanup: () => Promise<void>}> {
  const core = admin.makeApiClient(CoreV1Api)
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
  const namespace = await createTestNamespace(admin, purpose)
  const role = `${namespace}-role`
  await rbac.createClusterRole({body: {metadata: {name: role}, rules}})
  const identities: Record<string, TestIdentity> = {}
  for (const name of names) {
    await core.createNamespacedServiceAccount({namespace, body: {metadata: {name}}})
    await rbac.createClusterRoleBinding({
      body: {
        metadata: {name: `${role}-${name}`},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role},
        subjects: [{kind: 'ServiceAccount', name, namespace}],
      },
    })
    const request = await core.createNamespacedServiceAccountToken({name, namespace, body: {spec: {audiences: [], expirationSeconds: 3600}}})
    const token = request.status?.token ?? ''
    identities[name] = {username: `system:serviceaccount:${namespace}:${name}`, name, token, kubeconfig: tokenKubeconfig(admin, token)}
  }
  const cleanup = async (): Promise<void> => {
    for (const name of names) await ignoringNotFound(() => rbac.deleteClusterRoleBinding({name: `${role}-${name}`}))
    await ignoringNotFound(() => rbac.deleteClusterRole({name: role}))
    await deleteTestNamespace(admin, namespace)
  }
  return {namespace, identities, cleanup}
}

/** Waits until RBAC lets `identity` do what `probe` does (bindings reach the authorizer through an informer). */
export async function untilAllowed<T>(identity: TestIdentity, probe: () => Promise<T>): Promise<T> {
  return eventually(`RBAC to allow ${identity.username}`, probe)
}
