import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {openStore, type OpenedStore} from '../../src/adapters/postgres/open-store.js'
import type {Demo} from '../../src/core/demo.js'
import type {NewDemo} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../fakes/builders.js'
import {scratchDatabase, tempDir} from '../support/databases.js'
import {startCli} from '../support/cli.js'

/*
 * The state commands (list, get, extend, config) end to end: bin/run.js (the build in dist/, made by
 * `npm test` / `npm run build` before the tests) against a database of this file's own.
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
  const demoRow = aNewDemo({status: 'ready', createdAt: new Date(now - 10 * 60_000), expiresAt: new Date(now + 2 * HOUR), ...overrides, ...(destroyed ? {status: 'ready'} : {})})
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

interface ListJson {
  demos: Array<{id: string; status: string; createdBy: string; type: string; expiresIn: string; database: {supabaseAnonKey: string | null}}>
  total: number
  page: number
  limit: number
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

  it('prints an empty page as JSON, with nothing but JSON on stdout', async () => {
    const run = await demo(['list', '--json'])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(json(run), {demos: [], total: 0, page: 1, limit: 25})
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
      assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ['lista003', 'lista002', 'lista001'])
      assert.match(lines[1] ?? '', /lista003\s+<none>\s+enterprise\s+degraded\s+ben@example\.com\s+1h 5\dm\s+https:\/\/portal-lista003/)
    })

    it('--json gives every demo view and the paging', async () => {
      const page = json<ListJson>(await demo(['list', '--json', '--status', 'all']))
      assert.equal(page.total, 5)
      assert.deepEqual(page.demos.map((d) => d.id), ['lista005', 'lista004', 'lista003', 'lista002', 'lista001'])
      const first = page.demos[0]!
      for (const key of ['id', 'name', 'namespace', 'type', 'status', 'createdBy', 'portalUrl', 'candidateUrl', 'createdAt', 'expiresAt', 'expiresIn', 'expiresInSeconds', 'database']) {
        assert.ok(key in first, `missing ${key}`)
      }
      assert.equal(page.demos.find((d) => d.id === 'lista004')?.expiresIn, '-')
    })

    it('filters by status, owner, type and --mine', async () => {
      const ids = async (...args: string[]) => json<ListJson>(await demo(['list', '--json', ...args])).demos.map((d) => d.id)
      assert.deepEqual(await ids('--status', 'failed', '--status', 'destroyed'), ['lista005', 'lista004'])
      assert.deepEqual(await ids('--created-by', 'ann@example.com'), ['lista002', 'lista001'])
      assert.deepEqual(await ids('--status', 'all', '--type', 'startup'), ['lista004', 'lista001'])
      assert.deepEqual(await ids('--status', 'all', '--type', 'enterprise', '--created-by', 'ben@example.com'), ['lista003'])
      assert.deepEqual(await ids('--mine', '--status', 'all'), [], 'alice owns none of them')
      const asAnn = json<ListJson>(await demo(['list', '--json', '--mine'], {env: {DEMO_USER: 'ann@example.com'}}))
      assert.deepEqual(asAnn.demos.map((d) => d.id), ['lista002', 'lista001'])
    })

    it('refuses an unknown status with exit 2 and a hint', async () => {
      const run = await demo(['list', '--status', 'running'])
      assert.equal(run.code, 2)
      assert.match(run.stderr, /^Error: Unknown status "running"\.\nHint: Use one of: live, all/m)
      assert.equal(run.stdout, '')
    })
  })

  describe('paging', () => {
    before(async () => {
      for (let i = 0; i < 30; i++) {
        await insert({id: `pager${String(i).padStart(3, '0')}`, createdBy: 'pager@example.com', createdAt: new Date(Date.now() - (100 - i) * 1000)})
      }
    })

    it('returns the requested page and the total', async () => {
      const page3 = json<ListJson>(await demo(['list', '--json', '--created-by', 'pager@example.com', '--limit', '10', '--page', '3']))
      assert.deepEqual([page3.total, page3.page, page3.limit, page3.demos.length], [30, 3, 10, 10])
      assert.equal(page3.demos[0]?.id, 'pager009')
      assert.equal(page3.demos.at(-1)?.id, 'pager000')
      const page4 = json<ListJson>(await demo(['list', '--json', '--created-by', 'pager@example.com', '--limit', '10', '--page', '4']))
      assert.deepEqual([page4.total, page4.demos.length], [30, 0])
    })

    it('tells a human how to get the next page', async () => {
      const run = await demo(['list', '--created-by', 'pager@example.com', '--limit', '10'])
      assert.equal(run.code, 0, run.stderr)
      assert.match(run.stderr, /Page 1 of 3 \(30 demos\); next: --page 2/)
    })

    it('accepts --limit 100 and refuses --limit 101 with exit 2 and a hint', async () => {
      const ok = await demo(['list', '--json', '--limit', '100', '--status', 'all'])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(json<ListJson>(ok).demos.length, 35)
      const run = await demo(['list', '--limit', '101'])
      assert.equal(run.code, 2)
      assert.equal(run.stderr, 'Error: --limit must be between 1 and 100, got 101.\nHint: Use --page to see further rows.\n')
      assert.equal(run.stdout, '')
    })

    it('reports --limit 101 as a JSON error with the same exit code under --json', async () => {
      const run = await demo(['list', '--limit', '101', '--json'])
      assert.equal(run.code, 2)
      assert.deepEqual(json(run), {
        error: {code: 'E_USAGE', message: '--limit must be between 1 and 100, got 101.', hint: 'Use --page to see further rows.', exitCode: 2},
      })
    })
  })
})

describe('flags oclif refuses', () => {
  it('are usage errors (exit 2) in the same compact --json shape as ours', async () => {
    const unknown = await demo(['list', '--bogus', '--json'])
    assert.equal(unknown.code, 2)
    assert.deepEqual(json(unknown), {
      error: {code: 'E_USAGE', message: 'Nonexistent flag: --bogus', hint: 'Run the command with --help to see its flags and arguments.', exitCode: 2},
    })
    const notInteger = await demo(['list', '--limit', 'ten', '--json'])
    assert.equal(notInteger.code, 2)
    assert.match(json<{error: {message: string}}>(notInteger).error.message, /^Parsing --limit Expected an integer but received: ten$/)
    assert.doesNotMatch(notInteger.stdout, /pjson|devDependencies/)
  })

  it('keep oclif\'s usage text without --json', async () => {
    const run = await demo(['list', '--bogus'])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /Nonexistent flag: --bogus/)
    assert.equal(run.stdout, '')
  })
})

describe('demo get', () => {
  before(async () => {
    await insert({id: 'getter01', createdBy: 'alice@example.com', database: {mode: 'supabase-project', projectRef: 'abcdefghijkl', url: 'https://abcdefghijkl.supabase.co', anonKey: 'eyJ-anon-key-secret-value'}})
  })

  it('fails with exit 1 and a hint for an unknown id', async () => {
    const run = await demo(['get', 'nosuchid'])
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^Error: No demo matches "nosuchid" \(by id, id prefix, name or namespace\) in the shared Postgres postgres:\/\/.*\.\nHint: Run `demo list --status all` to see every demo\.\n$/)
    assert.equal(run.stdout, '')
  })

  it('reports an unknown id as E_NOT_FOUND under --json', async () => {
    const run = await demo(['get', 'nosuchid', '--json'])
    assert.equal(run.code, 1)
    const body = json<{error: {code: string; exitCode: number; hint: string}}>(run)
    assert.equal(body.error.code, 'E_NOT_FOUND')
    assert.equal(body.error.exitCode, 1)
    assert.match(body.error.hint, /demo list --status all/)
  })

  it('refuses a reference that cannot name a demo with exit 2', async () => {
    const run = await demo(['get', 'Not-An-Id'])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /^Error: "Not-An-Id" is not a demo id, id prefix, name or namespace\.\nHint: /)
  })

  it('--json gives the demo, its database and its history, with the anon key masked', async () => {
    const run = await demo(['get', 'getter01', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const view = json<{id: string; status: string; createdBy: string; database: Record<string, unknown>; events: Array<{type: string; actor: string}>}>(run)
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
    assert.deepEqual(view.events.map((e) => [e.type, e.actor]), [['created', 'alice@example.com']])
    assert.doesNotMatch(run.stdout, /eyJ-anon-key-secret-value/)
  })

  it('masks the anon key in human output too, and shows it with --show-secrets', async () => {
    const masked = await demo(['get', 'getter01'])
    assert.equal(masked.code, 0, masked.stderr)
    assert.match(masked.stdout, /anon key:\s+\*{8}/)
    assert.doesNotMatch(masked.stdout + masked.stderr, /eyJ-anon-key-secret-value/)
    const shown = await demo(['get', 'getter01', '--show-secrets'])
    assert.match(shown.stdout, /anon key:\s+eyJ-anon-key-secret-value/)
    const shownJson = json<{database: {supabaseAnonKey: string}}>(await demo(['get', 'getter01', '--show-secrets', '--json']))
    assert.equal(shownJson.database.supabaseAnonKey, 'eyJ-anon-key-secret-value')
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
    assert.deepEqual(events.map((e) => [e.type, e.actor]), [['created', 'alice@example.com'], ['extended', 'alice@example.com']])
  })

  it('says what it did in human output', async () => {
    await insert({id: 'extend02', createdBy: 'alice@example.com'})
    const run = await demo(['extend', 'extend02', '--by', '1'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^Extended extend02: now expires at .* \(in (2h 59m|3h 00m)\); extension 1 of 3\.\n$/)
  })

  for (const hours of ['5', '0', '0.5', '30m', 'abc']) {
    it(`refuses --by ${hours} with exit 2 and leaves the row unchanged`, async () => {
      const id = `extbad${hours.replace(/\W/g, '')}x`
      const before = await insert({id, createdBy: 'alice@example.com'})
      const run = await demo(['extend', id, '--by', hours])
      assert.equal(run.code, 2, run.stderr)
      const expected = hours === 'abc' ? /^Error: Cannot parse --by "abc"\.\nHint: / : /^Error: --by must be between 1h and 4h, got .*\.\nHint: Run `demo extend .* --by 2h`\.\n$/
      assert.match(run.stderr, expected)
      assert.deepEqual(await row(id), before)
    })
  }

  it('still takes the deprecated --hours spelling (a duration: 90m adds an hour and a half), with a warning', async () => {
    const before = await insert({id: 'extdur01', createdBy: 'alice@example.com'})
    const run = await demo(['extend', 'extdur01', '--hours', '90m', '--json'])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /--hours.*deprecated.*--by/i, 'the old spelling still works, with a deprecation warning')
    const after = await row('extdur01')
    assert.equal(after.expiresAt.getTime() - before.expiresAt.getTime(), 90 * 60_000)
    assert.equal(after.extensionCount, 1)
  })

  it('refuses someone who is not the owner (exit 1) and leaves the row unchanged', async () => {
    const before = await insert({id: 'extend03', createdBy: 'alice@example.com'})
    const run = await demo(['extend', 'extend03', '--by', '1', '--json'], {env: {DEMO_USER: 'mallory@example.com'}})
    assert.equal(run.code, 1)
    const body = json<{error: {code: string; message: string; hint: string}}>(run)
    assert.equal(body.error.code, 'E_PERMISSION')
    assert.match(body.error.message, /belongs to alice@example\.com, and you are mallory@example\.com/)
    assert.match(body.error.hint, /admins/)
    assert.deepEqual(await row('extend03'), before)
  })

  it('lets an admin named in demo.config.yaml extend someone else\'s demo', async () => {
    await insert({id: 'extend04', createdBy: 'alice@example.com'})
    const dir = tempDir('demo-e2e-admins-')
    writeFileSync(join(dir, 'demo.config.yaml'), 'admins: [root@example.com]\n')
    const run = await demo(['extend', 'extend04', '--by', '1', '--json'], {cwd: dir, env: {DEMO_USER: 'root@example.com'}})
    assert.equal(run.code, 0, run.stderr)
    assert.equal((await row('extend04')).extensionCount, 1)
  })

  it('refuses a destroyed demo with exit 1 and a hint', async () => {
    const before = await insert({id: 'extend05', createdBy: 'alice@example.com', status: 'destroyed'})
    const run = await demo(['extend', 'extend05', '--by', '1'])
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^Error: Cannot extend demo "extend05": it is destroyed\.\nHint: /)
    assert.deepEqual(await row('extend05'), before)
  })

  it('refuses an unknown id with exit 1', async () => {
    const run = await demo(['extend', 'nosuchid', '--by', '1'])
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^Error: No demo matches "nosuchid"/)
  })
})

describe('a malformed demo.config.yaml', () => {
  it('fails with exit 2, naming the file and the key, before touching the state', async () => {
    const before = await insert({id: 'badcfg01', createdBy: 'alice@example.com'})
    const dir = tempDir('demo-e2e-badcfg-')
    const file = join(dir, 'demo.config.yaml')
    writeFileSync(file, 'lifetime:\n  maxExtendHours: "four"\n')
    const run = await demo(['extend', 'badcfg01', '--by', '1'], {cwd: dir})
    assert.equal(run.code, 2)
    assert.ok(run.stderr.startsWith(`Error: ${file}: "lifetime.maxExtendHours": `), run.stderr)
    assert.match(run.stderr, new RegExp(`Hint: Edit ${file.replaceAll('/', '\\/')}`))
    assert.deepEqual(await row('badcfg01'), before)
  })

  it('names an unknown key', async () => {
    const dir = tempDir('demo-e2e-badcfg-')
    const file = join(dir, 'demo.config.yaml')
    writeFileSync(file, 'lifetme:\n  maxHours: 4\n')
    const run = await demo(['create', '--dry-run', '--json'], {cwd: dir})
    assert.equal(run.code, 2)
    const body = json<{error: {code: string; message: string; exitCode: number}}>(run)
    assert.equal(body.error.code, 'E_CONFIG')
    assert.ok(body.error.message.startsWith(`${file}: `), body.error.message)
    assert.match(body.error.message, /lifetme/)
    // list and get only read the state: they do not load the project config, so a broken one does not stop them.
    assert.equal((await demo(['list', '--json'], {cwd: dir})).code, 0)
  })

  it('reports invalid YAML with the file and the position', async () => {
    const dir = tempDir('demo-e2e-badcfg-')
    const file = join(dir, 'demo.config.yaml')
    writeFileSync(file, 'lifetime:\n  maxHours: [4\n')
    const run = await demo(['create', '--dry-run'], {cwd: dir})
    assert.equal(run.code, 2)
    assert.match(run.stderr, new RegExp(`^Error: ${file.replaceAll('/', '\\/')} is not valid YAML: .*\\(\\d+:\\d+\\)\\nHint: `))
  })

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
})

describe('demo config', () => {
  const prefsFile = join(preferencesDir, 'preferences.json')

  it('lists no preferences at first, and where they would be stored', async () => {
    const run = await demo(['config', 'list', '--json'])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(json(run), {preferences: {}, path: prefsFile})
    const human = await demo(['config', 'list'])
    assert.match(human.stdout, /type\s+\(not set\)\nduration\s+\(not set\)/)
    assert.match(human.stderr, new RegExp(`Stored in ${prefsFile.replaceAll('/', '\\/')}`))
  })

  it('refuses an unknown type with exit 2 and writes nothing', async () => {
    const run = await demo(['config', 'set', 'type', 'megacorp'])
    assert.equal(run.code, 2)
    assert.equal(run.stderr, 'Error: Unknown demo type "megacorp".\nHint: Use one of: recruiting-agency, enterprise, startup (the types in demo.config.yaml).\n')
    assert.equal(existsSync(prefsFile), false)
  })

  for (const [value, message] of [
    ['10h', /^Error: duration must be between 1h and 8h, got 10h\.\nHint: Run `demo config set duration 2h`/],
    ['30m', /^Error: duration must be between 1h and 8h, got 30m\./],
    ['soon', /^Error: Cannot parse duration "soon"\./],
  ] as const) {
    it(`refuses duration "${value}" with exit 2 and writes nothing`, async () => {
      const run = await demo(['config', 'set', 'duration', value])
      assert.equal(run.code, 2)
      assert.match(run.stderr, message)
      assert.match(run.stderr, /\nHint: /)
      assert.equal(existsSync(prefsFile), false)
    })
  }

  it('refuses an unknown key with exit 2', async () => {
    const run = await demo(['config', 'set', 'colour', 'blue', '--json'])
    assert.equal(run.code, 2)
    assert.deepEqual(json(run), {error: {code: 'E_USAGE', message: 'Unknown preference "colour".', hint: 'Use one of: type, duration.', exitCode: 2}})
  })

  it('checks types against the project\'s own demo.config.yaml', async () => {
    const dir = tempDir('demo-e2e-types-')
    writeFileSync(join(dir, 'demo.config.yaml'), 'types:\n  trial: {description: A trial}\nlifetime:\n  maxHours: 4\n')
    assert.equal((await demo(['config', 'set', 'type', 'startup'], {cwd: dir})).code, 2)
    assert.equal((await demo(['config', 'set', 'duration', '5h'], {cwd: dir})).code, 2)
    const run = await demo(['config', 'set', 'type', 'trial', '--json'], {cwd: dir})
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(json(run), {key: 'type', value: 'trial', path: prefsFile})
    assert.equal((await demo(['config', 'unset', 'type'])).code, 0)
  })

  it('sets, gets and unsets a type and a duration', async () => {
    const setType = await demo(['config', 'set', 'type', 'startup'])
    assert.equal(setType.code, 0, setType.stderr)
    assert.equal(setType.stdout, 'type = startup\n')
    assert.equal((await demo(['config', 'set', 'duration', '90m'])).code, 0)
    assert.deepEqual(JSON.parse(readFileSync(prefsFile, 'utf8')), {type: 'startup', duration: '90m'})

    const get = await demo(['config', 'get', 'duration'])
    assert.deepEqual([get.code, get.stdout], [0, '90m\n'])
    assert.deepEqual(json(await demo(['config', 'get', 'type', '--json'])), {key: 'type', value: 'startup', path: prefsFile})
    assert.deepEqual(json(await demo(['config', 'list', '--json'])), {preferences: {type: 'startup', duration: '90m'}, path: prefsFile})

    const unset = await demo(['config', 'unset', 'type', '--json'])
    assert.deepEqual(json(unset), {key: 'type', removed: true, path: prefsFile})
    const again = await demo(['config', 'unset', 'type', '--json'])
    assert.equal(again.code, 0, 'unset is idempotent')
    assert.deepEqual(json(again), {key: 'type', removed: false, path: prefsFile})

    const getUnset = await demo(['config', 'get', 'type'])
    assert.deepEqual([getUnset.code, getUnset.stdout], [0, ''])
    assert.match(getUnset.stderr, /type is not set/)
    assert.deepEqual(json(await demo(['config', 'get', 'type', '--json'])), {key: 'type', value: null, path: prefsFile})
  })

  it('keeps a valid value when a later set is refused', async () => {
    assert.equal((await demo(['config', 'set', 'duration', '2h'])).code, 0)
    assert.equal((await demo(['config', 'set', 'duration', '99h'])).code, 2)
    assert.equal((await demo(['config', 'get', 'duration'])).stdout, '2h\n')
  })

  it('reports a corrupt preferences file with its path (exit 2) and does not overwrite it', async () => {
    const dir = tempDir('demo-e2e-corrupt-')
    const file = join(dir, 'preferences.json')
    writeFileSync(file, '{"type": "startup",')
    const env = {DEMO_PREFERENCES_DIR: dir}
    const list = await demo(['config', 'list'], {env})
    assert.equal(list.code, 2)
    assert.equal(list.stderr, `Error: Preferences file ${file} is not a JSON object.\nHint: Fix or delete ${file}; \`demo config set\` then starts a new one.\n`)
    assert.equal((await demo(['config', 'set', 'type', 'startup'], {env})).code, 2)
    assert.equal(readFileSync(file, 'utf8'), '{"type": "startup",')
  })
})

describe('naming a demo by its name, an id prefix or its namespace', () => {
  before(async () => {
    await insert({id: 'named001', name: 'trade-show', createdBy: 'ann@example.com', createdAt: new Date(Date.now() - 20 * 60_000)})
    await insert({id: 'named002', name: 'trade-show', createdBy: 'ben@example.com', createdAt: new Date(Date.now() - 10 * 60_000)})
    await insert({id: 'solo0001', name: 'board-meeting', createdBy: 'ann@example.com'})
  })

  it('get finds a demo by its name, a unique id prefix and its namespace', async () => {
    for (const ref of ['board-meeting', 'solo', 'demo-solo0001']) {
      const run = await demo(['get', ref, '--json'])
      assert.equal(run.code, 0, run.stderr)
      assert.equal(json<{id: string}>(run).id, 'solo0001')
    }
  })

  it('refuses a name two demos share with exit 2, listing both and hinting an exact id', async () => {
    const run = await demo(['get', 'trade-show'])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /^Error: "trade-show" could mean any of 2 demos:\n {2}named002 +trade-show +ready +ben@example\.com +created .* UTC\n {2}named001 +trade-show +ready +ann@example\.com +created .* UTC\nHint: Name one by its exact id: `demo get named002`\.\n$/)
    const asJson = json<{error: {code: string; exitCode: number}}>(await demo(['extend', 'named0', '--by', '1', '--json']))
    assert.deepEqual([asJson.error.code, asJson.error.exitCode], ['E_USAGE', 2])
  })
})

describe('demo list: failed demos that still hold objects', () => {
  before(async () => {
    await insert({id: 'keeper01', createdBy: 'keeper@example.com', status: 'failed', metadata: {cleanup: 'kept'}})
    await insert({id: 'keeper02', createdBy: 'keeper@example.com', status: 'failed', metadata: {cleanup: 'done'}})
  })

  it('shows a failed demo whose namespace was kept by default, and not one that was cleaned up', async () => {
    const page = json<ListJson>(await demo(['list', '--json', '--created-by', 'keeper@example.com']))
    assert.deepEqual(page.demos.map((d) => [d.id, d.status]), [['keeper01', 'failed']])
  })
})
