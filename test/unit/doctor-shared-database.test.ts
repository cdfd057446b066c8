// demo doctor's shared database lines (database.mode shared-schema), judged from the facts the adapter reads.
// The same facts read from a real server, for roles lacking each privilege: test/integration/databases/doctor-privileges.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {checkSharedDatabase, diagnose, type CheckResult, type DoctorDeps} from '../../src/core/doctor.js'
import {DatabaseUnavailableError} from '../../src/core/errors.js'
import {missingPrivileges, type SharedDatabasePrivileges} from '../../src/core/shared-database.js'

const ALL: SharedDatabasePrivileges = {
  where: 'db.example.test:5432/app',
  role: 'demo_admin',
  database: 'app',
  serverVersion: '16.4',
  superuser: false,
  createRole: true,
  createOnDatabase: true,
  publicMayCreateInPublic: false,
}

const byName = (checks: CheckResult[]): Record<string, CheckResult> => Object.fromEntries(checks.map((c) => [c.name, c]))

describe('checkSharedDatabase', () => {
  it('passes four lines for a role with CREATEROLE and CREATE on the database, public closed', async () => {
    const checks = await checkSharedDatabase(async () => ALL)
    assert.deepEqual(
      checks.map((c) => [c.name, c.ok]),
      [
        ['shared-db', true],
        ['shared-db-roles', true],
        ['shared-db-schemas', true],
        ['shared-db-public', true],
      ],
    )
    assert.equal(checks[0]?.detail, 'db.example.test:5432/app as role "demo_admin", PostgreSQL 16.4: reachable')
  })

  it('names a missing CREATEROLE and the exact ALTER ROLE', async () => {
    const checks = byName(await checkSharedDatabase(async () => ({...ALL, createRole: false})))
    assert.deepEqual(checks['shared-db-roles'], {
      name: 'shared-db-roles',
      ok: false,
      detail: 'role "demo_admin" lacks CREATEROLE: create cannot make a login role per demo',
      fix: 'As a superuser run: ALTER ROLE "demo_admin" CREATEROLE;',
    })
    assert.equal(checks['shared-db-schemas']?.ok, true)
  })

  it('names a missing CREATE on the database and the exact GRANT', async () => {
    const checks = byName(await checkSharedDatabase(async () => ({...ALL, createOnDatabase: false})))
    assert.equal(checks['shared-db-schemas']?.ok, false)
    assert.equal(checks['shared-db-schemas']?.detail, 'role "demo_admin" lacks CREATE on database app: create cannot make a schema per demo')
    assert.equal(checks['shared-db-schemas']?.fix, 'As a superuser run: GRANT CREATE ON DATABASE "app" TO "demo_admin";')
    assert.equal(checks['shared-db-roles']?.ok, true)
  })

  it('fails when every role may create in schema public, with the REVOKE', async () => {
    const checks = byName(await checkSharedDatabase(async () => ({...ALL, publicMayCreateInPublic: true})))
    assert.equal(checks['shared-db-public']?.ok, false)
    assert.match(checks['shared-db-public']?.fix ?? '', /REVOKE CREATE ON SCHEMA public FROM PUBLIC;$/)
  })

  it('takes a superuser as having both privileges', async () => {
    const superuser = {...ALL, superuser: true, createRole: false, createOnDatabase: false}
    assert.deepEqual(missingPrivileges(superuser), [])
    const checks = await checkSharedDatabase(async () => superuser)
    assert.ok(checks.every((c) => c.ok))
  })

  it('reports an unreachable database with its hint and skips the privilege lines', async () => {
    const checks = await checkSharedDatabase(async () => {
      throw new DatabaseUnavailableError('Cannot connect to the shared database at db.example.test:5432/app: refused.', {hint: 'Check the URL.'})
    })
    assert.deepEqual(
      checks.map((c) => [c.name, c.ok, c.fix]),
      [
        ['shared-db', false, 'Check the URL.'],
        ['shared-db-roles', false, 'Check the URL.'],
        ['shared-db-schemas', false, 'Check the URL.'],
        ['shared-db-public', false, 'Check the URL.'],
      ],
    )
    assert.match(checks[1]?.detail ?? '', /^skipped/)
  })
})

describe('diagnose and the database mode', () => {
  const deps = (databaseMode: string, asked: string[]): DoctorDeps => ({
    nodeVersion: '24.0.0',
    config: async () => ({configPath: null, ingressClass: 'nginx', databaseMode}),
    store: async () => ({describe: () => 'embedded store'}),
    cluster: async () => {
      throw new Error('no cluster here')
    },
    sharedDatabase: async () => {
      asked.push('shared')
      return ALL
    },
  })

  it('checks the shared database only in mode shared-schema', async () => {
    const asked: string[] = []
    const none = await diagnose(deps('none', asked))
    assert.equal(asked.length, 0)
    assert.ok(!none.some((c) => c.name.startsWith('shared-db')))
    const shared = await diagnose(deps('shared-schema', asked))
    assert.deepEqual(asked, ['shared'])
    assert.deepEqual(
      shared.filter((c) => c.name.startsWith('shared-db')).map((c) => c.name),
      ['shared-db', 'shared-db-roles', 'shared-db-schemas', 'shared-db-public'],
    )
  })
})
