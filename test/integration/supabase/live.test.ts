import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {SupabaseManagementApi} from '../../../src/adapters/supabase/management-client.js'
import {supabaseAuthUsers} from '../../../src/adapters/supabase/auth-users.js'
import {supabaseDatabaseUrl, supabaseProjectUrl, SupabaseProjectDatabases} from '../../../src/adapters/supabase/project-databases.js'
import {makeId} from '../../../src/core/naming.js'
import {machineClock} from '../../../src/adapters/clock.js'
import {systemSleeper} from '../../../src/adapters/sleeper.js'
import {systemRandom} from '../../../src/deps.js'
import {SupabaseSharedSchemaDatabases} from '../../../src/adapters/supabase/shared-project-databases.js'
import {sharedSchema} from '../../support/shared-schema.js'

const token = process.env.DEMO_LIVE_SUPABASE_TOKEN
const organization = process.env.DEMO_LIVE_SUPABASE_ORG
const skip =
  token && organization ? false : 'set DEMO_LIVE_SUPABASE_TOKEN and DEMO_LIVE_SUPABASE_ORG to run against the real Supabase API (README "Supabase")'

/**
 * Opt-in: the same create and destroy as against the stand-in, on the real Management API. Creates one project
 * named demo-<random id> and deletes it in `finally`, whatever happened. No migrations or seed: the project's
 * database is reached over the internet only when the runner allows it.
 */
describe('supabase-project against the real Supabase API (live, opt-in)', () => {
  it('creates a project, waits until it is healthy, reads its keys, and deletes it', {skip, timeout: 900_000}, async () => {
    const api = new SupabaseManagementApi({token: token ?? ''})
    const databases = new SupabaseProjectDatabases({
      api,
      authUsers: supabaseAuthUsers,
      organization: organization ?? '',
      region: process.env.DEMO_SUPABASE_REGION ?? 'us-east-1',
      healthyTimeoutMs: 600_000,
      clock: machineClock(process.env),
      sleeper: systemSleeper,
      random: systemRandom,
      projectUrl: supabaseProjectUrl,
      databaseUrl: supabaseDatabaseUrl,
    })
    const id = makeId(systemRandom.bytes(16))
    const demo = {id, demoType: 'startup', database: databases.planned(), createdAt: new Date(), seedValue: 1}
    try {
      await databases.check('startup')
      const access = await databases.provision(demo, {progress: (line) => process.stderr.write(`  ${line}\n`)})
      assert.equal(access.database.mode, 'supabase-project')
      assert.ok(access.secretEnv.SUPABASE_ANON_KEY)
      assert.ok(await databases.isReachable({id, database: access.database}))
      assert.ok((await databases.owned()).some((o) => o.demoId === id))
    } finally {
      await databases.drop({id, database: demo.database})
    }
    assert.ok(!(await databases.owned()).some((o) => o.demoId === id))
  })
})

const projectRef = process.env.DEMO_LIVE_SUPABASE_PROJECT_REF
const projectDbUrl = process.env.DEMO_LIVE_SUPABASE_DB_URL
const skipShared =
  token && projectRef && projectDbUrl
    ? false
    : 'set DEMO_LIVE_SUPABASE_TOKEN, DEMO_LIVE_SUPABASE_PROJECT_REF and DEMO_LIVE_SUPABASE_DB_URL to run shared-schema on a real Supabase project (README "Supabase")'

/**
 * Opt-in: shared-schema on an existing Supabase project, on the real Management API, Auth and Data API: a schema
 * with migrations and the startup seed, its grants, its Data API exposure and tagged Auth users, counted through
 * the Data API as anon, then dropped in `finally`, whatever happened. DEMO_LIVE_SUPABASE_DB_URL is the project's
 * database as `postgres` (the dashboard's connection string); the project keeps nothing of the run.
 */
describe('shared-schema on a real Supabase project (live, opt-in)', () => {
  it('provisions, exposes, counts through the Data API, and drops everything again', {skip: skipShared, timeout: 300_000}, async () => {
    const databases = new SupabaseSharedSchemaDatabases({
      inner: sharedSchema(projectDbUrl ?? ''),
      api: new SupabaseManagementApi({token: token ?? ''}),
      projectRef: projectRef ?? '',
      adminUrl: projectDbUrl ?? '',
      authUsers: supabaseAuthUsers,
      projectUrl: supabaseProjectUrl,
    })
    const id = makeId(systemRandom.bytes(16))
    const demo = {id, demoType: 'startup', database: databases.planned(id), createdAt: new Date(), seedValue: 1}
    try {
      await databases.check('startup')
      const access = await databases.provision(demo)
      assert.ok(access.secretEnv.SUPABASE_ANON_KEY)
      const health = await databases.checkDataApi({id, database: access.database})
      assert.equal(health?.healthy, true, health?.detail)
      assert.ok((await databases.owned()).some((o) => o.demoId === id))
    } finally {
      await databases.drop({id, database: demo.database})
    }
    assert.ok(!(await databases.owned()).some((o) => o.demoId === id))
  })
})
