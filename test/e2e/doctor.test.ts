// demo doctor through the built CLI against the local control plane and real Postgres: once as the test
// bed's administrator (every check passes), once with a ServiceAccount token that may only read namespaces
// (the permission check fails naming what is missing; exit 1). Tokens are minted as in
// test/integration/cluster/rbac.test.ts.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api} from '@kubernetes/client-node'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliSandbox} from '../support/cli.js'
import {createTestNamespace, deleteTestNamespace, eventually, loadTestKubeConfig} from '../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const core = kubeConfig.makeApiClient(CoreV1Api)
const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api)
const networking = kubeConfig.makeApiClient(NetworkingV1Api)
const INGRESS_CLASS = 'doctor-test'

interface Report {
  ok: boolean
  checks: Array<{name: string; ok: boolean; detail: string; fix?: string}>
}

let database: {url: string; drop: () => Promise<void>}
let box: CliSandbox
let namespace: string

before(async () => {
  database = await scratchDatabase('e2e_doctor')
  box = cliSandbox({config: {ingress: {className: INGRESS_CLASS}}, databaseUrl: database.url})
  namespace = await createTestNamespace(kubeConfig, 'doctor')
  await networking.createIngressClass({body: {metadata: {name: INGRESS_CLASS}, spec: {controller: 'example.com/none'}}}).catch(() => undefined)
})
after(async () => {
  await rbac.deleteClusterRoleBinding({name: `${namespace}-reader`}).catch(() => undefined)
  await rbac.deleteClusterRole({name: `${namespace}-reader`}).catch(() => undefined)
  await networking.deleteIngressClass({name: INGRESS_CLASS}).catch(() => undefined)
  await deleteTestNamespace(kubeConfig, namespace)
  await database.drop()
})

/** A kubeconfig file for the same API server that authenticates with `token` only. */
function tokenKubeconfig(token: string): string {
  const cluster = kubeConfig.getCurrentCluster()
  assert.ok(cluster)
  const config = new KubeConfig()
  config.loadFromOptions({
    clusters: [{name: 'test', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: false}],
    users: [{name: 'reader', token}],
    contexts: [{name: 'reader', cluster: 'test', user: 'reader'}],
    currentContext: 'reader',
  })
  const path = join(box.dir, 'reader.kubeconfig')
  writeFileSync(path, config.exportConfig())
  return path
}

describe('demo doctor (built CLI, control plane, Postgres)', () => {
  it('passes every check for an identity with full rights, one line per check', async () => {
    const result = await runDemo(box, ['doctor'])
    assert.equal(result.code, 0, transcript(result))
    for (const name of ['node', 'config', 'state', 'cluster', 'rbac', 'ingress']) assert.match(result.stdout, new RegExp(`^ok +${name} `, 'm'))
    assert.match(result.stdout, /^ok +state +shared Postgres .*, reachable and migrated$/m)
    assert.match(result.stdout, new RegExp(`^ok +ingress +IngressClass "${INGRESS_CLASS}" exists$`, 'm'))
    assert.ok(!result.stdout.includes(`:${new URL(database.url).password}@`), 'the database password is never printed')
  })

  it('fails the permission check for a token that may only read namespaces, naming what is missing (exit 1, --json)', async () => {
    await core.createNamespacedServiceAccount({namespace, body: {metadata: {name: 'reader'}}})
    await rbac.createClusterRole({
      body: {metadata: {name: `${namespace}-reader`}, rules: [{apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list']}]},
    })
    await rbac.createClusterRoleBinding({
      body: {
        metadata: {name: `${namespace}-reader`},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${namespace}-reader`},
        subjects: [{kind: 'ServiceAccount', name: 'reader', namespace}],
      },
    })
    const minted = await core.createNamespacedServiceAccountToken({name: 'reader', namespace, body: {spec: {audiences: [], expirationSeconds: 600}}})
    const token = minted.status?.token ?? ''
    const kubeconfig = tokenKubeconfig(token)
    // RBAC reaches the authorizer through an informer: wait until the binding shows in doctor's own answer.
    const report = await eventually('the reader binding to apply', async () => {
      const result = await runDemo(box, ['doctor', '--json', '--kubeconfig', kubeconfig])
      const doc = jsonOf<Report>(result)
      const rbacCheck = doc.checks.find((c) => c.name === 'rbac')
      if (!rbacCheck || rbacCheck.detail.includes('list namespaces')) throw new Error(`not yet: ${rbacCheck?.detail}`)
      assert.equal(result.code, 1, transcript(result))
      assert.ok(!result.stdout.includes(token) && !result.stderr.includes(token), 'the token is never printed')
      return doc
    })
    assert.equal(report.ok, false)
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]))
    assert.equal(byName.cluster?.ok, true)
    assert.equal(byName.rbac?.ok, false)
    assert.match(
      byName.rbac?.detail ?? '',
      /^missing create namespaces \(create\), patch namespaces \(create, extend\), delete namespaces \(destroy, gc\), /,
    )
    assert.match(byName.rbac?.detail ?? '', /patch deployments\.apps \(create\)/)
    assert.match(byName.rbac?.fix ?? '', /ClusterRole/)
  })
})
