import assert from 'node:assert/strict'
import {after, afterEach, before, describe, it} from 'node:test'
import {SupabaseManagementApi} from '../../../src/adapters/supabase/management-client.js'
import {SupabaseAuthError, SupabaseUnavailableError} from '../../../src/core/errors.js'
import {fixedClock} from '../../fakes/builders.js'
import {FakeSleeper} from '../../fakes/fake-time.js'
import {testDatabaseUrl} from '../../support/databases.js'
import {SupabaseStandIn} from '../../support/supabase-stand-in.js'

const TOKEN = 'sbp_test_token_0123456789abcdef'
const PASSWORD = 'db-password-that-must-never-show'

describe('the Supabase stand-in and the Management API client', () => {
  let standIn: SupabaseStandIn
  const clock = fixedClock('2026-01-01T10:00:00Z')
  const sleeper = new FakeSleeper(clock)

  function client(token = TOKEN): SupabaseManagementApi {
    return new SupabaseManagementApi({
      token,
      baseUrl: standIn.url,
      hooks: {sleep: (ms) => sleeper.sleep(ms), now: () => clock.now().getTime(), random: () => 0.5},
    })
  }

  const newProject = {name: 'demo-k3x9a2bq', organization: 'acme', region: 'eu-west-1', databasePassword: PASSWORD}

  before(async () => {
    standIn = await SupabaseStandIn.start({token: TOKEN, organization: 'acme', adminUrl: testDatabaseUrl()})
  })
  after(async () => standIn.close())
  afterEach(() => {
    sleeper.slept.length = 0
    standIn.faults.length = 0
  })

  it('refuses a request the real API would reject, and records it (a wrong request fails the test)', async () => {
    const response = await fetch(`${standIn.url}/v1/projects`, {
      method: 'POST',
      headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'},
      body: JSON.stringify({name: 'demo-x', organization_slug: 'acme', plan: 'gold'}),
    })
    assert.equal(response.status, 400)
    assert.ok(standIn.problems.some((p) => p.includes('v1-create-a-project')))
    assert.ok(standIn.problems.some((p) => p.includes('db_pass')))
    standIn.problems.length = 0
  })

  it('never answers what the spec does not allow: a wrong response is recorded and replaced by a 500', async () => {
    const project = await client().createProject(newProject)
    standIn.corruptNext = 'v1-get-project'
    // GET is retried on 500; the corrupted answer is the first only.
    const fetched = await client().project(project.ref)
    assert.equal(fetched?.ref, project.ref)
    assert.deepEqual(standIn.problems.length > 0, true)
    assert.match(standIn.problems[0] ?? '', /response v1-get-project 200/)
    standIn.problems.length = 0
    await client().deleteProject(project.ref)
  })

  it('creates, reads, lists and deletes a project with spec-valid requests; deleting it again answers false (404)', async () => {
    const created = await client().createProject(newProject)
    assert.equal(created.name, 'demo-k3x9a2bq')
    assert.equal(created.status, 'COMING_UP')
    assert.match(created.ref, /^[a-z]{20}$/)
    assert.deepEqual(
      (await client().projects()).map((p) => p.ref),
      [created.ref],
    )
    const keys = await client().apiKeys(created.ref)
    assert.ok(keys.anon.startsWith('anon.'))
    assert.ok(keys.serviceRole.startsWith('service.'))
    assert.equal(await client().deleteProject(created.ref), true)
    assert.equal(await client().deleteProject(created.ref), false)
    assert.equal(await client().project(created.ref), undefined)
    assert.deepEqual(standIn.problems, [])
  })

  it('waits as long as a 429 Retry-After says, then succeeds', async () => {
    const created = await client().createProject(newProject)
    standIn.faults.push({
      match: /^get \/v1\/projects\/[a-z]+$/,
      status: 429,
      headers: {'retry-after': '7'},
      body: {message: 'Too many requests'},
      times: 2,
    })
    assert.equal((await client().project(created.ref))?.ref, created.ref)
    assert.equal(sleeper.slept.length, 2)
    assert.ok(sleeper.slept.every((ms) => ms >= 7000))
    await client().deleteProject(created.ref)
    assert.deepEqual(standIn.problems, [])
  })

  it('retries a POST answered 429 (refused before acting), once per answer', async () => {
    standIn.faults.push({match: /^post \/v1\/projects$/, status: 429, headers: {'retry-after': '3'}, times: 1})
    const created = await client().createProject(newProject)
    assert.equal([...standIn.projects.values()].filter((p) => p.name === 'demo-k3x9a2bq').length, 1)
    // Retry-After plus the jittered backoff (random 0.5 of the first ceiling, 1000 ms): 3 s + 0.5 s.
    assert.deepEqual(sleeper.slept, [3500])
    await client().deleteProject(created.ref)
  })

  it('retries a 5xx with backoff and jitter, then succeeds', async () => {
    const created = await client().createProject(newProject)
    standIn.faults.push({match: /^get \/v1\/projects\/[a-z]+$/, status: 500, times: 3})
    assert.equal((await client().project(created.ref))?.ref, created.ref)
    assert.equal(sleeper.slept.length, 3)
    assert.ok(sleeper.slept[2]! > sleeper.slept[0]!, 'the backoff grows')
    await client().deleteProject(created.ref)
    assert.deepEqual(standIn.problems, [])
  })

  it('gives up on a 5xx that lasts, with E_SUPABASE_UNREACHABLE', async () => {
    const created = await client().createProject(newProject)
    standIn.faults.push({match: /^get \/v1\/projects\/[a-z]+$/, status: 500, times: 100})
    await assert.rejects(client().project(created.ref), SupabaseUnavailableError)
    standIn.faults.length = 0
    await client().deleteProject(created.ref)
  })

  it('reports refused credentials as E_SUPABASE_AUTH without the token or the password in the error', async () => {
    const wrong = 'sbp_wrong_token_that_must_not_leak'
    const created = await client().createProject(newProject)
    const error = await client(wrong)
      .project(created.ref)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    assert.ok(error instanceof SupabaseAuthError)
    const text = `${error.message} ${error.hint ?? ''}`
    assert.ok(!text.includes(wrong) && !text.includes(TOKEN) && !text.includes(PASSWORD), text)
    await client().deleteProject(created.ref)
    assert.deepEqual(standIn.problems, [])
  })

  it('reads and writes the exposed schemas of a project', async () => {
    const created = await client().createProject(newProject)
    assert.deepEqual(await client().exposedSchemas(created.ref), ['public', 'graphql_public'])
    await client().setExposedSchemas(created.ref, ['public', 'graphql_public', 'demo_k3x9a2bq'])
    assert.deepEqual(await client().exposedSchemas(created.ref), ['public', 'graphql_public', 'demo_k3x9a2bq'])
    await client().setDatabasePassword(created.ref, 'another-password')
    assert.equal(await client().organizationPlan('acme'), 'pro')
    await client().deleteProject(created.ref)
    assert.deepEqual(standIn.problems, [])
  })
})
