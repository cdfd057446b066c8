// Fault matrix T15 end to end: credentials that stop working in the middle of a create. The built CLI runs with a
// kubeconfig holding a real ServiceAccount token (TokenRequest) and pauses itself at a checkpoint
// (DEMO_TEST_PAUSE_AT); the test revokes the token there (deletes the ServiceAccount, or the Secret the token is
// bound to: the test bed's API server then answers 401 within seconds) and lets it go on. Refused again after it
// loaded the kubeconfig again, it stops with E_CLUSTER_AUTH saying to log in again; given new credentials when it
// loads them again (an exec plugin that now prints a new token), it finishes the create.
import assert from 'node:assert/strict'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {AuthenticationV1Api, CoreV1Api, KubeConfig} from '@kubernetes/client-node'
import pg from 'pg'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase, tempDir} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, startPausedAt, transcript, type CliResult, type CliSandbox, type PausedCli} from '../support/cli.js'
import {serviceAccounts, tokenKubeconfig, untilAllowed, type TestIdentity} from '../support/identities.js'
import {eventually, isApiException, loadTestKubeConfig, namespaceExists} from '../support/k8s.js'

const admin = loadTestKubeConfig()
const core = admin.makeApiClient(CoreV1Api)
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})
const REFUSED = /the API server refused the credentials \(HTTP 401\), also after loading them again: they have expired or were revoked/

interface Row {
  id: string
  status: string
  last_error: string | null
  cleanup: string | null
}

async function onlyRow(url: string): Promise<Row> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    const result = await client.query(
      "SELECT id, status, last_error, metadata->>'cleanup' AS cleanup FROM demo_orchestrator.demo_instances ORDER BY created_at DESC",
    )
    assert.equal(result.rows.length, 1, JSON.stringify(result.rows))
    return result.rows[0] as Row
  } finally {
    await client.end()
  }
}

/** `demo create <args>` started with DEMO_TEST_PAUSE_AT=<checkpoint>; resolves once it stopped itself there. */
function createPausedAt(box: CliSandbox, checkpoint: string, args: string[] = []): Promise<PausedCli> {
  return startPausedAt({args: ['create', '--type', 'startup', ...args], cwd: box.dir, env: box.env, timeoutMs: 300_000}, checkpoint)
}

/** Waits until the API server answers `token` with 401 (a revoked token's cached authentication may live a few seconds). */
async function untilRefused(kubeconfig: string): Promise<void> {
  const config = new KubeConfig()
  config.loadFromFile(kubeconfig)
  const authentication = config.makeApiClient(AuthenticationV1Api)
  await eventually('the revoked token to be refused (401)', async () => {
    try {
      await authentication.createSelfSubjectReview({body: {apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview'}})
      return undefined
    } catch (error) {
      return isApiException(error) && error.code === 401 ? true : undefined
    }
  })
}

/** A fresh token of the ServiceAccount `name` (TokenRequest), bound to the Secret `boundTo` when given (deleting it revokes the token). */
async function mintToken(namespace: string, name: string, boundTo?: {name: string; uid: string}): Promise<string> {
  const boundObjectRef = boundTo ? {apiVersion: 'v1', kind: 'Secret', name: boundTo.name, uid: boundTo.uid} : undefined
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: {spec: {audiences: [], expirationSeconds: 3600, boundObjectRef}},
  })
  return request.status?.token ?? ''
}

function assertNoToken(result: CliResult, tokens: string[]): void {
  for (const token of tokens) {
    assert.ok(token.length > 20)
    assert.equal(result.stdout.includes(token) || result.stderr.includes(token), false, 'a token was printed')
    // A JWT's signature alone would be as bad.
    const signature = token.split('.')[2] ?? token
    assert.equal(result.stdout.includes(signature) || result.stderr.includes(signature), false, 'a token signature was printed')
  }
}

describe('T15: credentials refused (HTTP 401) in the middle of a create', () => {
  let database: {url: string; drop: () => Promise<void>}
  let accounts: Awaited<ReturnType<typeof serviceAccounts>>
  before(async () => {
    accounts = await serviceAccounts(admin, 't15', ['carol', 'dave', 'erin'], [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}])
    for (const who of Object.values(accounts.identities)) {
      const probe = new KubeConfig()
      probe.loadFromFile(who.kubeconfig)
      await untilAllowed(who, () => probe.makeApiClient(CoreV1Api).listNamespace({limit: 1}))
    }
  })
  after(async () => {
    await accounts.cleanup()
  })

  const sandboxFor = (kubeconfig: string, url: string): CliSandbox => {
    const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: url})
    box.env.KUBECONFIG = kubeconfig
    return box
  }

  it(
    'the ServiceAccount deleted after the row is recorded: E_CLUSTER_AUTH saying to log in again, no namespace, the row failed with the reason, no token printed',
    {timeout: 300_000},
    async () => {
      database = await scratchDatabase('e2e_t15_record')
      const carol = accounts.identities.carol as TestIdentity
      const box = sandboxFor(carol.kubeconfig, database.url)
      box.env.DEBUG = 'demo*'
      const create = await createPausedAt(box, 'record', ['--json'])
      await core.deleteNamespacedServiceAccount({name: carol.name, namespace: accounts.namespace})
      await untilRefused(carol.kubeconfig)
      create.resume()
      const result = await create.result

      assert.equal(result.code, 1, transcript(result))
      const error = jsonOf<{error: {code: string; message: string; hint: string}}>(result).error
      assert.equal(error.code, 'E_CLUSTER_AUTH')
      assert.match(error.message, new RegExp(`^Create of demo \\w+ failed: Cannot create namespace "demo-\\w+": ${REFUSED.source}\\.`))
      assert.match(error.hint, /^Log in to the cluster again .*refreshes the kubeconfig.*Once you are logged in again, run `demo destroy \w+`/)
      const row = await onlyRow(database.url)
      assert.equal(row.status, 'failed')
      assert.match(row.last_error ?? '', REFUSED)
      // The 401 came first: the namespace was never created, and nothing else was.
      assert.equal(await namespaceExists(core, `demo-${row.id}`), false)
      assertNoToken(result, [carol.token])
      await database.drop()
    },
  )

  it(
    'the ServiceAccount deleted after the namespace step: the rollback is refused too, the row says failed with cleanup incomplete, and destroy with new credentials removes the namespace',
    {timeout: 300_000},
    async () => {
      database = await scratchDatabase('e2e_t15_namespace')
      const dave = accounts.identities.dave as TestIdentity
      const create = await createPausedAt(sandboxFor(dave.kubeconfig, database.url), 'namespace')
      await core.deleteNamespacedServiceAccount({name: dave.name, namespace: accounts.namespace})
      await untilRefused(dave.kubeconfig)
      create.resume()
      const result = await create.result

      assert.equal(result.code, 1, transcript(result))
      const row = await onlyRow(database.url)
      assert.match(
        result.stderr,
        new RegExp(`^Error: Create of demo ${row.id} failed: Cannot read namespace "demo-${row.id}": ${REFUSED.source}\\.`, 'm'),
      )
      assert.match(
        result.stderr,
        new RegExp(`Rollback incomplete \\(Cannot read namespace "demo-${row.id}": ${REFUSED.source}\\): namespace demo-${row.id} may remain`),
      )
      assert.match(
        result.stderr,
        new RegExp(
          `^Hint: Log in to the cluster again .* Once you are logged in again, run \`demo destroy ${row.id}\` to finish the cleanup\\.$`,
          'm',
        ),
      )
      assert.equal(row.status, 'failed')
      assert.equal(row.cleanup, 'incomplete')
      assert.match(row.last_error ?? '', REFUSED)
      assert.equal(await namespaceExists(core, `demo-${row.id}`), true, 'the dead credentials could not delete it')
      assertNoToken(result, [dave.token])

      // Logging in again: the same ServiceAccount (the same identity the row records) with a new token.
      await core.createNamespacedServiceAccount({namespace: accounts.namespace, body: {metadata: {name: dave.name}}})
      const renewed = tokenKubeconfig(admin, await mintToken(accounts.namespace, dave.name))
      const again = sandboxFor(renewed, database.url)
      await untilAllowed(dave, async () => ((await runDemo(again, ['list', '--json'])).code === 0 ? true : undefined))
      const destroyed = await runDemo(again, ['destroy', row.id, '--yes', '--json'])
      assert.equal(destroyed.code, 0, transcript(destroyed))
      assert.equal(await namespaceExists(core, `demo-${row.id}`), false)
      assert.equal((await onlyRow(database.url)).status, 'destroyed')
      await database.drop()
    },
  )

  it('an exec plugin whose token is revoked mid-create is run again, prints a new token, and the create finishes', {timeout: 300_000}, async () => {
    database = await scratchDatabase('e2e_t15_exec')
    const erin = accounts.identities.erin as TestIdentity
    const secret = await core.createNamespacedSecret({namespace: accounts.namespace, body: {metadata: {name: 'erin-login'}}})
    const first = await mintToken(accounts.namespace, erin.name, {name: 'erin-login', uid: secret.metadata?.uid ?? ''})
    const plugin = execPluginKubeconfig(first)
    const box = sandboxFor(plugin.kubeconfig, database.url)
    const create = await createPausedAt(box, 'namespace', ['--json'])
    const runsBefore = plugin.runs()
    // The login the token came from ends: deleting the Secret it is bound to revokes it, and only it.
    await core.deleteNamespacedSecret({name: 'erin-login', namespace: accounts.namespace})
    await untilRefused(tokenKubeconfig(admin, first))
    const second = await mintToken(accounts.namespace, erin.name)
    plugin.setToken(second)
    create.resume()
    const result = await create.result

    assert.equal(result.code, 0, transcript(result))
    const demo = jsonOf<{id: string; status: string}>(result)
    assert.equal(demo.status, 'ready')
    assert.ok(plugin.runs() > runsBefore, 'the exec plugin was run again after the 401')
    assert.equal((await onlyRow(database.url)).status, 'ready')
    assertNoToken(result, [first, second])
    const destroyed = await runDemo(box, ['destroy', demo.id, '--yes'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    await database.drop()
  })
})

/**
 * A kubeconfig for the test bed whose user is an exec plugin (a shell script) printing an ExecCredential with the
 * token in a file the test rewrites; no expirationTimestamp, so the client caches the token until it loads the
 * kubeconfig again. Counts its runs.
 */
function execPluginKubeconfig(token: string): {kubeconfig: string; setToken: (token: string) => void; runs: () => number} {
  const dir = tempDir('demo-t15-exec-')
  const tokenFile = join(dir, 'token')
  const runsFile = join(dir, 'runs')
  const plugin = join(dir, 'login.sh')
  writeFileSync(tokenFile, token, {mode: 0o600})
  writeFileSync(runsFile, '')
  writeFileSync(
    plugin,
    `#!/bin/sh\necho run >> '${runsFile}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat '${tokenFile}')"\n`,
  )
  chmodSync(plugin, 0o755)
  const cluster = admin.getCurrentCluster()
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'testbed', cluster: {server: cluster?.server, 'certificate-authority-data': cluster?.caData}}],
      users: [{name: 'testbed', user: {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never'}}}],
      contexts: [{name: 'testbed', context: {cluster: 'testbed', user: 'testbed'}}],
      'current-context': 'testbed',
    }),
    {mode: 0o600},
  )
  return {
    kubeconfig,
    setToken: (next) => writeFileSync(tokenFile, next),
    runs: () => readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).length,
  }
}
