import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {after, afterEach, before, beforeEach, describe, it} from 'node:test'
import {promisify} from 'node:util'
import pg from 'pg'
import {CONNECT_ATTEMPTS, CONNECT_TIMEOUT_MS} from '../../../src/adapters/postgres/db.js'
import {MIGRATIONS} from '../../../src/adapters/postgres/migrate.js'
import {openStore, type OpenedStore} from '../../../src/adapters/postgres/open-store.js'
import {createDemo} from '../../../src/core/create-demo.js'
import {CreateFailedError, StoreUnavailableError} from '../../../src/core/errors.js'
import {projectConfigSchema} from '../../../src/core/project-config.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock} from '../../fakes/builders.js'
import {FakeCluster} from '../../fakes/fake-cluster.js'
import {databasesFor, FakeDatabases} from '../../fakes/fake-databases.js'
import {FakeSleeper, RecordingSteps} from '../../fakes/fake-time.js'
import {resetSchema, scratchDatabase, testDatabaseUrl} from '../../support/databases.js'

const run = promisify(execFile)
const BOUND_MARGIN_MS = 10_000

function templates(): {name: string; text: string}[] {
  const dir = new URL('../../../templates/', import.meta.url)
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => ({name, text: readFileSync(new URL(name, dir), 'utf8')}))
}

describe('state store migrations', () => {
  before(() => resetSchema())

  it('applies each migration once when ten processes start at the same moment', async () => {
    const script = `
      import {openStore} from './src/adapters/postgres/open-store.ts'
      const s = await openStore({databaseUrl: process.env.URL, stateDir: '/nonexistent'})
      await s.close()`
    const runs = Array.from({length: 10}, () =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {env: {...process.env, URL: testDatabaseUrl()}}),
    )
    const results = await Promise.allSettled(runs)
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected'),
      [],
    )
    const client = new pg.Client({connectionString: testDatabaseUrl()})
    await client.connect()
    const {rows} = await client.query('SELECT version, count(*)::int AS n FROM demo_orchestrator.schema_migrations GROUP BY version ORDER BY version')
    await client.end()
    assert.deepEqual(
      rows,
      MIGRATIONS.map((m) => ({version: m.version, n: 1})),
    )
  })
})

describe('an unreachable state database', () => {
  let silent: Server
  let silentPort = 0
  const accepted: Socket[] = []

  before(async () => {
    // Accepts TCP connections and never answers: what a firewalled or hung server looks like.
    silent = createServer((socket) => accepted.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as {port: number}).port
  })
  after(() => {
    for (const socket of accepted) socket.destroy()
    return new Promise<void>((resolve) => silent.close(() => resolve()))
  })

  it('fails with StoreUnavailableError naming the host but not the password when the port is closed', async () => {
    const error = await openStore({databaseUrl: 'postgres://app:s3cret-pw@127.0.0.1:1/demo', stateDir: '/x'}).catch((e: unknown) => e)
    assert.ok(error instanceof StoreUnavailableError)
    assert.match(error.message, /127\.0\.0\.1:1/)
    assert.doesNotMatch(error.message, /s3cret-pw/)
    assert.match(error.hint ?? '', /DEMO_DATABASE_URL/)
  })

  it('gives up on a server that never answers within its connect timeout instead of hanging', async () => {
    const started = performance.now()
    const error = await openStore({databaseUrl: `postgres://app:pw@127.0.0.1:${silentPort}/demo`, stateDir: '/x'}).catch((e: unknown) => e)
    const elapsedMs = performance.now() - started

    assert.ok(error instanceof StoreUnavailableError, `a StoreUnavailableError, got ${String(error)}`)
    assert.match(error.message, new RegExp(`^Cannot reach the state database at postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${silentPort}/demo\\.$`))
    // Not a speed target (those live in bench/): a bound generous enough for a loaded CI machine that still
    // proves the connect timeout fired, rather than the test runner's 10-minute limit.
    const bound = CONNECT_ATTEMPTS * CONNECT_TIMEOUT_MS + BOUND_MARGIN_MS
    assert.ok(elapsedMs < bound, `gave up after ${Math.round(elapsedMs)} ms, expected under ${bound} ms`)
  })

  it('opens when this process stalls past the connect timeout while connecting (module loading on a loaded machine)', async () => {
    const scratch = await scratchDatabase('stall')
    const target = new URL(scratch.url)
    let connections = 0
    // A proxy in this process: on the first connection it blocks the event loop (as loading the Kubernetes
    // client does on a loaded machine) for longer than the connect timeout, so that attempt's timer fires first.
    const proxy = createServer((client) => {
      connections += 1
      if (connections === 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, CONNECT_TIMEOUT_MS + 1_000)
      const upstream = connect(Number(target.port || 5432), target.hostname)
      for (const socket of [client, upstream]) socket.on('error', () => socket.destroy())
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxied = new URL(scratch.url)
    proxied.hostname = '127.0.0.1'
    proxied.port = String((proxy.address() as {port: number}).port)
    try {
      const opened = await openStore({databaseUrl: proxied.toString(), stateDir: '/nonexistent'})
      assert.equal(await opened.store.get('nosuchid'), undefined)
      await opened.close()
      assert.ok(connections >= 2, `the stalled attempt was retried (${connections} connections)`)
    } finally {
      proxy.close()
      await scratch.drop()
    }
  })
})

/** A TCP proxy to the test database that can be cut, as when the database server goes away mid-command. */
async function aCuttableProxy(target: URL): Promise<{port: number; cut: () => Promise<void>}> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => socket.destroy())
      socket.on('close', () => sockets.delete(socket))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  const cut = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })
  return {port, cut}
}

describe('a state database that stops answering in the middle of a command', () => {
  let scratch: {url: string; drop: () => Promise<void>}
  let proxy: {port: number; cut: () => Promise<void>}
  let opened: OpenedStore
  let proxiedUrl: URL

  beforeEach(async () => {
    scratch = await scratchDatabase('cut')
    proxy = await aCuttableProxy(new URL(scratch.url))
    proxiedUrl = new URL(scratch.url)
    proxiedUrl.hostname = '127.0.0.1'
    proxiedUrl.port = String(proxy.port)
    opened = await openStore({databaseUrl: proxiedUrl.toString(), stateDir: '/nonexistent'})
  })
  afterEach(async () => {
    await opened.close().catch(() => {})
    await proxy.cut()
    await scratch.drop()
  })

  it('fails a read and a write with StoreUnavailableError naming the host, once the server is gone', async () => {
    const demo = aNewDemo()
    await opened.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    await proxy.cut()

    const read = await opened.store.get(demo.id).catch((e: unknown) => e)
    const write = await opened.store.update(demo.id, 1, {extensionCount: 1}).catch((e: unknown) => e)

    for (const error of [read, write]) {
      assert.ok(error instanceof StoreUnavailableError, String(error))
      assert.equal(error.code, 'E_STORE_UNREACHABLE')
      assert.match(error.message, new RegExp(`^The state store at 127\\.0\\.0\\.1:${proxy.port} is unreachable \\(`))
      assert.ok(!error.message.includes(proxiedUrl.username), 'no user name or password in the message')
    }
  })

  it('rolls back a create and says first that the state store became unreachable', async () => {
    const config = projectConfigSchema.parse({
      ingress: {portalUrl: 'https://{id}.portal.example.test', candidateUrl: 'https://{id}.jobs.example.test/apply'},
    })
    const clock = fixedClock('2026-11-25T12:00:00.000Z')
    const cluster = new FakeCluster('test').useSleeper(new FakeSleeper(clock))
    const databases = new FakeDatabases()
    databases.onProvision = () => proxy.cut()
    const error = await createDemo(
      {
        config,
        templates: templates(),
        store: opened.store,
        cluster,
        databases,
        databasesFor: databasesFor(databases),
        clock,
        random: {bytes: (count) => Uint8Array.from({length: count}, (_, i) => i)},
        sleeper: new FakeSleeper(clock),
        steps: new RecordingSteps(),
        checkpoint: () => {},
        signal: new AbortController().signal,
      },
      {
        type: undefined,
        duration: undefined,
        name: undefined,
        actor: 'alice@example.com',
        autoCleanup: true,
        wait: true,
        waitTimeoutMs: 60_000,
        keepOnFailure: false,
      },
    ).catch((e: unknown) => e)

    assert.ok(error instanceof CreateFailedError, String(error))
    assert.equal(error.code, 'E_STORE_UNREACHABLE')
    assert.match(
      error.message,
      new RegExp(
        `^Create of demo abcdefgh failed: The state store at 127\\.0\\.0\\.1:${proxy.port} is unreachable \\([^)]+\\)\\. Rolled back: namespace demo-abcdefgh and the database are gone; `,
      ),
    )
    assert.ok(proxiedUrl.password.length > 0)
    assert.ok(!error.message.includes(`:${proxiedUrl.password}@`) && !error.message.includes(proxiedUrl.username), 'no credentials in the message')
    assert.equal(cluster.namespaces.has('demo-abcdefgh'), false)
    assert.deepEqual(databases.dropped, ['abcdefgh'])
  })
})
