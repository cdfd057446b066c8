import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'
import pg from 'pg'
import {acquireLock} from '../../../src/adapters/postgres/embedded.js'
import {openStore} from '../../../src/adapters/postgres/open-store.js'
import {StoreUnavailableError} from '../../../src/core/errors.js'
import {resetSchema, tempDir, testDatabaseUrl} from '../../support/databases.js'

const run = promisify(execFile)
/** openPostgres's connect timeout (CONNECT_TIMEOUT_MS in src/adapters/postgres/db.ts). */
const CONNECT_TIMEOUT_MS = 5_000
const BOUND_MARGIN_MS = 10_000

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
    assert.deepEqual(results.filter((r) => r.status === 'rejected'), [])
    const client = new pg.Client({connectionString: testDatabaseUrl()})
    await client.connect()
    const {rows} = await client.query('SELECT version, count(*)::int AS n FROM demo_orchestrator.schema_migrations GROUP BY version')
    await client.end()
    assert.deepEqual(rows, [{version: 1, n: 1}])
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
    assert.ok(elapsedMs < CONNECT_TIMEOUT_MS + BOUND_MARGIN_MS, `gave up after ${Math.round(elapsedMs)} ms, expected under ${CONNECT_TIMEOUT_MS + BOUND_MARGIN_MS} ms`)
  })
})

describe('the embedded store lock', () => {
  it('makes a second opener wait and then fail with a message naming the holder', async () => {
    const lock = `${tempDir()}/state.lock`
    const release = await acquireLock(lock)
    try {
      const error = await acquireLock(lock, 300).catch((e: unknown) => e)
      assert.ok(error instanceof StoreUnavailableError)
      assert.match(error.message, new RegExp(`pid ${process.pid}`))
    } finally {
      release()
    }
    const again = await acquireLock(lock, 300)
    again()
  })

  it('takes over a lock left by a process that died', async () => {
    const lock = `${tempDir()}/state.lock`
    const {stdout} = await run(process.execPath, ['-e', 'console.log(process.pid)'])
    writeFileSync(lock, stdout.trim())

    const release = await acquireLock(lock, 300)
    const holder = readFileSync(lock, 'utf8')
    release()

    assert.equal(holder, String(process.pid), 'the lock file now names this process')
    assert.equal(existsSync(lock), false, 'release removes the lock file')
  })

  it('keeps a second process out of the embedded store while the first has it open', async () => {
    const stateDir = `${tempDir()}/state`
    const opened = await openStore({databaseUrl: null, stateDir})
    try {
      const script = `
        import {openStore} from './src/adapters/postgres/open-store.ts'
        try { await openStore({databaseUrl: null, stateDir: process.env.DIR}); console.log('opened') }
        catch (e) { console.log(e.constructor.name + ': ' + e.message) }`
      const {stdout} = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {env: {...process.env, DIR: stateDir}})
      assert.match(stdout, /StoreUnavailableError: The embedded state store is in use by another demo process/)
    } finally {
      await opened.close()
    }
  })
})
