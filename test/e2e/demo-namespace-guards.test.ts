// Fault matrix X2, X3 and T16 against a real demo: X2/X3 in a namespace made by `demo create` (Pod Security
// restricted, the LimitRange's maximums), T16 with a ServiceAccount that may create namespaces but not Deployments.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api, KubeConfig, type V1Pod} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript} from '../support/cli.js'
import {MANAGED_SELECTOR} from '../../src/core/labels.js'
import {serviceAccounts, untilAllowed, type TestIdentity} from '../support/identities.js'
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

describe('T16: a ServiceAccount that may create namespaces but not Deployments', () => {
  let database: {url: string; drop: () => Promise<void>}
  let accounts: Awaited<ReturnType<typeof serviceAccounts>>
  before(async () => {
    database = await scratchDatabase('e2e_t16')
    accounts = await serviceAccounts(
      admin,
      't16',
      ['limited'],
      [
        // No delete of namespaces either: a create that failed halfway could not even roll back.
        {apiGroups: [''], resources: ['namespaces'], verbs: ['create', 'get', 'list', 'patch']},
        {apiGroups: [''], resources: ['resourcequotas', 'limitranges', 'secrets', 'configmaps', 'services', 'pods', 'events'], verbs: ['*']},
        {apiGroups: ['networking.k8s.io'], resources: ['networkpolicies', 'ingresses'], verbs: ['*']},
        {apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list']},
      ],
    )
  })
  after(async () => {
    await accounts.cleanup()
    await database.drop()
  })

  it('create fails naming the verb and the resource, before anything exists: no row, no namespace', async () => {
    const limited = accounts.identities.limited as TestIdentity
    const asLimited = new KubeConfig()
    asLimited.loadFromFile(limited.kubeconfig)
    await untilAllowed(limited, () => asLimited.makeApiClient(CoreV1Api).readNamespace({name: accounts.namespace}))
    const before = await ourNamespaces()
    const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: database.url})
    box.env.KUBECONFIG = limited.kubeconfig
    const result = await runDemo(box, ['create', '--type', 'startup'])
    assert.equal(result.code, 1, transcript(result))
    assert.match(
      result.stderr,
      /^Error: Cannot create a demo in context "testbed": these credentials may not .*create deployments\.apps in namespace "demo-[a-z0-9]+"/m,
    )
    assert.match(result.stderr, /delete namespaces/)
    assert.match(result.stderr, /Nothing was created\./)
    assert.deepEqual(await ourNamespaces(), before)
    const listed = await runDemo(box, ['list', '--status', 'all', '--json'])
    assert.equal(listed.code, 0, transcript(listed))
    assert.equal(jsonOf<{total: number}>(listed).total, 0)
  })
})

async function ourNamespaces(): Promise<string[]> {
  const list = await core.listNamespace({labelSelector: MANAGED_SELECTOR})
  return list.items.map((ns) => ns.metadata?.name ?? '').sort()
}
