// demo doctor with database.mode shared-schema, through the built CLI against real Postgres: the shared database is
// the file's own scratch database, reached as login roles made here that lack one privilege each (CREATEROLE, CREATE
// on the database) and one that has both; then with schema public opened to every role, unreachable, and unset.
// Each failing line names the missing privilege and the exact statement; no password is ever printed.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'
import {scratchDatabase} from '../support/databases.js'
import {cliSandbox, jsonOf, runDemo, transcript, type CliResult, type CliSandbox} from '../support/cli.js'
import {withClient} from '../support/shared-schema.js'

interface Check {
  name: string
  ok: boolean
  detail: string
  fix?: string
}

const suffix = randomBytes(4).toString('hex')
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`
const ROLES = {full: `doc_full_${suffix}`, noCreateRole: `doc_nocr_${suffix}`, noCreate: `doc_nocreate_${suffix}`}

let database: {url: string; drop: () => Promise<void>}
let dbName: string
let box: CliSandbox

function urlAs(role: string, edit: (url: URL) => void = () => {}): string {
  const url = new URL(database.url)
  url.username = role
  url.password = PASSWORD
  edit(url)
  return url.toString()
}

async function doctor(env: NodeJS.ProcessEnv): Promise<{result: CliResult; checks: Record<string, Check>}> {
  const result = await runDemo(box, ['doctor', '--json'], env)
  // The run's own password ("demo_test") is also part of every name here, so only its URL form is looked for.
  const secrets = [PASSWORD, `:${new URL(database.url).password}@`]
  for (const secret of secrets)
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `a password was printed:\n${transcript(result)}`)
  const report = jsonOf<{ok: boolean; checks: Check[]}>(result)
  return {result, checks: Object.fromEntries(report.checks.filter((c) => c.name.startsWith('shared-db')).map((c) => [c.name, c]))}
}

before(async () => {
  database = await scratchDatabase('e2e_doctor_db')
  dbName = new URL(database.url).pathname.slice(1)
  box = cliSandbox({config: {database: {mode: 'shared-schema'}}, databaseUrl: database.url})
  await withClient(database.url, async (admin) => {
    await admin.query(`CREATE ROLE ${ROLES.full} LOGIN CREATEROLE PASSWORD '${PASSWORD}'`)
    await admin.query(`CREATE ROLE ${ROLES.noCreateRole} LOGIN PASSWORD '${PASSWORD}'`)
    await admin.query(`CREATE ROLE ${ROLES.noCreate} LOGIN CREATEROLE PASSWORD '${PASSWORD}'`)
    await admin.query(`GRANT CREATE ON DATABASE "${dbName}" TO ${ROLES.full}, ${ROLES.noCreateRole}`)
  })
})
after(async () => {
  await database.drop()
  await withClient(baseUrl(), async (admin) => {
    for (const role of Object.values(ROLES)) await admin.query(`DROP ROLE IF EXISTS ${role}`)
  })
})

/** The run's database (the scratch one is dropped by then). */
function baseUrl(): string {
  const url = process.env.DEMO_TEST_DATABASE_URL
  assert.ok(url)
  return url
}

describe('demo doctor: the shared database (mode shared-schema, built CLI, real Postgres)', () => {
  it('passes every shared-db line for a role with CREATEROLE and CREATE on the database', async () => {
    const {result, checks} = await doctor({DEMO_SHARED_DATABASE_URL: urlAs(ROLES.full)})
    assert.deepEqual(
      Object.values(checks).map((c) => [c.name, c.ok]),
      [
        ['shared-db', true],
        ['shared-db-roles', true],
        ['shared-db-schemas', true],
        ['shared-db-public', true],
      ],
      transcript(result),
    )
    assert.match(checks['shared-db']?.detail ?? '', new RegExp(`^[a-z0-9.-]+:\\d+/${dbName} as role "${ROLES.full}", PostgreSQL \\d+.*: reachable$`))
    assert.equal(checks['shared-db-roles']?.detail, `role "${ROLES.full}" has CREATEROLE`)
    assert.equal(checks['shared-db-schemas']?.detail, `role "${ROLES.full}" has CREATE on database ${dbName}`)
  })

  it('fails shared-db-roles for a role without CREATEROLE, naming the ALTER ROLE (exit 1)', async () => {
    const {result, checks} = await doctor({DEMO_SHARED_DATABASE_URL: urlAs(ROLES.noCreateRole)})
    assert.equal(result.code, 1, transcript(result))
    assert.equal(checks['shared-db']?.ok, true)
    assert.deepEqual(checks['shared-db-roles'], {
      name: 'shared-db-roles',
      ok: false,
      detail: `role "${ROLES.noCreateRole}" lacks CREATEROLE: create cannot make a login role per demo`,
      fix: `As a superuser run: ALTER ROLE "${ROLES.noCreateRole}" CREATEROLE;`,
    })
    assert.equal(checks['shared-db-schemas']?.ok, true)
  })

  it('fails shared-db-schemas for a role without CREATE on the database, naming the GRANT (exit 1)', async () => {
    const {result, checks} = await doctor({DEMO_SHARED_DATABASE_URL: urlAs(ROLES.noCreate)})
    assert.equal(result.code, 1, transcript(result))
    assert.equal(checks['shared-db-roles']?.ok, true)
    assert.deepEqual(checks['shared-db-schemas'], {
      name: 'shared-db-schemas',
      ok: false,
      detail: `role "${ROLES.noCreate}" lacks CREATE on database ${dbName}: create cannot make a schema per demo`,
      fix: `As a superuser run: GRANT CREATE ON DATABASE "${dbName}" TO "${ROLES.noCreate}";`,
    })
  })

  it('the plain-text report shows the failing line and its fix', async () => {
    const result = await runDemo(box, ['doctor'], {DEMO_SHARED_DATABASE_URL: urlAs(ROLES.noCreate)})
    assert.equal(result.code, 1, transcript(result))
    assert.match(result.stdout, /^ok +shared-db-roles +/m)
    assert.match(result.stdout, new RegExp(`^FAIL +shared-db-schemas +role "${ROLES.noCreate}" lacks CREATE on database ${dbName}`, 'm'))
    assert.ok(result.stdout.includes(`fix: As a superuser run: GRANT CREATE ON DATABASE "${dbName}" TO "${ROLES.noCreate}";`), transcript(result))
    assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD))
  })

  it('fails shared-db-public while every role may create objects in schema public, with the REVOKE', async () => {
    await withClient(database.url, (admin) => admin.query('GRANT CREATE ON SCHEMA public TO PUBLIC'))
    try {
      const {checks} = await doctor({DEMO_SHARED_DATABASE_URL: urlAs(ROLES.full)})
      assert.equal(checks['shared-db-public']?.ok, false)
      assert.match(checks['shared-db-public']?.fix ?? '', /REVOKE CREATE ON SCHEMA public FROM PUBLIC;$/)
    } finally {
      await withClient(database.url, (admin) => admin.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC'))
    }
  })

  it('reads the variable database.urlEnv names, and reports an unreachable server without its password', async () => {
    const named = cliSandbox({config: {database: {mode: 'shared-schema', urlEnv: 'APP_ADMIN_DB'}}, databaseUrl: database.url})
    const ok = await runDemo(named, ['doctor', '--json'], {APP_ADMIN_DB: urlAs(ROLES.full)})
    assert.equal(jsonOf<{checks: Check[]}>(ok).checks.find((c) => c.name === 'shared-db-roles')?.ok, true, transcript(ok))
    const {result, checks} = await doctor({DEMO_SHARED_DATABASE_URL: urlAs(ROLES.full, (url) => (url.port = '1'))})
    assert.equal(result.code, 1)
    assert.equal(checks['shared-db']?.ok, false)
    assert.match(checks['shared-db']?.detail ?? '', new RegExp(`^Cannot connect to the shared database .* at [a-z0-9.-]+:1/${dbName}: `))
    assert.match(checks['shared-db-roles']?.detail ?? '', /^skipped: the shared database cannot be reached$/)
  })

  it('fails with the variable to set when the shared database URL is not set', async () => {
    const {result, checks} = await doctor({})
    assert.equal(result.code, 1)
    assert.equal(checks['shared-db']?.ok, false)
    assert.match(checks['shared-db']?.detail ?? '', /DEMO_SHARED_DATABASE_URL is not set/)
    assert.match(checks['shared-db']?.fix ?? '', /^Set DEMO_SHARED_DATABASE_URL to postgres:\/\//)
  })
})
