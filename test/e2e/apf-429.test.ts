// Fault matrix T9 end to end: real 429s from API Priority and Fairness. A FlowSchema sends one ServiceAccount's
// requests to a PriorityLevelConfiguration of its own with no share of the server's concurrency (APF still gives a
// level one seat), no borrowing, and Reject: whatever exceeds one request at a time is answered 429 at once. Creates
// run concurrently as that ServiceAccount through the built CLI; each must succeed (it retries, honouring
// Retry-After), and the API server's own counter (apiserver_flowcontrol_rejected_requests_total) proves 429s happened.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {execa} from 'execa'
import {CoreV1Api, KubernetesObjectApi} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliResult, type CliSandbox} from '../support/cli.js'
import {serviceAccounts, untilAllowed, type TestIdentity} from '../support/identities.js'
import {eventually, loadTestKubeConfig, namespaceExists} from '../support/k8s.js'

const admin = loadTestKubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const objects = KubernetesObjectApi.makeApiClient(admin)
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})
/**
 * Creates at once per round, and rounds at most until a 429 was seen (each round asserts every create succeeded).
 * Six, not three: with three, a client that sends its whole burst again after each Retry-After failed one run in
 * four; with six, one in two (2026-11-30). AdaptiveLimit and the jittered Retry-After (retry.ts) are what pass it.
 */
const CONCURRENT = 6
const MAX_ROUNDS = 3

/** The test bed's kubectl (test/cluster/up.sh records its bin directory next to the kubeconfig). */
function kubectl(): string {
  const state = dirname(process.env.DEMO_TEST_KUBECONFIG ?? '')
  return join(readFileSync(join(state, 'bin-dir'), 'utf8').trim(), 'kubectl')
}

/** A counter of the API server's /metrics (admin credentials), summed over the series whose labels include `labels`. */
async function metric(name: string, labels: string): Promise<number> {
  const {stdout} = await execa(kubectl(), ['get', '--raw', '/metrics'], {env: {KUBECONFIG: process.env.DEMO_TEST_KUBECONFIG}})
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
}

describe('T9: 429 from API Priority and Fairness on the test bed', () => {
  let database: {url: string; drop: () => Promise<void>}
  let accounts: Awaited<ReturnType<typeof serviceAccounts>>
  let busy: TestIdentity
  let level = ''
  const created: {box: CliSandbox; id: string}[] = []

  before(async () => {
    database = await scratchDatabase('e2e_t9')
    accounts = await serviceAccounts(admin, 't9', ['busy'], [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}])
    busy = accounts.identities.busy as TestIdentity
    level = `${accounts.namespace}-tiny`
    await objects.create({
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'PriorityLevelConfiguration',
      metadata: {name: level},
      spec: {type: 'Limited', limited: {nominalConcurrencyShares: 0, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: {type: 'Reject'}}},
    } as never)
    await objects.create({
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: {name: level},
      spec: {
        priorityLevelConfiguration: {name: level},
        matchingPrecedence: 500,
        distinguisherMethod: {type: 'ByUser'},
        rules: [
          {
            subjects: [{kind: 'ServiceAccount', serviceAccount: {name: busy.name, namespace: accounts.namespace}}],
            resourceRules: [{verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*']}],
            nonResourceRules: [{verbs: ['*'], nonResourceURLs: ['*']}],
          },
        ],
      },
    } as never)
    const probe = async (): Promise<boolean> =>
      (await execa(kubectl(), ['get', 'namespaces', '--kubeconfig', busy.kubeconfig], {reject: false, env: {}})).exitCode === 0
    await untilAllowed(busy, async () => ((await probe()) ? true : undefined))
    // The FlowSchema is in force once the server counts a request of this identity under it.
    await eventually('the FlowSchema to classify the ServiceAccount', async () => {
      await probe()
      return (await metric('apiserver_flowcontrol_dispatched_requests_total', `flow_schema="${level}"`)) > 0 ? true : undefined
    })
  })
  after(async () => {
    for (const {box, id} of created) await runDemo(box, ['destroy', id, '--yes'])
    for (const kind of ['FlowSchema', 'PriorityLevelConfiguration']) {
      await objects.delete({apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind, metadata: {name: level}}).catch(() => undefined)
    }
    await accounts.cleanup()
    await database.drop()
  })

  function sandbox(user: string): CliSandbox {
    const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: database.url, user})
    box.env.KUBECONFIG = busy.kubeconfig
    return box
  }

  it(
    'concurrent creates as a ServiceAccount limited to one request at a time all succeed, and the server did reject some with 429',
    {timeout: 600_000},
    async (t) => {
      const rejectedBefore = await metric('apiserver_flowcontrol_rejected_requests_total', `priority_level="${level}"`)
      let rejected = 0
      for (let round = 1; round <= MAX_ROUNDS && rejected === 0; round++) {
        const boxes = Array.from({length: CONCURRENT}, (_, i) => sandbox(`owner-${round}-${i}@example.com`))
        const results: CliResult[] = await Promise.all(boxes.map((box) => runDemo(box, ['create', '--type', 'startup', '--json'])))
        for (const [i, result] of results.entries()) {
          assert.equal(result.code, 0, transcript(result))
          const id = jsonOf<{id: string}>(result).id
          created.push({box: boxes[i] as CliSandbox, id})
          assert.equal(await namespaceExists(core, `demo-${id}`), true)
        }
        rejected = (await metric('apiserver_flowcontrol_rejected_requests_total', `priority_level="${level}"`)) - rejectedBefore
        t.diagnostic(`round ${round}: ${rejected} requests rejected with 429 so far`)
      }
      assert.ok(rejected > 0, `no request was rejected in ${MAX_ROUNDS} rounds of ${CONCURRENT} concurrent creates`)
    },
  )
})
