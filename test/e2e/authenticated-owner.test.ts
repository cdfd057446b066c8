// Fault matrix X9: an owner nobody can spoof. Two real identities on the test bed (ServiceAccount tokens from the
// TokenRequest API); the built CLI records who the cluster authenticated the creator as (SelfSubjectReview), and
// destroy and extend need that identity, an admin or a trusted identity: declaring the owner's name is not enough.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api} from '@kubernetes/client-node'
import pg from 'pg'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliSandbox} from '../support/cli.js'
import {startFaultProxy, type FaultProxy} from '../support/fault-proxy.js'
import {serviceAccounts, tokenKubeconfig, untilAllowed, type TestIdentity} from '../support/identities.js'
import {loadTestKubeConfig, namespaceExists} from '../support/k8s.js'

const admin = loadTestKubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

async function row(url: string, id: string): Promise<{status: string; created_by: string; authenticated_as: string | null; extension_count: number}> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    const result = await client.query(
      'SELECT status, created_by, authenticated_as, extension_count FROM demo_orchestrator.demo_instances WHERE id = $1',
      [id],
    )
    return result.rows[0] as {status: string; created_by: string; authenticated_as: string | null; extension_count: number}
  } finally {
    await client.end()
  }
}

describe('X9: destroy, extend and reset need the authenticated identity that created the demo', () => {
  let database: {url: string; drop: () => Promise<void>}
  let accounts: Awaited<ReturnType<typeof serviceAccounts>>
  let alice: TestIdentity
  let bob: TestIdentity
  let id = ''
  const sandbox = (user: TestIdentity, declared: string, config: Record<string, unknown> = {}): CliSandbox => {
    const box = cliSandbox({config: {services: TWO_SERVICES, ...config}, databaseUrl: database.url, user: declared})
    box.env.KUBECONFIG = user.kubeconfig
    return box
  }

  before(async () => {
    database = await scratchDatabase('e2e_x9')
    accounts = await serviceAccounts(admin, 'x9', ['alice', 'bob'], [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}])
    alice = accounts.identities.alice as TestIdentity
    bob = accounts.identities.bob as TestIdentity
    for (const who of [alice, bob]) await untilAllowed(who, () => runAs(who))
  })
  after(async () => {
    await accounts.cleanup()
    await database.drop()
  })

  async function runAs(who: TestIdentity): Promise<true | undefined> {
    const probe = await runDemo(sandbox(who, 'probe@example.com'), ['list', '--json'])
    return probe.code === 0 ? true : undefined
  }

  it('create records the authenticated identity next to the declared owner', async () => {
    const created = await runDemo(sandbox(alice, 'alice@example.com'), ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    id = jsonOf<{id: string}>(created).id
    const recorded = await row(database.url, id)
    assert.equal(recorded.created_by, 'alice@example.com')
    assert.equal(recorded.authenticated_as, alice.username)
  })

  it('another identity declaring the owner’s name may neither extend, destroy nor reset it, and nothing changes', async () => {
    const spoof = sandbox(bob, 'alice@example.com')
    const extend = await runDemo(spoof, ['extend', id, '--by', '1h'])
    const destroy = await runDemo(spoof, ['destroy', id, '--yes'])
    const reset = await runDemo(spoof, ['reset', id])
    for (const result of [extend, destroy, reset]) {
      assert.equal(result.code, 1, transcript(result))
      assert.match(result.stderr, new RegExp(`authenticated by the cluster as "${alice.username}", and you are authenticated as "${bob.username}"`))
      assert.match(result.stderr, /trustedIdentities/)
    }
    assert.match(extend.stderr, /Cannot extend demo/)
    assert.match(destroy.stderr, /Cannot destroy demo/)
    assert.match(reset.stderr, /Cannot reset demo/)
    const after = await row(database.url, id)
    assert.equal(after.status, 'ready')
    assert.equal(after.extension_count, 0)
    assert.equal(await namespaceExists(core, `demo-${id}`), true)
  })

  it('an identity the config trusts may extend it, whatever name it declares', async () => {
    const trusted = await runDemo(sandbox(bob, 'ci-bot', {trustedIdentities: [bob.username]}), ['extend', id, '--by', '1h', '--json'])
    assert.equal(trusted.code, 0, transcript(trusted))
    assert.equal((await row(database.url, id)).extension_count, 1)
  })

  it('the same authenticated identity may reset and destroy it, whatever name it declares now', async () => {
    // reset authorizes the same way; this demo has no database (mode none), so once allowed it is refused for that (exit 2).
    const reset = await runDemo(sandbox(alice, 'someone-else@example.com'), ['reset', id, '--json'])
    assert.equal(reset.code, 2, transcript(reset))
    assert.doesNotMatch(reset.stdout + reset.stderr, /E_PERMISSION/)
    const destroyed = await runDemo(sandbox(alice, 'someone-else@example.com'), ['destroy', id, '--yes', '--json'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.equal((await row(database.url, id)).status, 'destroyed')
    assert.equal(await namespaceExists(core, `demo-${id}`), false)
  })

  describe('a cluster that does not serve SelfSubjectReview (a proxy answers 404)', () => {
    let proxy: FaultProxy
    before(async () => {
      proxy = await startFaultProxy(admin, (request) =>
        request.path.includes('/selfsubjectreviews') ? {status: 404, afterForward: false} : undefined,
      )
    })
    after(async () => {
      await proxy.close()
    })

    it('create warns that only the declared owner is recorded, and the declared owner keeps today’s rights', async () => {
      const viaProxy: TestIdentity = {...alice, kubeconfig: tokenKubeconfig(admin, alice.token, {server: proxy.url})}
      const created = await runDemo(sandbox(viaProxy, 'alice@example.com'), ['create', '--type', 'startup', '--json'])
      assert.equal(created.code, 0, transcript(created))
      assert.match(created.stderr, /Warning: The cluster cannot tell who you are \(the cluster does not serve SelfSubjectReview/)
      const createdId = jsonOf<{id: string}>(created).id
      assert.equal((await row(database.url, createdId)).authenticated_as, null)
      const destroyed = await runDemo(sandbox(viaProxy, 'alice@example.com'), ['destroy', createdId, '--yes'])
      assert.equal(destroyed.code, 0, transcript(destroyed))
      assert.ok(
        proxy.seen.some((r) => r.path.includes('/selfsubjectreviews') && r.fault),
        'the proxy refused the review',
      )
    })
  })
})
