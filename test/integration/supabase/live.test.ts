import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {SupabaseManagementApi} from '../../../src/adapters/supabase/management-client.js'
import {supabaseAuthUsers} from '../../../src/adapters/supabase/auth-users.js'
import {supabaseDatabaseUrl, supabaseProjectUrl, SupabaseProjectDatabases} from '../../../src/adapters/supabase/project-databases.js'
import {makeId} from '../../../src/core/naming.js'
import {machineClock} from '../../../src/adapters/clock.js'
import {systemSleeper} from '../../../src/adapters/sleeper.js'
import {systemRandom} from '../../../src/deps.js'

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
