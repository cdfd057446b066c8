import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {after, afterEach, before, beforeEach, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import pg from 'pg'
import {projectDatabaseHooks} from '../../../src/adapters/supabase/open.js'
import {loadConfig} from '../../../src/config.js'
import {supabaseAuthUsers, DEMO_ID_METADATA} from '../../../src/adapters/supabase/auth-users.js'
import {SupabaseManagementApi} from '../../../src/adapters/supabase/management-client.js'
import {SupabaseProjectDatabases, type SupabaseProjectOptions} from '../../../src/adapters/supabase/project-databases.js'
import {createDemo, type CreateDeps, type CreateRequest} from '../../../src/core/create-demo.js'
import {destroyDemo} from '../../../src/core/destroy-demo.js'
import type {DemoDatabase} from '../../../src/core/demo.js'
import {CreateFailedError, LimitError, SupabaseError, TimeoutError} from '../../../src/core/errors.js'
import type {Random} from '../../../src/core/ports.js'
import {projectConfigSchema} from '../../../src/core/project-config.js'
import type {TemplateFile} from '../../../src/core/render-stack.js'
import {systemRandom} from '../../../src/deps.js'
import {databasesContract} from '../../contract/databases.contract.js'
import {fixedClock} from '../../fakes/builders.js'
import {FakeCluster} from '../../fakes/fake-cluster.js'
import {FakeSleeper, RecordingSteps} from '../../fakes/fake-time.js'
import {MemoryDemoStore} from '../../fakes/memory-store.js'
import {databasesFor} from '../../fakes/fake-databases.js'
import {tempDir, testDatabaseUrl} from '../../support/databases.js'
import {SupabaseStandIn} from '../../support/supabase-stand-in.js'

const TOKEN = 'sbp_integration_token_must_not_leak'
const ORG = 'acme'
/** The built-in config: the app's real migrations (templates/migrations) and generated seeds (seeds/). */
const loaded = loadConfig({cwd: tempDir(), env: {}, packageRoot: fileURLToPath(new URL('../../../', import.meta.url))})
const PERSONAS = ['admin@demo.example', 'candidate@demo.example', 'hiring.manager@demo.example', 'recruiter@demo.example']
const TEMPLATES_DIR = new URL('../../../templates/', import.meta.url)
const templates: TemplateFile[] = readdirSync(TEMPLATES_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => ({name, text: readFileSync(new URL(name, TEMPLATES_DIR), 'utf8')}))
const config = projectConfigSchema.parse({database: {mode: 'supabase-project'}, supabase: {organization: ORG}})
/** Bytes 0, 1, 2 ... make the id "abcdefgh". */
const ID = 'abcdefgh'
const sequentialRandom: Random = {bytes: (count) => Uint8Array.from({length: count}, (_, i) => (i * 7 + 3) % 256)}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

let standIn: SupabaseStandIn
const clock = fixedClock('2026-11-25T12:00:00.000Z')
let sleeper: FakeSleeper

/** The real adapter against the stand-in, with the app's real migrations and seeds over each project's real database. */
function adapter(overrides: Partial<SupabaseProjectOptions> = {}): SupabaseProjectDatabases {
  return new SupabaseProjectDatabases({
    api: new SupabaseManagementApi({token: TOKEN, baseUrl: standIn.url, hooks: {sleep: (ms) => sleeper.sleep(ms), now: () => clock.now().getTime()}}),
    authUsers: supabaseAuthUsers,
    organization: ORG,
    region: 'eu-west-1',
    healthyTimeoutMs: 300_000,
    clock,
    sleeper,
    random: systemRandom,
    projectUrl: (ref) => standIn.projectUrl(ref),
    databaseUrl: (project, password) => standIn.databaseUrl(project.ref, password),
    ...projectDatabaseHooks(loaded, () => {}),
    ...overrides,
  })
}

function planned(): DemoDatabase {
  return {mode: 'supabase-project', projectRef: null, url: null, anonKey: null}
}

const CREATED_AT = new Date('2026-11-25T12:00:00Z')
function aDemo(database = planned()) {
  return {id: ID, demoType: 'startup', database, createdAt: CREATED_AT, seedValue: 7}
}

before(async () => {
  standIn = await SupabaseStandIn.start({token: TOKEN, organization: ORG, adminUrl: testDatabaseUrl()})
})
after(async () => standIn.close())
beforeEach(() => {
  sleeper = new FakeSleeper(clock)
  standIn.comingUpPolls = 2
  standIn.organizationPlan = 'pro'
})
afterEach(() => {
  assert.deepEqual(standIn.problems, [], 'every request and response matched the official specs')
  assert.ok(!standIn.log.some((entry) => entry.path.includes(TOKEN)))
})

databasesContract('SupabaseProjectDatabases (mode supabase-project) against the spec-checked stand-in', () => {
  standIn.forgetProjects()
  return adapter()
})

describe('database mode supabase-project against the spec-checked stand-in', () => {
  it('records the project ref before waiting, waits minutes for ACTIVE_HEALTHY with growing pauses, then migrates, seeds and creates the Auth users', async () => {
    standIn.comingUpPolls = 20
    const recorded: DemoDatabase[] = []
    const progress: string[] = []
    const access = await adapter().provision(aDemo(), {
      record: async (database) => {
        recorded.push(database)
        assert.equal([...standIn.projects.values()][0]?.comingUpPolls, 20, 'recorded before the first poll')
      },
      progress: (line) => progress.push(line),
    })
    const project = [...standIn.projects.values()].find((p) => p.name === `demo-${ID}`)
    assert.ok(project)
    assert.deepEqual(recorded, [{mode: 'supabase-project', projectRef: project.ref, url: standIn.projectUrl(project.ref), anonKey: null}])
    assert.deepEqual(access.database, {
      mode: 'supabase-project',
      projectRef: project.ref,
      url: standIn.projectUrl(project.ref),
      anonKey: project.anonKey,
    })
    assert.ok(sleeper.totalMs > 120_000, `waited ${sleeper.totalMs} ms of fake time`)
    assert.ok(
      sleeper.slept.every((ms) => ms >= 2000 && ms <= 15_000),
      'at most 30 polls a minute, far below 120 requests a minute',
    )
    assert.equal(progress.length, 20)
    assert.match(progress[0] ?? '', /is COMING_UP/)
    assert.deepEqual(await query(project.databaseUrl, "SELECT name FROM public.companies WHERE name = 'TechStart Inc'"), [{name: 'TechStart Inc'}])
    const users = await query<{email: string; meta: string}>(
      project.databaseUrl,
      `SELECT email, raw_user_meta_data->>'${DEMO_ID_METADATA}' AS meta FROM auth.users ORDER BY email`,
    )
    assert.deepEqual(
      users,
      PERSONAS.map((email) => ({email, meta: ID})),
    )
    assert.deepEqual(Object.keys(access.secretEnv).sort(), ['DATABASE_URL', 'DEMO_LOGINS', 'SUPABASE_ANON_KEY', 'SUPABASE_URL'])
    assert.ok(!JSON.stringify(access.database).includes(project.password), 'the database password never reaches the row')
    assert.ok(!JSON.stringify(access.database).includes(project.serviceRoleKey), 'the service-role key never reaches the row')
    assert.ok(!progress.join('\n').includes(project.password))
    await adapter().drop({id: ID, database: access.database})
    assert.equal(standIn.projects.size, 0)
  })

  it('adopts the project a killed create left (found by name), with a new database password; destroy and owned() find it', async () => {
    const killed = new Error('killed')
    await assert.rejects(adapter().provision(aDemo(), {record: () => Promise.reject(killed)}), (e) => e === killed)
    const owned = await adapter().owned()
    assert.deepEqual(
      owned.map((o) => o.demoId),
      [ID],
    )
    const access = await adapter().provision(aDemo())
    assert.equal(standIn.projects.size, 1, 'no second project')
    assert.equal(
      access.database.mode === 'supabase-project' && access.database.projectRef,
      owned[0]?.database.mode === 'supabase-project' && owned[0].database.projectRef,
    )
    await adapter().drop({id: ID, database: planned()})
    assert.deepEqual(await adapter().owned(), [])
  })

  it('drops a project deleted behind its back (DELETE answers 404) without error, twice', async () => {
    const access = await adapter().provision(aDemo())
    const ref = access.database.mode === 'supabase-project' ? (access.database.projectRef ?? '') : ''
    standIn.projects.delete(ref)
    await adapter().drop({id: ID, database: access.database})
    await adapter().drop({id: ID, database: access.database})
    assert.ok(standIn.log.some((e) => e.method === 'get' && e.path === `/v1/projects/${ref}` && e.status === 404))
  })

  it('drops a project whose DELETE answers 404 (gone between the lookup and the delete) without error', async () => {
    const access = await adapter().provision(aDemo())
    standIn.faults.push({match: /^delete \/v1\/projects\/[a-z]+$/, status: 404, body: {message: 'Project not found'}, times: 1})
    await adapter().drop({id: ID, database: access.database})
    assert.ok(standIn.log.some((e) => e.method === 'delete' && e.status === 404))
    standIn.faults.length = 0
    await adapter().drop({id: ID, database: access.database})
    assert.equal(standIn.projects.size, 0)
  })

  it('never deletes a project the row names that is not called demo-<id>', async () => {
    const other = await new SupabaseManagementApi({token: TOKEN, baseUrl: standIn.url}).createProject({
      name: 'production',
      organization: ORG,
      region: 'eu-west-1',
      databasePassword: 'x-production-password',
    })
    const database: DemoDatabase = {mode: 'supabase-project', projectRef: other.ref, url: null, anonKey: null}
    await assert.rejects(adapter().drop({id: ID, database}), SupabaseError)
    assert.ok(standIn.projects.has(other.ref))
    await new SupabaseManagementApi({token: TOKEN, baseUrl: standIn.url}).deleteProject(other.ref)
  })

  describe('createDemo with the real adapter', () => {
    let store: MemoryDemoStore
    let cluster: FakeCluster
    let steps: RecordingSteps
    const request: CreateRequest = {
      type: 'startup',
      duration: undefined,
      name: undefined,
      actor: 'alice',
      autoCleanup: true,
      wait: true,
      waitTimeoutMs: 300_000,
      keepOnFailure: false,
    }
    const deps = (databases: SupabaseProjectDatabases): CreateDeps => ({
      config,
      templates,
      store,
      cluster,
      databases,
      databasesFor: databasesFor(databases),
      clock,
      random: sequentialRandom,
      sleeper,
      steps,
      checkpoint: () => {},
      signal: new AbortController().signal,
    })

    beforeEach(() => {
      store = new MemoryDemoStore()
      cluster = new FakeCluster('test')
      steps = new RecordingSteps()
    })

    it('creates a ready demo whose Secret holds the project URL, anon key and database URL, and destroys the project with it', async () => {
      const databases = adapter()
      const {demo} = await createDemo(deps(databases), request)
      assert.equal(demo.status, 'ready')
      assert.equal(demo.database.mode, 'supabase-project')
      const project = [...standIn.projects.values()][0]
      assert.ok(project && demo.database.mode === 'supabase-project' && demo.database.projectRef === project.ref)
      const secret = cluster.namespaces.get(demo.namespace)?.objects.find((o) => o.kind === 'Secret')
      assert.ok(secret)
      const data = (secret as unknown as {stringData: Record<string, string>}).stringData
      assert.equal(data.SUPABASE_URL, standIn.projectUrl(project.ref))
      assert.equal(data.SUPABASE_ANON_KEY, project.anonKey)
      assert.ok(data.DATABASE_URL === project.databaseUrl)
      assert.ok(!Object.values(data).includes(project.serviceRoleKey), 'the service-role key is not in the shared Secret')
      await destroyDemo(
        {
          store,
          clusterFor: async () => cluster,
          databasesFor: databasesFor(databases),
          clock,
          sleeper,
          steps,
          checkpoint: () => {},
          signal: new AbortController().signal,
        },
        {id: demo.id, actor: 'alice', admins: [], trustedIdentities: [], wait: true, timeoutMs: 60_000},
      )
      assert.equal(standIn.projects.size, 0)
    })

    it('a project that never becomes healthy: timeout, the project is deleted, the row says failed', async () => {
      standIn.comingUpPolls = Number.POSITIVE_INFINITY
      const databases = adapter({healthyTimeoutMs: 300_000})
      const error = await createDemo(deps(databases), request).then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(error instanceof CreateFailedError, String(error))
      assert.equal(error.code, new TimeoutError('').code)
      assert.equal(standIn.projects.size, 0, 'the rollback deleted the project')
      const rows = await store.list({}, {limit: 10, offset: 0})
      assert.equal(rows.items[0]?.status, 'failed')
      assert.ok(sleeper.totalMs <= 300_000 && sleeper.totalMs > 250_000, `gave up after ${sleeper.totalMs} ms of fake time`)
      assert.ok(steps.titles.some((t) => t.startsWith('Roll back: drop the database')))
      const said = [error.message, error.hint ?? '', rows.items[0]?.lastError ?? '', JSON.stringify(rows.items[0]), steps.reports.join('\n')].join(
        '\n',
      )
      for (const secret of [TOKEN, ...standIn.retiredSecrets()])
        assert.ok(!said.includes(secret), 'no token, key or password in the error, the row or the progress')
    })

    it('an organization at its project limit: a clear error before any row or namespace exists', async () => {
      standIn.organizationPlan = 'free'
      const api = new SupabaseManagementApi({token: TOKEN, baseUrl: standIn.url})
      const existing = await Promise.all(
        ['shop', 'blog'].map((name) => api.createProject({name, organization: ORG, region: 'eu-west-1', databasePassword: 'x-other-password'})),
      )
      await assert.rejects(
        createDemo(deps(adapter()), request),
        (e: unknown) => e instanceof LimitError && /allows 2 active projects and has 2/.test(e.message),
      )
      assert.equal((await store.list({}, {limit: 10, offset: 0})).total, 0)
      assert.equal(cluster.namespaces.size, 0)
      assert.equal(standIn.projects.size, 2)
      for (const p of existing) await api.deleteProject(p.ref)
    })
  })
})
