// Fault matrix X2, X3 and T16 against a real demo: X2/X3 in a namespace made by `demo create` (Pod Security
// restricted, the LimitRange's maximums), T16 with a ServiceAccount that may create namespaces but not Deployments.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api, type V1Pod} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript} from '../support/cli.js'
import {apiErrorOf, loadTestKubeConfig, namespaceExists, statusMessage} from '../support/k8s.js'

const admin = loadTestKubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

/** A pod that passes the restricted Pod Security level, with `container` merged into its one container. */
function aPod(name: string, container: Record<string, unknown> = {}, pod: Record<string, unknown> = {}): V1Pod {
  return {
    metadata: {name},
    spec: {
      securityContext: {runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}},
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1',
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}},
          ...container,
        },
      ],
      ...pod,
    },
  }
}

describe('X2, X3: the guard rails of a real demo namespace (made by demo create)', () => {
  let database: {url: string; drop: () => Promise<void>}
  let namespace = ''
  let box: ReturnType<typeof cliSandbox>
  before(async () => {
    database = await scratchDatabase('e2e_guards')
    box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: database.url})
    const created = await runDemo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    namespace = jsonOf<{namespace: string}>(created).namespace
  })
  after(async () => {
    const id = namespace.replace(/^demo-/, '')
    if (id) await runDemo(box, ['destroy', id, '--yes'])
    await database.drop()
  })

  it('X2: rejects a privileged pod (Pod Security restricted), and admits the same pod without privileges', async () => {
    const error = await apiErrorOf(
      core.createNamespacedPod({namespace, body: aPod('privileged', {securityContext: {privileged: true, allowPrivilegeEscalation: true}})}),
    )
    assert.equal(error.code, 403)
    assert.match(statusMessage(error), /violates PodSecurity "restricted:latest": .*privileged/)
    const admitted = await core.createNamespacedPod({namespace, body: aPod('plain')})
    assert.equal(admitted.metadata?.namespace, namespace)
  })

  it('X3: rejects a container above the LimitRange maximums (cpu 2, memory 2Gi), naming the maximum', async () => {
    const cpu = await apiErrorOf(
      core.createNamespacedPod({namespace, body: aPod('too-much-cpu', {resources: {requests: {cpu: '100m'}, limits: {cpu: '3', memory: '256Mi'}}})}),
    )
    assert.equal(cpu.code, 403)
    assert.match(statusMessage(cpu), /maximum cpu usage per Container is 2, but limit is 3/)
    const memory = await apiErrorOf(
      core.createNamespacedPod({namespace, body: aPod('too-much-memory', {resources: {limits: {cpu: '500m', memory: '3Gi'}}})}),
    )
    assert.equal(memory.code, 403)
    assert.match(statusMessage(memory), /maximum memory usage per Container is 2Gi, but limit is 3Gi/)
    assert.equal(await namespaceExists(core, namespace), true)
  })
})
