// shared-schema on a Supabase project: the real adapter (plain shared-schema over real Postgres, wrapped by
// SupabaseSharedSchemaDatabases) against the spec-checked stand-in, whose shared project's database is a scratch
// database of this file with Supabase's Data API roles.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {supabaseAuthUsers} from '../../../src/adapters/supabase/auth-users.js'
import {SupabaseManagementApi} from '../../../src/adapters/supabase/management-client.js'
import {authEmail, SupabaseSharedSchemaDatabases} from '../../../src/adapters/supabase/shared-project-databases.js'
import {databasesContract} from '../../contract/databases.contract.js'
import {scratchDatabase, testDatabaseUrl} from '../../support/databases.js'
import {sharedSchema, withClient} from '../../support/shared-schema.js'
import {ensureDataApiRoles, SupabaseStandIn, type StandInProject} from '../../support/supabase-stand-in.js'

const TOKEN = 'sbp_shared_project_token'
let database: {url: string; drop: () => Promise<void>}
let standIn: SupabaseStandIn
let shared: StandInProject

before(async () => {
  database = await scratchDatabase('sb_shared')
  await ensureDataApiRoles(database.url)
  standIn = await SupabaseStandIn.start({token: TOKEN, organization: 'acme', adminUrl: testDatabaseUrl()})
  shared = standIn.addSharedProject(database.url)
})
after(async () => {
  await standIn.close()
  await database.drop()
})

function adapter(): SupabaseSharedSchemaDatabases {
  return new SupabaseSharedSchemaDatabases({
    inner: sharedSchema(database.url),
    api: new SupabaseManagementApi({token: TOKEN, baseUrl: standIn.url}),
    projectRef: shared.ref,
    adminUrl: database.url,
    authUsers: supabaseAuthUsers,
    projectUrl: (ref) => standIn.projectUrl(ref),
  })
}

// Roles are server-wide: an id of this run's own.
const ID = `sp${Date.now().toString(36).slice(-6)}`

databasesContract('SupabaseSharedSchemaDatabases (shared-schema on a Supabase project) against the stand-in', adapter, {id: ID})

describe('shared-schema on a Supabase project (real Postgres, spec-checked stand-in)', () => {
  it('grants the schema to anon as Supabase documents: the Data API counts the seeded rows as anon, also of a table made later', async () => {
    const databases = adapter()
    const demo = {id: ID, demoType: 'startup', database: databases.planned(ID), createdAt: new Date('2026-11-25T12:00:00Z'), seedValue: 3}
    const access = await databases.provision(demo)
    const schema = `demo_${ID}`
    assert.equal(access.serviceRoleEnv?.SUPABASE_SERVICE_ROLE_KEY, shared.serviceRoleKey)
    assert.ok(!Object.values(access.secretEnv).includes(shared.serviceRoleKey))
    const check = await databases.checkDataApi({id: ID, database: access.database})
    assert.equal(check?.healthy, true, check?.detail)
    const logins = JSON.parse(access.secretEnv.DEMO_LOGINS ?? '[]') as Array<{email: string; authEmail: string}>
    assert.deepEqual(
      logins.map((l) => l.authEmail),
      logins.map((l) => authEmail(l.email, ID)),
    )
    // Default privileges: a table the schema's owner creates after the grants is readable by anon too.
    await withClient(database.url, async (client) => {
      await client.query(`SET ROLE ${schema}`)
      await client.query(`CREATE TABLE ${schema}.later (id int)`)
      await client.query('RESET ROLE')
      await client.query('BEGIN')
      await client.query('SET LOCAL ROLE anon')
      await client.query(`SELECT count(*) FROM ${schema}.later`)
      await client.query('ROLLBACK')
    })
    const owned = await databases.owned()
    assert.deepEqual(
      owned.map((o) => [o.demoId, o.name]),
      [[ID, `schema and role ${schema}, 4 Supabase Auth users, Data API exposure of ${schema}`]],
    )
    await databases.drop({id: ID, database: access.database})
    assert.deepEqual(await databases.owned(), [])
    assert.ok(!shared.dbSchema.includes(schema))
    assert.deepEqual(standIn.problems, [])
  })

  it('a second demo in the same project gets Auth users of its own (e-mails are plus-addressed by demo id)', async () => {
    const databases = adapter()
    const ids = [`${ID}a`, `${ID}b`]
    const accesses = await Promise.all(
      ids.map((id) => databases.provision({id, demoType: 'startup', database: databases.planned(id), createdAt: new Date(), seedValue: 1})),
    )
    assert.deepEqual((await databases.owned()).map((o) => o.demoId).sort(), ids)
    const exposed = shared.dbSchema.split(',')
    for (const id of ids) assert.ok(exposed.includes(`demo_${id}`))
    await Promise.all(ids.map((id, i) => databases.drop({id, database: accesses[i]?.database ?? databases.planned(id)})))
    assert.deepEqual(await databases.owned(), [])
    assert.deepEqual(standIn.problems, [])
  })
})
