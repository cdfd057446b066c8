// Fault matrix T10: 5xx answers and reset connections on WRITES (namespace create, server-side apply), injected by a
// proxy in front of the real kube-apiserver, before the server saw the request and after it did the write.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api, KubeConfig} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript} from '../support/cli.js'
import {startFaultProxy, type Fault, type FaultProxy} from '../support/fault-proxy.js'
import {serviceAccounts, tokenKubeconfig, untilAllowed, type TestIdentity} from '../support/identities.js'
import {loadTestKubeConfig, namespaceExists} from '../support/k8s.js'

const admin = loadTestKubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

/** Each write kind gets its faults in order, one per request, then passes. */
const SCRIPT: Array<{match: RegExp; method: string; faults: Fault[]}> = [
  {
    method: 'POST',
    match: /^\/api\/v1\/namespaces\?/,
    faults: [
      {status: 503, afterForward: true},
      {reset: true, afterForward: false},
    ],
  },
  {method: 'PATCH', match: /\/resourcequotas\//, faults: [{reset: true, afterForward: true}]},
  {method: 'PATCH', match: /\/secrets\//, faults: [{status: 500, afterForward: true}]},
  {
    method: 'PATCH',
    match: /\/deployments\//,
    faults: [
      {reset: true, afterForward: false},
      {status: 502, afterForward: true},
    ],
  },
  {method: 'PATCH', match: /\/ingresses\//, faults: [{status: 504, afterForward: false}]},
]

describe('T10: 5xx and reset connections on writes are retried safely', () => {
  let database: {url: string; drop: () => Promise<void>}
  let accounts: Awaited<ReturnType<typeof serviceAccounts>>
  let proxy: FaultProxy
  let kubeconfig = ''
  before(async () => {
    database = await scratchDatabase('e2e_t10')
    accounts = await serviceAccounts(admin, 't10', ['writer'], [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}])
    const writer = accounts.identities.writer as TestIdentity
    const asWriter = new KubeConfig()
    asWriter.loadFromFile(writer.kubeconfig)
    await untilAllowed(writer, () => asWriter.makeApiClient(CoreV1Api).listNamespace({limit: 1}))
    const left = SCRIPT.map((entry) => [...entry.faults])
    proxy = await startFaultProxy(admin, (request) => {
      const index = SCRIPT.findIndex((entry) => entry.method === request.method && entry.match.test(request.path))
      return index === -1 ? undefined : left[index]?.shift()
    })
    kubeconfig = tokenKubeconfig(admin, writer.token, {server: proxy.url})
  })
  after(async () => {
    await proxy.close()
    await accounts.cleanup()
    await database.drop()
  })

  it('create succeeds with one namespace and every object, and each injected fault was met', async () => {
    const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: database.url})
    box.env.KUBECONFIG = kubeconfig
    const created = await runDemo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const demo = jsonOf<{id: string; namespace: string; status: string}>(created)
    assert.equal(demo.status, 'ready')
    const injected = proxy.seen.filter((r) => r.fault).map((r) => `${r.method} ${r.path.split('?')[0]}`)
    assert.equal(injected.length, SCRIPT.flatMap((s) => s.faults).length, injected.join('\n'))
    assert.equal(await namespaceExists(core, demo.namespace), true)
    const secrets = await core.listNamespacedSecret({namespace: demo.namespace})
    assert.ok(secrets.items.some((s) => s.metadata?.name === 'demo-database'))
    const destroyed = await runDemo(box, ['destroy', demo.id, '--yes', '--json'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
  })
})
