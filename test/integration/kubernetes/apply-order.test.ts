import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, describe, it} from 'node:test'
import {AppsV1Api, CoreV1Api} from '@kubernetes/client-node'
import {connectClients, KubernetesCluster, type Clients} from '../../../src/adapters/kubernetes/kubernetes-cluster.js'
import type {Manifest, Ownership} from '../../../src/core/ports.js'
import {aDeployment, aNamespaceManifest, ownershipMarks} from '../../fakes/builders.js'
import {deleteTestNamespace, loadTestKubeConfig, TEST_NAMESPACE_LABEL} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const RUN = randomBytes(3).toString('hex')

/** The adapter's clients, recording for each kind how many applies (PATCH requests) were in flight at once, at most. */
function counting(clients: Clients): {clients: Clients; peak: Map<string, number>} {
  const open = new Map<string, number>()
  const peak = new Map<string, number>()
  const send: Clients['send'] = async (request) => {
    if (request.method !== 'PATCH') return clients.send(request)
    const kind = (request.body as {kind: string}).kind
    open.set(kind, (open.get(kind) ?? 0) + 1)
    peak.set(kind, Math.max(peak.get(kind) ?? 0, open.get(kind) ?? 0))
    try {
      return await clients.send(request)
    } finally {
      open.set(kind, (open.get(kind) ?? 1) - 1)
    }
  }
  return {clients: {...clients, send}, peak}
}

function aService(owner: Ownership, name: string): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name, namespace: owner.namespace, ...ownershipMarks(owner.demoId)},
    spec: {selector: {'app.kubernetes.io/name': name}, ports: [{port: 80, targetPort: 8080}]},
  }
}

describe('KubernetesCluster.apply (local control plane)', () => {
  const owner = {demoId: `ao${RUN}`, namespace: `apply-order-${RUN}`}
  after(() => deleteTestNamespace(kubeConfig, owner.namespace))

  it('applies Services one at a time and the Deployments beside them in parallel, and every object lands', async () => {
    const connected = await connectClients({kubeconfig: process.env.DEMO_TEST_KUBECONFIG})
    const {clients, peak} = counting(connected.clients)
    const cluster = new KubernetesCluster(clients, connected.settings)
    await cluster.ensureNamespace(aNamespaceManifest(owner, {labels: {[TEST_NAMESPACE_LABEL]: 'true'}}), owner)
    const names = ['portal', 'api', 'worker', 'search', 'mailer', 'billing']
    await cluster.apply([...names.map((n) => aService(owner, n)), ...names.map((n) => aDeployment(owner, n))], owner)

    assert.equal(peak.get('Service'), 1, 'Service applies in flight at once')
    assert.ok((peak.get('Deployment') ?? 0) > 1, `Deployment applies in flight at once: ${peak.get('Deployment')}`)
    const services = await kubeConfig.makeApiClient(CoreV1Api).listNamespacedService({namespace: owner.namespace})
    const deployments = await kubeConfig.makeApiClient(AppsV1Api).listNamespacedDeployment({namespace: owner.namespace})
    assert.deepEqual(services.items.map((s) => s.metadata?.name).sort(), [...names].sort())
    assert.deepEqual(deployments.items.map((d) => d.metadata?.name).sort(), [...names].sort())
  })
})
