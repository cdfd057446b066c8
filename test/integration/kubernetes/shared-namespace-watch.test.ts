import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, describe, it} from 'node:test'
import {connectClients, KubernetesCluster, type Clients} from '../../../src/adapters/kubernetes/kubernetes-cluster.js'
import {awaitNamespaceGone} from '../../../src/core/await-ready.js'
import {aNamespaceManifest} from '../../fakes/builders.js'
import {deleteTestNamespace, loadTestKubeConfig, TEST_NAMESPACE_LABEL} from '../../support/k8s.js'

const kubeConfig = loadTestKubeConfig()
const RUN = randomBytes(3).toString('hex')
const WAITS = 40

/** The adapter's clients, counting the namespace watches it opens and how many are open at once, and its GETs of one namespace. */
function counting(clients: Clients): {clients: Clients; counts: {opened: number; open: number; peak: number; reads: number}} {
  const counts = {opened: 0, open: 0, peak: 0, reads: 0}
  // A GET of one namespace (/api/v1/namespaces/<name>); the lists of the watch are GETs of /api/v1/namespaces.
  const send: Clients['send'] = (request) => {
    if (request.method === 'GET' && /^\/api\/v1\/namespaces\/[^/]+$/.test(request.path)) counts.reads += 1
    return clients.send(request)
  }
  const watch = () => {
    const real = clients.watch()
    return {
      watch: (
        path: string,
        query: Record<string, string | number | boolean | undefined>,
        onEvent: (type: string, object: unknown) => void,
        onDone: (error: unknown) => void,
      ) => {
        if (path === '/api/v1/namespaces') {
          counts.opened += 1
          counts.open += 1
          counts.peak = Math.max(counts.peak, counts.open)
        }
        let ended = false
        const done = (error: unknown) => {
          if (!ended && path === '/api/v1/namespaces') counts.open -= 1
          ended = true
          onDone(error)
        }
        return real.watch(path, query, onEvent, done)
      },
    } as unknown as ReturnType<Clients['watch']>
  }
  return {
    clients: {
      ...clients,
      send,
      watch,
      get kubeConfig() {
        return clients.kubeConfig
      },
    },
    counts,
  }
}

describe('KubernetesCluster: many namespace waits share one watch (local control plane)', () => {
  const names: string[] = []
  after(async () => {
    for (const name of names) await deleteTestNamespace(kubeConfig, name)
  })

  it(`${WAITS} concurrent awaitNamespaceGone all resolve over one namespace watch connection, without a GET each`, async () => {
    const connected = await connectClients({kubeconfig: process.env.DEMO_TEST_KUBECONFIG})
    const {clients, counts} = counting(connected.clients)
    const cluster = new KubernetesCluster(clients, connected.settings)
    const owners = Array.from({length: WAITS}, (_, i) => ({
      demoId: `w${RUN}${String(i).padStart(3, '0')}`,
      namespace: `shw-w${RUN}${String(i).padStart(3, '0')}`,
    }))
    names.push(...owners.map((o) => o.namespace))
    await Promise.all(owners.map((o) => cluster.ensureNamespace(aNamespaceManifest(o, {labels: {[TEST_NAMESPACE_LABEL]: 'true'}}), o)))
    for (const o of owners) assert.equal(await cluster.deleteNamespace(o), true)
    const readsBefore = counts.reads
    const deps = {cluster, clock: {now: () => new Date()}, signal: new AbortController().signal}
    await Promise.all(owners.map((o) => awaitNamespaceGone(deps, {namespace: o.namespace, timeoutMs: 180_000})))
    const readsWhileWaiting = counts.reads - readsBefore
    for (const o of owners) assert.equal((await cluster.namespaceStatus(o.namespace)).exists, false)
    assert.equal(counts.peak, 1, `namespace watches open at once: ${counts.peak}`)
    // The server ends a watch every WATCH_TIMEOUT_S (it is reopened), so a long wait may open a few in turn, never one per namespace.
    assert.ok(counts.opened < WAITS / 4, `namespace watches opened: ${counts.opened}`)
    assert.ok(readsWhileWaiting < WAITS, `namespace GETs while waiting: ${readsWhileWaiting}`)
  })
})
