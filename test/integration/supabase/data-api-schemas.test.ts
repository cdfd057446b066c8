import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {exposeSchema, unexposeSchema, type SharedProject} from '../../../src/adapters/supabase/data-api-schemas.js'
import {SupabaseManagementApi} from '../../../src/adapters/supabase/management-client.js'
import {testDatabaseUrl} from '../../support/databases.js'
import {SupabaseStandIn} from '../../support/supabase-stand-in.js'

const TOKEN = 'sbp_schemas_token'

describe('exposing demo schemas to a shared project Data API (spec-checked stand-in)', () => {
  let standIn: SupabaseStandIn
  let shared: SharedProject

  before(async () => {
    standIn = await SupabaseStandIn.start({token: TOKEN, organization: 'acme', adminUrl: testDatabaseUrl()})
    const project = standIn.addSharedProject(testDatabaseUrl())
    shared = {api: new SupabaseManagementApi({token: TOKEN, baseUrl: standIn.url}), projectRef: project.ref, lockDatabaseUrl: testDatabaseUrl()}
  })
  after(async () => standIn.close())

  it('six creates exposing their schemas at once: none is lost, and removing one keeps the others', async () => {
    const schemas = ['demo_aaaaaaa1', 'demo_aaaaaaa2', 'demo_aaaaaaa3', 'demo_aaaaaaa4', 'demo_aaaaaaa5', 'demo_aaaaaaa6']
    await Promise.all(schemas.map((schema) => exposeSchema(shared, schema)))
    const exposed = await shared.api.exposedSchemas(shared.projectRef)
    assert.deepEqual(exposed.slice(0, 2), ['public', 'graphql_public'])
    assert.deepEqual(exposed.slice(2).sort(), schemas)
    await Promise.all([unexposeSchema(shared, 'demo_aaaaaaa3'), exposeSchema(shared, 'demo_aaaaaaa1'), unexposeSchema(shared, 'demo_aaaaaaa9')])
    assert.deepEqual(
      (await shared.api.exposedSchemas(shared.projectRef)).slice(2).sort(),
      schemas.filter((s) => s !== 'demo_aaaaaaa3'),
    )
    assert.deepEqual(standIn.problems, [])
  })
})
