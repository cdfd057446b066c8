import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {afterEach, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {promisify} from 'node:util'
import {discardEarlyStore, openPostgresEarly, openStore} from '../../../src/adapters/postgres/open-store.js'
import {StoreUnavailableError} from '../../../src/core/errors.js'
import {query, resetSchema, testDatabaseUrl} from '../../support/databases.js'
import {eventually} from '../../support/k8s.js'

const run = promisify(execFile)

/** The test database's URL with an application_name of its own (the URL's wins over the pool's), to count its sessions. */
function taggedUrl(): {url: string; tag: string} {
  const tag = `early-${randomBytes(4).toString('hex')}`
  const url = new URL(testDatabaseUrl())
  url.searchParams.set('application_name', tag)
  return {url: url.toString(), tag}
}

async function sessionsOf(tag: string): Promise<number> {
  const [row] = await query<{n: number}>(testDatabaseUrl(), 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [tag])
  return row?.n ?? 0
}

describe('the shared Postgres store opened before oclif loads (bin/run.js)', () => {
  before(() => resetSchema())
  afterEach(() => discardEarlyStore())

  it("is the command's store: openStore of the same URL takes over its connection instead of opening another", async () => {
    const {url, tag} = taggedUrl()
    await openPostgresEarly(url)
    const opened = await openStore({databaseUrl: url, stateDir: '/nonexistent'})
    try {
      assert.deepEqual(await opened.store.findByReference('nothing-here'), [])
      assert.equal(await sessionsOf(tag), 1)
    } finally {
      await opened.close()
    }
  })

  it("fails the command's openStore as its own connect would: StoreUnavailableError, no password", async () => {
    const url = 'postgres://app:s3cret-pw@127.0.0.1:1/demo'
    await openPostgresEarly(url)
    const error = await openStore({databaseUrl: url, stateDir: '/x'}).catch((e: unknown) => e)
    assert.ok(error instanceof StoreUnavailableError, String(error))
    assert.match(error.message, /127\.0\.0\.1:1/)
    assert.doesNotMatch(error.message, /s3cret-pw/)
  })

  it('is closed by discardEarlyStore when the command did not take it over; another URL never does', async () => {
    const early = taggedUrl()
    const other = taggedUrl()
    await openPostgresEarly(early.url)
    const opened = await openStore({databaseUrl: other.url, stateDir: '/nonexistent'})
    await opened.store.findByReference('nothing-here')
    await opened.close()
    assert.equal(await sessionsOf(other.tag), 0)
    // The early store is open (its connection idles in its pool) until it is discarded.
    await eventually('the early connection to be open', async () => ((await sessionsOf(early.tag)) === 1 ? true : undefined), {timeoutMs: 10_000})
    await discardEarlyStore()
    assert.equal(await sessionsOf(early.tag), 0)
  })
})

describe("the shared Postgres store's connection", () => {
  before(() => resetSchema())

  it("stays open through a command's wait of several seconds (destroy's ~5 s), so the command does not connect again", async () => {
    const {url, tag} = taggedUrl()
    const opened = await openStore({databaseUrl: url, stateDir: '/nonexistent'})
    try {
      await opened.store.now()
      await sleep(6_000)
      assert.equal(await sessionsOf(tag), 1)
      await opened.store.now()
      assert.equal(await sessionsOf(tag), 1)
    } finally {
      await opened.close()
    }
    assert.equal(await sessionsOf(tag), 0)
  })

  it('never keeps a process alive while it idles: a script that forgets to close the store still ends', async () => {
    const script = `
      import {openStore} from './src/adapters/postgres/open-store.ts'
      const s = await openStore({databaseUrl: process.env.URL, stateDir: '/nonexistent'})
      await s.store.now()`
    // The bound only keeps a regression from hanging the suite: the pool holds idle connections for 60 s.
    const {stderr} = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: {...process.env, URL: testDatabaseUrl()},
      timeout: 30_000,
    })
    assert.equal(stderr, '')
  })
})
