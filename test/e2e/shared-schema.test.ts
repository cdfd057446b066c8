// End to end: `database.mode: shared-schema` with the built CLI, the local control plane and a PostgreSQL database
// that holds both the state (demo_orchestrator) and the demos' schemas, as a team sharing one Postgres would.
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {CoreV1Api} from '@kubernetes/client-node'
import {onlyServices} from '../fakes/builders.js'
import {scratchDatabase, tempDir} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliSandbox} from '../support/cli.js'
import {loadTestKubeConfig, namespaceExists} from '../support/k8s.js'
import {schemaAndRole, tableChecksums, withClient} from '../support/shared-schema.js'

const core = loadTestKubeConfig().makeApiClient(CoreV1Api)

const TWO_SERVICES = onlyServices({
  'api-gateway': {image: 'registry.example/api-gateway:1', port: 3000},
  portal: {image: 'registry.example/portal:1', port: 8080, host: 'portal'},
})

let database: {url: string; drop: () => Promise<void>}

before(async () => {
  database = await scratchDatabase('e2e_shared')
})
after(async () => {
  await database.drop()
})

function sandbox(config: Record<string, unknown> = {}, sharedUrl?: string): CliSandbox {
  const box = cliSandbox({config: {...config, database: {mode: 'shared-schema', ...(config.database as object)}}, databaseUrl: database.url})
  box.env.DEMO_SHARED_DATABASE_URL = sharedUrl ?? database.url
  return box
}

async function demoIds(): Promise<string[]> {
  return withClient(database.url, async (client) => {
    const exists = await client.query<{t: string | null}>(`SELECT to_regclass('demo_orchestrator.demo_instances')::text AS t`)
    if (!exists.rows[0]?.t) return []
    const {rows} = await client.query<{id: string}>('SELECT id FROM demo_orchestrator.demo_instances ORDER BY created_at DESC')
    return rows.map((r) => r.id)
  })
}

async function rowOf(id: string): Promise<Record<string, unknown>> {
  return withClient(database.url, async (client) => {
    const {rows} = await client.query('SELECT * FROM demo_orchestrator.demo_instances WHERE id = $1', [id])
    return rows[0] as Record<string, unknown>
  })
}

async function secretEnv(namespace: string): Promise<Record<string, string>> {
  const secret = await core.readNamespacedSecret({name: 'demo-database', namespace})
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}

async function checksums(schema: string): Promise<Record<string, string>> {
  return withClient(database.url, (admin) => tableChecksums(admin, schema))
}

async function leftovers(id: string): Promise<{schema: boolean; role: boolean}> {
  return withClient(database.url, (admin) => schemaAndRole(admin, `demo_${id}`))
}

/** Runs a create that must fail; returns the result, the ids it recorded, and asserts nothing of them is left. */
async function failedCreate(box: CliSandbox, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const known = new Set(await demoIds())
  const result = await runDemo(box, ['create', '--no-wait', ...args], extraEnv)
  const added = (await demoIds()).filter((id) => !known.has(id))
  for (const id of added) {
    assert.deepEqual(await leftovers(id), {schema: false, role: false}, transcript(result))
    assert.equal(await namespaceExists(core, `demo-${id}`), false)
  }
  return {result, added}
}

describe('demo create with database.mode shared-schema on the built-in stack', () => {
  it('creates schema, role, migrations and seed; the Secret URL sees the seeded rows; reset restores them; destroy leaves nothing', async () => {
    const box = sandbox()
    const created = await runDemo(box, ['create', '--type', 'recruiting-agency', '--seed-value', '7', '--json'])
    assert.equal(created.code, 0, transcript(created))
    const view = jsonOf<{id: string; namespace: string; seedValue: number; database: {mode: string; schema: string}}>(created)
    const schema = `demo_${view.id}`
    assert.deepEqual([view.seedValue, view.database.mode, view.database.schema], [7, 'shared-schema', schema])
    const row = await rowOf(view.id)
    assert.deepEqual([row.database_schema, row.seed_value], [schema, 7])
    const env = await secretEnv(view.namespace)
    assert.equal(env.DB_SCHEMA, schema)
    assert.doesNotMatch(JSON.stringify(row), new RegExp(new URL(env.DATABASE_URL ?? '').password), 'the row never holds the password')
    assert.doesNotMatch(created.stdout + created.stderr, new RegExp(new URL(env.DATABASE_URL ?? '').password))
    await withClient(env.DATABASE_URL ?? '', async (client) => {
      const {rows} = await client.query<{u: string; n: number}>('SELECT current_user AS u, (SELECT count(*)::int FROM applications) AS n')
      assert.deepEqual(rows[0], {u: schema, n: 1000})
    })
    const masked = await runDemo(box, ['get', view.id, '--json'])
    const logins = jsonOf<{logins: Array<{role: string; email: string; password: string}>}>(masked).logins
    assert.deepEqual(
      logins.map((l) => [l.role, l.email, l.password]),
      [
        ['admin', 'admin@demo.example', '********'],
        ['recruiter', 'recruiter@demo.example', '********'],
        ['hiring_manager', 'hiring.manager@demo.example', '********'],
        ['candidate', 'candidate@demo.example', '********'],
      ],
    )
    const shown = jsonOf<{logins: Array<{password: string}>}>(await runDemo(box, ['get', view.id, '--json', '--show-secrets'])).logins
    const passwords = JSON.parse(env.DEMO_LOGINS ?? '[]') as Array<{password: string}>
    assert.deepEqual(
      shown.map((l) => l.password),
      passwords.map((l) => l.password),
    )
    for (const {password} of passwords)
      assert.ok(!(masked.stdout + masked.stderr + created.stdout + created.stderr).includes(password), 'no password without --show-secrets')
    const seeded = await checksums(schema)
    await withClient(env.DATABASE_URL ?? '', async (client) => {
      await client.query(`DELETE FROM recruiter_assignments; DELETE FROM applications WHERE stage = 'hired'; UPDATE jobs SET title = 'x'`)
    })
    const reset = await runDemo(box, ['reset', view.id, '--json'])
    assert.equal(reset.code, 0, transcript(reset))
    assert.deepEqual(await checksums(schema), seeded)
    const got = jsonOf<{events: Array<{type: string; data: {seedValue?: number}}>}>(await runDemo(box, ['get', view.id, '--json']))
    assert.deepEqual(
      got.events.filter((e) => e.type === 'reset').map((e) => e.data.seedValue),
      [7],
    )
    const destroyed = await runDemo(box, ['destroy', view.id, '--yes'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.deepEqual(await leftovers(view.id), {schema: false, role: false})
  })

  it('gives identical data (a checksum of every table) to two demos of the same type and seed value', async () => {
    const box = sandbox({services: TWO_SERVICES})
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const created = await runDemo(box, ['create', '--type', 'startup', '--seed-value', '3', '--no-wait', '--json'])
      assert.equal(created.code, 0, transcript(created))
      ids.push(jsonOf<{id: string}>(created).id)
    }
    const [a, b] = await Promise.all(ids.map((id) => checksums(`demo_${id}`)))
    assert.equal(Object.keys(a ?? {}).length, 7)
    assert.deepEqual(a, b)
    for (const id of ids) assert.equal((await runDemo(box, ['destroy', id, '--yes'])).code, 0)
  })

  it('a kill right after the database step leaves a schema that destroy removes', async () => {
    const box = sandbox({services: TWO_SERVICES})
    const known = new Set(await demoIds())
    const killed = await runDemo(box, ['create', '--type', 'startup', '--no-wait'], {DEMO_TEST_KILL_AT: 'database'})
    assert.equal(killed.signal, 'SIGKILL', transcript(killed))
    const id = (await demoIds()).find((x) => !known.has(x))
    assert.ok(id)
    assert.deepEqual(await leftovers(id), {schema: true, role: true})
    const destroyed = await runDemo(box, ['destroy', id, '--yes'])
    assert.equal(destroyed.code, 0, transcript(destroyed))
    assert.deepEqual(await leftovers(id), {schema: false, role: false})
  })
})

describe('shared-schema faults and bad input: a clear error and nothing left', () => {
  it('an unreachable shared database fails before any row or namespace exists', async () => {
    const closed = new URL(database.url)
    closed.port = '1'
    const {result, added} = await failedCreate(sandbox({services: TWO_SERVICES}, closed.toString()), [])
    assert.equal(result.code, 1, transcript(result))
    assert.match(result.stderr, /E_DATABASE_UNREACHABLE|Cannot connect to the shared database/)
    assert.deepEqual(added, [])
  })

  it('a broken migration rolls back: no schema, no role, no namespace, and the error names the file and line', async () => {
    const box = sandbox({services: TWO_SERVICES, database: {migrationsDir: 'db'}})
    mkdirSync(join(box.dir, 'db'))
    writeFileSync(join(box.dir, 'db', '0001_init.sql'), 'CREATE TABLE users (id int);\n')
    writeFileSync(join(box.dir, 'db', '0002_broken.sql'), 'CREATE TABLE jobs (id int);\nCREATE TABLE jobs (id int);\n')
    const {result, added} = await failedCreate(box, ['--type', 'startup'])
    assert.equal(result.code, 1, transcript(result))
    assert.match(result.stderr, /0002_broken\.sql failed at line 2/)
    assert.equal(added.length, 1)
  })

  it('refuses an unknown seed, a non-numeric --seed-value and a migrations directory outside the project with exit 2 before writing', async () => {
    const unknown = await failedCreate(sandbox({services: TWO_SERVICES, types: {sales: {seed: 'no-such-seed'}}}), ['--type', 'sales'])
    assert.equal(unknown.result.code, 2, transcript(unknown.result))
    assert.match(unknown.result.stderr, /Seed "no-such-seed" does not exist/)
    assert.deepEqual(unknown.added, [])
    const bad = await failedCreate(sandbox({services: TWO_SERVICES}), ['--seed-value', 'abc'])
    assert.equal(bad.result.code, 2, transcript(bad.result))
    assert.match(bad.result.stderr, /--seed-value "abc" is not a seed value/)
    assert.deepEqual(bad.added, [])
    const outside = await failedCreate(sandbox({services: TWO_SERVICES, database: {migrationsDir: tempDir()}}), [])
    assert.equal(outside.result.code, 2, transcript(outside.result))
    assert.match(outside.result.stderr, /database\.migrationsDir.*is outside the project/)
    assert.deepEqual(outside.added, [])
  })

  it('a seed command that fails, or runs past its timeout, rolls the demo back with E_SEED', async () => {
    const failing = sandbox({
      services: TWO_SERVICES,
      types: {cmd: {seedCommand: {run: [process.execPath, '-e', 'console.log("loading"); process.exit(4)']}}},
    })
    const one = await failedCreate(failing, ['--type', 'cmd'])
    assert.equal(one.result.code, 1, transcript(one.result))
    assert.match(one.result.stderr, /seed command .* failed \(exit code 4\)/)
    assert.equal(one.added.length, 1)
    const slow = sandbox({
      services: TWO_SERVICES,
      types: {cmd: {seedCommand: {run: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeoutSeconds: 1}}},
    })
    const two = await failedCreate(slow, ['--type', 'cmd'])
    assert.equal(two.result.code, 1, transcript(two.result))
    assert.match(two.result.stderr, /did not finish within 1 s/)
  })
})
