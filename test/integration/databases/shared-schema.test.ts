import assert from 'node:assert/strict'
import {randomBytes, scryptSync} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {readMigrations} from '../../../src/adapters/databases/postgres/migrations.js'
import {openStore} from '../../../src/adapters/postgres/open-store.js'
import type {DemoDatabase} from '../../../src/core/demo.js'
import {makeId} from '../../../src/core/naming.js'
import {databasesContract} from '../../contract/databases.contract.js'
import {scratchDatabase, tempDir} from '../../support/databases.js'
import {BUILT_IN_MIGRATIONS, schemaAndRole, sharedSchema, sqlStateOf, tableChecksums, withClient} from '../../support/shared-schema.js'

const newId = (): string => makeId(new Uint8Array(randomBytes(16)))
const createdAt = new Date('2026-11-25T12:00:00Z')

let url = ''
let drop: (() => Promise<void>) | undefined

before(async () => {
  ;({url, drop} = await scratchDatabase('shared'))
})
after(async () => {
  await drop?.()
})

/** Provisions a demo of `type` and returns its id, schema and the Secret's environment. */
async function provisioned(type = 'recruiting-agency', seedValue = 7): Promise<{id: string; database: DemoDatabase; env: Record<string, string>}> {
  const databases = sharedSchema(url)
  const id = newId()
  const access = await databases.provision({id, demoType: type, database: databases.planned(id), createdAt, seedValue})
  return {id, database: access.database, env: access.secretEnv}
}

describe('shared-schema on real PostgreSQL', () => {
  describe('contract', () => {
    databasesContract('SharedSchemaDatabases', () => sharedSchema(url), {id: newId()})
  })

  it('creates the schema and role, applies the migrations, loads the seed, and the Secret URL connects as the role and sees the rows', async () => {
    const {id, env} = await provisioned()
    const schema = `demo_${id}`
    assert.equal(env.DB_SCHEMA, schema)
    assert.match(env.DATABASE_URL ?? '', new RegExp(`^postgres://${schema}:`))
    await withClient(url, async (admin) => {
      assert.deepEqual(await schemaAndRole(admin, schema), {schema: true, role: true})
      const {rows} = await admin.query(`SELECT name FROM "${schema}".schema_migrations ORDER BY name`)
      assert.deepEqual(
        rows.map((r: {name: string}) => r.name),
        readMigrations(BUILT_IN_MIGRATIONS).map((f) => f.name),
      )
      const role = await admin.query('SELECT rolconnlimit, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1', [schema])
      assert.deepEqual(role.rows[0], {rolconnlimit: 5, rolcreaterole: false, rolcreatedb: false})
    })
    await withClient(env.DATABASE_URL ?? '', async (client) => {
      const who = await client.query<{user: string; path: string}>('SELECT current_user AS user, current_setting($1) AS path', ['search_path'])
      assert.deepEqual(who.rows[0], {user: schema, path: schema})
      const counts = await client.query<{companies: number; jobs: number; candidates: number; applications: number}>(
        `SELECT (SELECT count(*)::int FROM companies) AS companies, (SELECT count(*)::int FROM jobs) AS jobs,
                (SELECT count(*)::int FROM candidates) AS candidates, (SELECT count(*)::int FROM applications) AS applications`,
      )
      assert.deepEqual(counts.rows[0], {companies: 11, jobs: 40, candidates: 400, applications: 1000})
      const named = await client.query(`SELECT name FROM companies WHERE name IN ('Acme Corporation', 'TechStart Inc') ORDER BY name`)
      assert.equal(named.rows.length, 2)
    })
  })

  it('gives every persona a login whose password verifies against the scrypt hash stored in users', async () => {
    const {id, env} = await provisioned()
    const logins = JSON.parse(env.DEMO_LOGINS ?? '[]') as Array<{email: string; password: string}>
    assert.ok(logins.length >= 4, `personas: ${logins.length}`)
    const {rows} = await withClient(url, (admin) =>
      admin.query<{email: string; password_hash: string}>(`SELECT email, password_hash FROM "demo_${id}".users WHERE password_hash IS NOT NULL`),
    )
    const stored = new Map(rows.map((r) => [r.email, r.password_hash]))
    assert.equal(stored.size, logins.length)
    for (const login of logins) {
      const [kind, salt, hash] = (stored.get(login.email) ?? '').split('$')
      assert.equal(kind, 'scrypt', login.email)
      assert.equal(scryptSync(login.password, Buffer.from(salt ?? '', 'hex'), 32).toString('hex'), hash, login.email)
    }
  })

  it('isolates each demo: no access to another demo schema, no objects in public, no access to demo_orchestrator', async () => {
    const opened = await openStore({databaseUrl: url, stateDir: tempDir()})
    await opened.close()
    const a = await provisioned('startup')
    const b = await provisioned('startup')
    const asA = a.env.DATABASE_URL ?? ''
    const other = `demo_${b.id}`
    assert.equal(await sqlStateOf(asA, `SELECT * FROM "${other}".users`), '42501')
    assert.equal(
      await sqlStateOf(asA, `INSERT INTO "${other}".companies (id, name, industry, website, created_at) VALUES (99, 'x', 'x', 'x', now())`),
      '42501',
    )
    assert.equal(await sqlStateOf(asA, `CREATE TABLE "${other}".intruder (id int)`), '42501')
    assert.equal(await sqlStateOf(asA, 'CREATE TABLE public.intruder (id int)'), '42501')
    assert.equal(await sqlStateOf(asA, 'SELECT * FROM demo_orchestrator.demo_instances'), '42501')
    assert.equal(await sqlStateOf(asA, 'CREATE SCHEMA intruder'), '42501')
    assert.equal(await sqlStateOf(asA, `SET ROLE "${other}"`), '42501')
    assert.equal(await sqlStateOf(asA, 'CREATE TABLE mine (id int)'), 'ok')
  })

  it('refuses sessions beyond the role connection limit', async () => {
    const {env} = await provisioned('startup')
    const clients = await Promise.all(
      Array.from({length: 5}, async () => {
        const client = new (await import('pg')).default.Client({connectionString: env.DATABASE_URL})
        await client.connect()
        return client
      }),
    )
    try {
      assert.equal(await sqlStateOf(env.DATABASE_URL ?? '', 'SELECT 1').catch((e: {code?: string}) => e.code), '53300')
    } finally {
      await Promise.all(clients.map((c) => c.end()))
    }
  })

  it('gives byte-identical data for the same type and seed value, and different data for another seed value', async () => {
    const one = await provisioned('recruiting-agency', 11)
    const two = await provisioned('recruiting-agency', 11)
    const three = await provisioned('recruiting-agency', 12)
    await withClient(url, async (admin) => {
      const sums = await tableChecksums(admin, `demo_${one.id}`)
      assert.equal(Object.keys(sums).length, 7)
      assert.deepEqual(await tableChecksums(admin, `demo_${two.id}`), sums)
      assert.notDeepEqual((await tableChecksums(admin, `demo_${three.id}`)).candidates, sums.candidates)
    })
  })

  it('reset restores exactly the seeded state after rows were changed and deleted, and logins keep their passwords', async () => {
    const databases = sharedSchema(url)
    const {id, database} = await provisioned('recruiting-agency', 5)
    const schema = `demo_${id}`
    await withClient(url, async (admin) => {
      const seeded = await tableChecksums(admin, schema)
      const hashes = await admin.query(`SELECT email, password_hash FROM "${schema}".users WHERE password_hash IS NOT NULL ORDER BY email`)
      assert.equal(hashes.rows.length, 4)
      await admin.query(`DELETE FROM "${schema}".recruiter_assignments`)
      await admin.query(`DELETE FROM "${schema}".applications WHERE id % 3 = 0`)
      await admin.query(`UPDATE "${schema}".candidates SET full_name = 'Changed'`)
      await admin.query(`INSERT INTO "${schema}".companies (id, name, industry, website, created_at) VALUES (999, 'New', 'x', 'x', now())`)
      assert.notDeepEqual(await tableChecksums(admin, schema), seeded)
      await databases.reseed({id, demoType: 'recruiting-agency', database, createdAt}, 5)
      assert.deepEqual(await tableChecksums(admin, schema), seeded)
      assert.deepEqual(
        (await admin.query(`SELECT email, password_hash FROM "${schema}".users WHERE password_hash IS NOT NULL ORDER BY email`)).rows,
        hashes.rows,
      )
      await databases.reseed({id, demoType: 'recruiting-agency', database, createdAt}, 6)
      assert.notDeepEqual((await tableChecksums(admin, schema)).candidates, seeded.candidates)
    })
  })

  it('drops the schema and role even while the role holds a session, and dropping again is no error', async () => {
    const databases = sharedSchema(url)
    const {id, database, env} = await provisioned('startup')
    const session = new (await import('pg')).default.Client({connectionString: env.DATABASE_URL})
    session.on('error', () => {})
    await session.connect()
    await databases.drop({id, database})
    await databases.drop({id, database})
    await withClient(url, async (admin) => assert.deepEqual(await schemaAndRole(admin, `demo_${id}`), {schema: false, role: false}))
    await session.end().catch(() => {})
  })

  it('a broken migration rolls everything back and the error names the file and the line', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, '0001_init.sql'), 'CREATE TABLE users (id int PRIMARY KEY, email text);\n')
    writeFileSync(
      join(dir, '0002_broken.sql'),
      '-- jobs\nCREATE TABLE jobs (id int);\n\nINSERT INTO jobs (id)\n  VALUES (1);\nSELECT no_such_column\n  FROM jobs;\n',
    )
    const databases = sharedSchema(url, {migrations: () => readMigrations(dir), seedFor: () => ({kind: 'none'})})
    const id = newId()
    await assert.rejects(
      databases.provision({id, demoType: 'startup', database: databases.planned(id), createdAt, seedValue: 1}),
      (error: Error & {code?: string}) => {
        assert.equal(error.code, 'E_MIGRATION')
        assert.match(error.message, /0002_broken\.sql failed at line 6: column "no_such_column" does not exist/)
        return true
      },
    )
    await withClient(url, async (admin) => assert.deepEqual(await schemaAndRole(admin, `demo_${id}`), {schema: false, role: false}))
  })

  it('a failing SQL seed file rolls everything back and names the file', async () => {
    const databases = sharedSchema(url, {
      seedFor: () => ({kind: 'sql', file: {name: 'my-seed.sql', text: "INSERT INTO companies (id) VALUES ('x');"}}),
    })
    const id = newId()
    await assert.rejects(
      databases.provision({id, demoType: 'startup', database: databases.planned(id), createdAt, seedValue: 1}),
      /E_SEED|my-seed\.sql failed at line 1/,
    )
    await withClient(url, async (admin) => assert.deepEqual(await schemaAndRole(admin, `demo_${id}`), {schema: false, role: false}))
  })

  it('runs a seed command with the demo DATABASE_URL, and reports a failing or timed-out one as E_SEED', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'bin'))
    const script = join(dir, 'bin', 'seed.mjs')
    writeFileSync(
      script,
      `import pg from '${import.meta.resolve('pg')}'\nconst c = new pg.Client({connectionString: process.env.DATABASE_URL}); await c.connect()\nawait c.query("INSERT INTO companies (id, name, industry, website, created_at) VALUES (1, 'Cmd Co', 'x', 'x', now())")\nconsole.log('seeded as', (await c.query('SELECT current_user AS u')).rows[0].u)\nawait c.end()\n`,
    )
    const lines: string[] = []
    const command = (run: string[], timeoutMs = 30_000) =>
      sharedSchema(url, {seedFor: () => ({kind: 'command', command: run, cwd: dir, timeoutMs}), output: (line) => lines.push(line)})
    const ok = command([process.execPath, script])
    const id = newId()
    await ok.provision({id, demoType: 'startup', database: ok.planned(id), createdAt, seedValue: 1})
    assert.deepEqual(lines, [`seeded as demo_${id}`])
    await ok.drop({id, database: ok.planned(id)})
    await assert.rejects(
      command([process.execPath, '-e', 'process.exit(3)']).provision({id, demoType: 'startup', database: ok.planned(id), createdAt, seedValue: 1}),
      /exit code 3/,
    )
    await assert.rejects(
      command([process.execPath, '-e', 'setTimeout(() => {}, 60000)'], 500).provision({
        id,
        demoType: 'startup',
        database: ok.planned(id),
        createdAt,
        seedValue: 1,
      }),
      /did not finish within 0.5 s/,
    )
  })

  it('lists only schemas and roles with our mark for this database, never demo_orchestrator or a hand-made schema', async () => {
    const databases = sharedSchema(url)
    await withClient(url, async (admin) => {
      await admin.query('CREATE SCHEMA IF NOT EXISTS demo_handmade1')
    })
    const {id} = await provisioned('startup')
    const owned = await databases.owned()
    assert.ok(owned.some((o) => o.demoId === id && o.name === `schema and role demo_${id}`))
    assert.ok(owned.every((o) => /^[a-z][a-z0-9]{5,31}$/.test(o.demoId) && o.demoId !== 'orchestrator' && o.demoId !== 'handmade1'))
  })

  it('fails the up-front check with a clear error when the shared database is unreachable', async () => {
    const closed = new URL(url)
    closed.port = '1'
    await assert.rejects(sharedSchema(closed.toString()).check('startup'), (error: Error & {code?: string; hint?: string}) => {
      assert.equal(error.code, 'E_DATABASE_UNREACHABLE')
      assert.doesNotMatch(error.message, /demo_test@|:demo_test@/)
      return true
    })
  })

  it('fails the up-front check naming the exact GRANT when the role lacks CREATEROLE', async () => {
    const role = `nocr_${newId()}`
    await withClient(url, (admin) => admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`))
    try {
      const limited = new URL(url)
      limited.username = role
      limited.password = 'pw'
      await assert.rejects(sharedSchema(limited.toString()).check('startup'), (error: Error & {code?: string; hint?: string}) => {
        assert.equal(error.code, 'E_DATABASE')
        assert.match(error.hint ?? '', new RegExp(`ALTER ROLE "${role}" CREATEROLE;`))
        return true
      })
    } finally {
      await withClient(url, (admin) => admin.query(`DROP ROLE ${role}`))
    }
  })
})
