// Rows of the fault matrix (docs/fault-matrix.md) end to end: the built CLI (bin/run.js) against the local
// control plane and real PostgreSQL. T4: destroy killed (SIGKILL) at each of its checkpoints, then run again.
// T12: the state database unreachable at start, with a kubeconfig whose server counts every connection.
// X6: every command under DEBUG=demo* with a state database password and a value of the demo's Secret that
// are canaries, and nothing the CLI prints contains them.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {execFile} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api} from '@kubernetes/client-node'
import {DESTROY_STEPS} from '../../src/core/destroy-demo.js'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase, tempDir, query} from '../support/databases.js'
import {cliSandbox, jsonOf, REPO_ROOT, runDemo, transcript, type CliResult, type CliSandbox} from '../support/cli.js'
import {loadTestKubeConfig, namespaceExists} from '../support/k8s.js'

const run = promisify(execFile)
const core = loadTestKubeConfig().makeApiClient(CoreV1Api)

/** Two small services keep every create quick. */
const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

async function rowStatus(url: string, id: string): Promise<string | undefined> {
  const [row] = await query<{status: string}>(url, 'SELECT status FROM demo_orchestrator.demo_instances WHERE id = $1', [id])
  return row?.status
}

async function eventTypes(url: string, id: string): Promise<string[]> {
  const rows = await query<{type: string}>(url, 'SELECT type FROM demo_orchestrator.demo_events WHERE demo_id = $1 ORDER BY id', [id])
  return rows.map((r) => r.type)
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  const port = await listening(server)
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function createdDemoId(box: CliSandbox, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const created = await runDemo(box, ['create', '--type', 'startup', '--json'], extraEnv)
  assert.equal(created.code, 0, transcript(created))
  return jsonOf<{id: string}>(created).id
}

describe('T4: destroy killed (SIGKILL) at each checkpoint, then run again', () => {
  let database: {url: string; drop: () => Promise<void>}
  before(async () => {
    database = await scratchDatabase('e2e_faults_t4')
  })
  after(async () => {
    await database.drop()
  })

  for (const {key} of DESTROY_STEPS) {
    it(`killed after "${key}": the rerun finishes with exactly one destroyed event, and the namespace is gone`, async () => {
      const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: database.url})
      const id = await createdDemoId(box)
      const killed = await runDemo(box, ['destroy', id, '--yes'], {DEMO_TEST_KILL_AT: key})
      assert.equal(killed.signal, 'SIGKILL', transcript(killed))
      const rerun = await runDemo(box, ['destroy', id, '--yes', '--json'])
      assert.equal(rerun.code, 0, transcript(rerun))
      assert.equal(jsonOf<{outcome: string}>(rerun).outcome, key === 'destroyed' ? 'already-destroyed' : 'destroyed')
      assert.equal(await namespaceExists(core, `demo-${id}`), false)
      assert.equal(await rowStatus(database.url, id), 'destroyed')
      const events = await eventTypes(database.url, id)
      assert.equal(events.filter((type) => type === 'destroyed').length, 1, events.join(', '))
      assert.equal(events.filter((type) => type === 'destroying').length, 1, events.join(', '))
    })
  }
})

describe('T12: the state database unreachable at start', () => {
  let server: Server
  let connections = 0
  let kubeconfig = ''
  before(async () => {
    server = createServer((socket) => {
      connections += 1
      socket.destroy()
    })
    const port = await listening(server)
    kubeconfig = join(tempDir('demo-e2e-counting-'), 'kubeconfig')
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{name: 'counting', cluster: {server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true}}],
        users: [{name: 'counting', user: {token: 'not-a-real-token'}}],
        contexts: [{name: 'counting', context: {cluster: 'counting', user: 'counting'}}],
        'current-context': 'counting',
      }),
    )
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('create fails naming the state database, with exit 1, and opens no connection to the Kubernetes API server', async () => {
    const url = `postgres://demo:pw@127.0.0.1:${await closedPort()}/demo`
    const box = cliSandbox({config: {services: TWO_SERVICES}, databaseUrl: url})
    connections = 0
    const result = await runDemo(box, ['create', '--type', 'startup'], {KUBECONFIG: kubeconfig})
    assert.equal(result.code, 1, transcript(result))
    assert.match(result.stderr, /^Error: Cannot reach the state database at postgres:\/\/demo:\*\*\*@127\.0\.0\.1:\d+\/demo\./m)
    assert.equal(connections, 0, 'connections to the API server')
  })

  it('the counting server does see the connections of a create whose store is reachable (the embedded one)', async () => {
    const box = cliSandbox({config: {services: TWO_SERVICES}})
    connections = 0
    const result = await runDemo(box, ['create', '--type', 'startup', '--wait-timeout', '5s'], {KUBECONFIG: kubeconfig})
    assert.equal(result.code, 1, transcript(result))
    assert.ok(connections > 0, `no connection counted:\n${transcript(result)}`)
  })
})

describe('X6: secrets never printed, with DEBUG=demo*', () => {
  const passwordCanary = `pwcanary${randomBytes(8).toString('hex')}`
  const secretCanary = `secretcanary${randomBytes(8).toString('hex')}`
  const role = 'demo_canary'
  let url = ''
  const outputs: Array<{args: string[]; result: CliResult}> = []

  before(async () => {
    // A database owned by a login role whose password is the canary (postgres.sh creates both).
    const env = {...process.env, DEMO_TEST_PG_ROLE: role, DEMO_TEST_PG_PASSWORD: passwordCanary}
    url = (await run('bash', [join(REPO_ROOT, 'test/support/postgres.sh'), 'create-db'], {env})).stdout.trim()
    assert.ok(url.includes(`:${passwordCanary}@`), url)
  })
  after(async () => {
    await run('bash', [join(REPO_ROOT, 'test/support/postgres.sh'), 'drop-db', new URL(url).pathname.slice(1)])
  })

  /** The built-in templates plus a Secret holding the canary, so the demo's Secret carries it. */
  function sandbox(databaseUrl: string, config: Record<string, unknown> = {}): CliSandbox {
    const box = cliSandbox({config: {services: TWO_SERVICES, ...config}, databaseUrl, editTemplates: (_name, text) => text})
    writeFileSync(
      join(box.dir, 'templates', 'zz-canary-secret.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-canary\ntype: Opaque\nstringData:\n  API_TOKEN: ${secretCanary}\n`,
    )
    return box
  }

  async function demo(box: CliSandbox, args: string[]): Promise<CliResult> {
    const result = await runDemo(box, args, {DEBUG: 'demo*'})
    outputs.push({args, result})
    return result
  }

  it('a demo with the canary in its Secret: create (dry run, text and --json), get, list, extend, config list, destroy', async () => {
    const box = sandbox(url)
    assert.equal((await demo(box, ['create', '--type', 'startup', '--dry-run'])).code, 0)
    assert.equal((await demo(box, ['create', '--type', 'startup', '--dry-run', '--json'])).code, 0)
    const created = await demo(box, ['create', '--type', 'startup', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const {id, namespace} = jsonOf<{id: string; namespace: string}>(created)
    const secret = await core.readNamespacedSecret({name: 'demo-canary', namespace})
    assert.equal(Buffer.from(secret.data?.API_TOKEN ?? '', 'base64').toString(), secretCanary, "the canary is in the demo's Secret")
    for (const args of [
      ['get', id],
      ['get', id, '--json'],
      ['list'],
      ['list', '--json'],
      ['extend', id, '--by', '1h'],
      ['extend', id, '--by', '1h', '--json'],
      ['config', 'list'],
      ['config', 'list', '--json'],
      ['destroy', id, '--yes'],
      ['destroy', id, '--yes', '--json'],
    ]) {
      const result = await demo(box, args)
      assert.equal(result.code, 0, `${args.join(' ')}: ${transcript(result)}`)
    }
  })

  it('failures: an unreachable database, a wrong password, a bad flag, an unknown demo, a create the cluster refuses', async () => {
    const unreachable = sandbox(`postgres://${role}:${passwordCanary}@127.0.0.1:${await closedPort()}/nowhere`)
    for (const args of [['create', '--type', 'startup'], ['create', '--type', 'startup', '--json'], ['list'], ['get', 'k3x9a2bq', '--json']]) {
      assert.equal((await demo(unreachable, args)).code, 1)
    }
    const wrongPassword = new URL(url)
    wrongPassword.password = `${passwordCanary}x`
    assert.equal((await demo(sandbox(wrongPassword.toString()), ['list'])).code, 1)
    const box = sandbox(url)
    assert.equal((await demo(box, ['create', '--bogus'])).code, 2)
    assert.equal((await demo(box, ['list', '--bogus', '--json'])).code, 2)
    assert.equal((await demo(box, ['get', 'zzzzzzzz'])).code, 1)
    assert.equal((await demo(box, ['destroy', 'zzzzzzzz', '--yes', '--json'])).code, 1)
    // A quota of one Secret: the demo's second Secret (the canary's) is refused, and the create rolls back.
    const refused = await demo(sandbox(url, {quota: {secrets: '1', pods: '5'}}), ['create', '--type', 'startup', '--json'])
    assert.equal(refused.code, 1, transcript(refused))
    assert.match(refused.stdout, /exceeded quota/)
  })

  it('no output of any of those runs contains a canary or a JWT', () => {
    assert.ok(outputs.length >= 20, `${outputs.length} runs`)
    for (const {args, result} of outputs) {
      const text = result.stdout + result.stderr
      for (const canary of [passwordCanary, secretCanary]) {
        assert.ok(!text.includes(canary), `\`demo ${args.join(' ')}\` printed a canary:\n${transcript(result)}`)
      }
      assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\./, `\`demo ${args.join(' ')}\``)
    }
  })
})
