import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {readHolder} from '../../src/adapters/postgres/embedded-lock.js'
import {openStore, type OpenedStore} from '../../src/adapters/postgres/open-store.js'
import type {Demo} from '../../src/core/demo.js'
import type {NewDemo} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../fakes/builders.js'
import {scratchDatabase, tempDir} from '../support/databases.js'
import {startCli} from '../support/cli.js'

/*
 * The state commands (list, get, extend) end to end: bin/run.js (the build in dist/, made by `npm test` /
 * `npm run build` before the tests) against a database of this file's own. Kept here is what needs the real
 * process or the real store: one happy path per command reading and writing the real table, where the state
 * lives (and that its password is not shown), oclif's own rendering of a refused flag on the process's stderr,
 * an unreachable store (a real socket), the embedded store, and demo.config.yaml found from the working
 * directory of a real process. Flag parsing, usage errors, --json error documents, paging, filters, ownership,
 * config-file errors, preferences (demo config) and messages run in process against fakes, in
 * test/unit/commands/ (list, get, extend, config, project-config).
 */

const REPO = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
const HOUR = 3_600_000

interface Run {
  code: number
  stdout: string
  stderr: string
  ms: number
}

let databaseUrl = ''
let dropDatabase: () => Promise<void> = async () => {}
let opened: OpenedStore
/** The working directory of every run: holds a demo.config.yaml with the built-in defaults. */
const projectDir = tempDir('demo-e2e-project-')
const preferencesDir = tempDir('demo-e2e-prefs-')
const home = tempDir('demo-e2e-home-')

function baseEnv(): NodeJS.ProcessEnv {
  // Built from scratch so nothing of the developer's or the CI's environment (DATABASE_URL, GITHUB_ACTIONS ...) leaks in.
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    DEMO_DATABASE_URL: databaseUrl,
    DEMO_STATE_DIR: join(home, 'state-unused'),
    DEMO_PREFERENCES_DIR: preferencesDir,
    DEMO_USER: 'alice@example.com',
  }
}

async function demo(args: string[], options: {env?: NodeJS.ProcessEnv; cwd?: string} = {}): Promise<Run> {
  const env = {...baseEnv(), ...options.env}
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
  const started = Date.now()
  const ended = await startCli({args, cwd: options.cwd ?? projectDir, env, timeoutMs: 60_000}).result
  return {code: ended.code ?? -1, stdout: ended.stdout, stderr: ended.stderr, ms: Date.now() - started}
}

function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    assert.fail(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`)
  }
}

/** Inserts a row through the real store; a destroyed one goes through destroying, as destroy would. */
async function insert(overrides: Partial<NewDemo>): Promise<Demo> {
  const now = Date.now()
  const destroyed = overrides.status === 'destroyed'
  const demoRow = aNewDemo({
    status: 'ready',
    createdAt: new Date(now - 10 * 60_000),
    expiresAt: new Date(now + 2 * HOUR),
    ...overrides,
    ...(destroyed ? {status: 'ready'} : {}),
  })
  const result = await opened.store.insert(demoRow, BIG_CAPS, aCreatedEvent(demoRow))
  assert.ok('inserted' in result)
  if (!destroyed) return result.inserted
  const destroying = await opened.store.update(demoRow.id, result.inserted.version, {status: 'destroying'})
  return opened.store.update(demoRow.id, destroying.version, {status: 'destroyed', destroyedAt: new Date(now)})
}

async function row(id: string): Promise<Demo> {
  const found = await opened.store.get(id)
  assert.ok(found, `row ${id} is gone`)
  return found
}

before(async () => {
  assert.ok(existsSync(join(REPO, 'dist', 'commands', 'list.js')), 'dist/ is missing: run `npm run build` first (npm test does).')
  const scratch = await scratchDatabase('e2e_state')
  databaseUrl = scratch.url
  dropDatabase = scratch.drop
  opened = await openStore({databaseUrl, stateDir: '/nonexistent'})
  writeFileSync(join(projectDir, 'demo.config.yaml'), '# built-in defaults\nlifetime:\n  maxHours: 8\n')
})

after(async () => {
  await opened?.close()
  await dropDatabase()
})

describe('demo list', () => {
  it('says there are no demos, and where the state lives, on an empty store', async () => {
    const run = await demo(['list'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.trim(), 'No demos match.')
    assert.match(run.stderr, /State: shared Postgres postgres:\/\//)
    assert.doesNotMatch(run.stderr, /:demo_test@/, 'the password is shown')
  })

  describe('with demos of several owners, types and statuses', () => {
    before(async () => {
      const minute = (n: number) => new Date(Date.now() - (60 - n) * 60_000)
      await insert({id: 'lista001', createdBy: 'ann@example.com', demoType: 'startup', status: 'ready', createdAt: minute(1)})
      await insert({id: 'lista002', createdBy: 'ann@example.com', demoType: 'enterprise', status: 'creating', createdAt: minute(2)})
      await insert({id: 'lista003', createdBy: 'ben@example.com', demoType: 'enterprise', status: 'degraded', createdAt: minute(3)})
      await insert({id: 'lista004', createdBy: 'ben@example.com', demoType: 'startup', status: 'destroyed', createdAt: minute(4)})
      await insert({id: 'lista005', createdBy: 'ann@example.com', demoType: 'recruiting-agency', status: 'failed', createdAt: minute(5)})
    })

    it('shows live demos newest first, as a table with an "expires in" column', async () => {
      const run = await demo(['list'])
      assert.equal(run.code, 0, run.stderr)
      const lines = run.stdout.trim().split('\n')
      assert.match(lines[0] ?? '', /^ID\s+NAME\s+TYPE\s+STATUS\s+OWNER\s+EXPIRES IN\s+PORTAL$/)
      assert.deepEqual(
        lines.slice(1).map((l) => l.split(/\s+/)[0]),
        ['lista003', 'lista002', 'lista001'],
      )
      assert.match(lines[1] ?? '', /lista003\s+<none>\s+enterprise\s+degraded\s+ben@example\.com\s+1h 5\dm\s+https:\/\/portal-lista003/)
    })
  })
})

describe('flags oclif refuses', () => {
  it("keep oclif's usage text without --json", async () => {
    const run = await demo(['list', '--bogus'])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /Nonexistent flag: --bogus/)
    assert.equal(run.stdout, '')
  })
})

describe('demo get', () => {
  before(async () => {
    await insert({
      id: 'getter01',
      createdBy: 'alice@example.com',
      database: {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: 'eyJ-anon-key-secret-value'},
    })
  })

  it('--json gives the demo, its database and its history, with the anon key masked', async () => {
    const run = await demo(['get', 'getter01', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const view = json<{
      id: string
      status: string
      createdBy: string
      database: Record<string, unknown>
      events: Array<{type: string; actor: string}>
    }>(run)
    assert.equal(view.id, 'getter01')
    assert.equal(view.status, 'ready')
    assert.equal(view.createdBy, 'alice@example.com')
    assert.deepEqual(view.database, {
      mode: 'supabase-project',
      schema: null,
      supabaseProjectId: 'abcdefghijkl',
      supabaseUrl: 'https://abcdefghijkl.supabase.co',
      supabaseAnonKey: '********',
    })
    assert.deepEqual(
      view.events.map((e) => [e.type, e.actor]),
      [['created', 'alice@example.com']],
    )
    assert.doesNotMatch(run.stdout, /eyJ-anon-key-secret-value/)
  })
})

describe('demo extend', () => {
  it('pushes the expiry back, counts the extension and records who did it', async () => {
    const before = await insert({id: 'extend01', createdBy: 'alice@example.com'})
    const run = await demo(['extend', 'extend01', '--by', '2', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const view = json<{expiresAt: string; extensionCount: number}>(run)
    const expected = new Date(before.expiresAt.getTime() + 2 * HOUR).toISOString()
    assert.equal(view.expiresAt, expected)
    assert.equal(view.extensionCount, 1)
    const after = await row('extend01')
    assert.equal(after.expiresAt.toISOString(), expected)
    assert.equal(after.extensionCount, 1)
    const events = await opened.store.events('extend01')
    assert.deepEqual(
      events.map((e) => [e.type, e.actor]),
      [
        ['created', 'alice@example.com'],
        ['extended', 'alice@example.com'],
      ],
    )
  })
})

/*
 * Fault matrix T21: the CLI's clock ten minutes off the state database's (DEMO_TEST_CLOCK_OFFSET_MS moves the
 * process's clock; this test's machine and the database share the real one). Expiry is the database's call.
 */
describe('a machine whose clock is ten minutes off the state database', () => {
  const TEN_MINUTES = 10 * 60_000

  it('extend refuses a demo that expired by the database clock, though the machine is behind', async () => {
    await insert({
      id: 'skewexp1',
      createdBy: 'alice@example.com',
      createdAt: new Date(Date.now() - HOUR),
      expiresAt: new Date(Date.now() - 5 * 60_000),
    })
    const run = await demo(['extend', 'skewexp1', '--by', '1h', '--json'], {env: {DEMO_TEST_CLOCK_OFFSET_MS: String(-TEN_MINUTES)}})
    assert.equal(run.code, 1, run.stdout)
    assert.equal(json<{error: {code: string}}>(run).error.code, 'E_EXPIRED')
    assert.equal((await row('skewexp1')).extensionCount, 0)
  })

  it('extend accepts a demo that is live by the database clock, though the machine is ahead', async () => {
    const before = await insert({id: 'skewlive', createdBy: 'alice@example.com', expiresAt: new Date(Date.now() + 5 * 60_000)})
    const run = await demo(['extend', 'skewlive', '--by', '1h', '--json'], {env: {DEMO_TEST_CLOCK_OFFSET_MS: String(TEN_MINUTES)}})
    assert.equal(run.code, 0, run.stdout + run.stderr)
    assert.equal((await row('skewlive')).expiresAt.toISOString(), new Date(before.expiresAt.getTime() + HOUR).toISOString())
  })

  it('get and list count "expires in" by the database clock', async () => {
    await insert({id: 'skewview', createdBy: 'alice@example.com', expiresAt: new Date(Date.now() + HOUR + 30_000)})
    // By the database clock about 3630 s are left (less the time the runs take); a skewed count is 600 s off.
    const byDatabaseClock = (seconds: number | undefined) => seconds !== undefined && seconds > 3_540 && seconds <= 3_630
    for (const offset of [TEN_MINUTES, -TEN_MINUTES]) {
      const env = {DEMO_TEST_CLOCK_OFFSET_MS: String(offset)}
      const got = json<{expiresInSeconds: number}>(await demo(['get', 'skewview', '--json'], {env}))
      assert.ok(byDatabaseClock(got.expiresInSeconds), `get with the clock ${offset} ms off: ${got.expiresInSeconds} s`)
      const listed = json<{demos: Array<{id: string; expiresInSeconds: number}>}>(await demo(['list', '--json'], {env}))
      const seconds = listed.demos.find((d) => d.id === 'skewview')?.expiresInSeconds
      assert.ok(byDatabaseClock(seconds), `list with the clock ${offset} ms off: ${seconds} s`)
    }
  })
})

describe('demo.config.yaml', () => {
  it('finds the file from a subdirectory, and DEMO_CONFIG points elsewhere', async () => {
    const dir = tempDir('demo-e2e-badcfg-')
    writeFileSync(join(dir, 'demo.config.yaml'), 'nonsense: true\n')
    const nested = join(dir, 'a', 'b')
    mkdirSync(nested, {recursive: true})
    assert.equal((await demo(['create', '--dry-run'], {cwd: nested})).code, 2)
    const good = join(tempDir('demo-e2e-goodcfg-'), 'demo.yaml')
    writeFileSync(good, 'lifetime:\n  maxHours: 6\n')
    const run = await demo(['create', '--dry-run'], {cwd: nested, env: {DEMO_CONFIG: good}})
    assert.equal(run.code, 0, run.stderr)
  })
})

describe('an unreachable state database', () => {
  it('fails within seconds with exit 1, without showing the password', async () => {
    const run = await demo(['list'], {env: {DEMO_DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:1/x'}})
    assert.equal(run.code, 1)
    assert.ok(run.ms < 15_000, `took ${run.ms} ms`)
    assert.match(run.stderr, /^Error: Cannot reach the state database at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x\.\nHint: Check DEMO_DATABASE_URL/)
    assert.doesNotMatch(run.stdout + run.stderr, /secretpw/)
  })

  it('reports E_STORE_UNREACHABLE under --json, without the password', async () => {
    const run = await demo(['get', 'k3x9a2bq', '--json'], {env: {DEMO_DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:1/x'}})
    assert.equal(run.code, 1)
    const body = json<{error: {code: string; exitCode: number}}>(run)
    assert.equal(body.error.code, 'E_STORE_UNREACHABLE')
    assert.equal(body.error.exitCode, 1)
    assert.doesNotMatch(run.stdout + run.stderr, /secretpw/)
  })
})

describe('the embedded store', () => {
  it('works without DEMO_DATABASE_URL and says where the state lives', async () => {
    const stateDir = join(tempDir('demo-e2e-embedded-'), 'state')
    const env = {DEMO_DATABASE_URL: undefined, DEMO_STATE_DIR: stateDir}
    const run = await demo(['list'], {env})
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.trim(), 'No demos match.')
    assert.match(run.stderr, new RegExp(`State: embedded store at ${stateDir.replaceAll('/', '\\/')}`))
    assert.ok(existsSync(stateDir), 'the embedded store was not created')
    const again = await demo(['list', '--json'], {env})
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(json(again), {demos: [], total: 0, page: 1, limit: 25})
  })

  it('is served by one background server that the first command starts; help and a dry run start none', async () => {
    const stateDir = join(tempDir('demo-e2e-embedded-'), 'state')
    const env = {DEMO_DATABASE_URL: undefined, DEMO_STATE_DIR: stateDir}
    for (const args of [
      ['list', '--help'],
      ['create', '--type', 'startup', '--dry-run'],
    ]) {
      const run = await demo(args, {env})
      assert.equal(run.code, 0, run.stderr)
      assert.equal(existsSync(`${stateDir}.server.lock`), false, `${args.join(' ')} started a store server`)
    }
    const runs = await Promise.all([demo(['list', '--json'], {env}), demo(['list', '--json'], {env}), demo(['stats', '--json'], {env})])
    for (const run of runs) assert.equal(run.code, 0, run.stderr)
    const server = readHolder(`${stateDir}.server.lock`)
    assert.ok(server, 'a server holds the server lock')
    assert.equal(server.command, 'demo (embedded store server)')
    const servers = execFileSync('pgrep', ['-f', `store-server-main.js ${stateDir} `], {encoding: 'utf8'})
      .trim()
      .split('\n')
    assert.deepEqual(servers, [String(server.pid)], 'one server for the directory, however many commands started at once')
    assert.equal(readHolder(`${stateDir}.lock`)?.pid, server.pid, 'the server holds the store')
    process.kill(server.pid, 'SIGTERM')
  })
})
