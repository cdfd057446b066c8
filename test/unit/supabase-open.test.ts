import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {openSupabaseProjects} from '../../src/adapters/supabase/open.js'
import type {LoadedConfig} from '../../src/config.js'
import {ConfigError, ExitCode, UsageError} from '../../src/core/errors.js'
import {projectConfigSchema} from '../../src/core/project-config.js'
import {systemRandom} from '../../src/deps.js'
import {fixedClock} from '../fakes/builders.js'
import {FakeSleeper} from '../fakes/fake-time.js'

const clock = fixedClock('2026-11-25T12:00:00Z')

function sources(supabase: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const loaded = {
    project: projectConfigSchema.parse({database: {mode: 'supabase-project'}, supabase}),
    configPath: '/p/demo.config.yaml',
  } as unknown as LoadedConfig
  return {loaded, env, clock, sleeper: new FakeSleeper(clock), random: systemRandom, output: () => {}}
}

describe('opening database mode supabase-project', () => {
  it('without SUPABASE_ACCESS_TOKEN: a usage error (exit 2) naming the variable', () => {
    assert.throws(
      () => openSupabaseProjects(sources({organization: 'acme'}, {})),
      (e: unknown) => e instanceof UsageError && e.exitCode === ExitCode.usage && /SUPABASE_ACCESS_TOKEN/.test(e.message),
    )
  })

  it('without an organization: a config error naming supabase.organization and DEMO_SUPABASE_ORG', () => {
    assert.throws(
      () => openSupabaseProjects(sources({}, {SUPABASE_ACCESS_TOKEN: 'sbp_x'})),
      (e: unknown) => e instanceof ConfigError && /supabase\.organization/.test(e.message) && /DEMO_SUPABASE_ORG/.test(e.hint ?? ''),
    )
  })

  it('takes the organization from DEMO_SUPABASE_ORG when the config has none', () => {
    assert.equal(openSupabaseProjects(sources({}, {SUPABASE_ACCESS_TOKEN: 'sbp_x', DEMO_SUPABASE_ORG: 'acme'})).mode, 'supabase-project')
  })

  it('refuses a malformed region or project ref in demo.config.yaml', () => {
    assert.throws(() => projectConfigSchema.parse({supabase: {region: 'mars'}}))
    assert.throws(() => projectConfigSchema.parse({supabase: {projectRef: 'ABC'}}))
    assert.equal(projectConfigSchema.parse({}).supabase.healthyTimeoutSeconds, 300)
  })
})

describe('Supabase URL overrides (self-hosted, the stand-in)', () => {
  it('DEMO_SUPABASE_PROJECT_URL_TEMPLATE replaces {ref}; without it, https://<ref>.supabase.co', async () => {
    const {projectUrlFor} = await import('../../src/adapters/supabase/open.js')
    assert.equal(projectUrlFor({})('abcdefghijklmnopqrst'), 'https://abcdefghijklmnopqrst.supabase.co')
    assert.equal(projectUrlFor({DEMO_SUPABASE_PROJECT_URL_TEMPLATE: 'http://127.0.0.1:5/p/{ref}'})('abc'), 'http://127.0.0.1:5/p/abc')
    assert.throws(() => projectUrlFor({DEMO_SUPABASE_PROJECT_URL_TEMPLATE: 'http://127.0.0.1:5/p'}), ConfigError)
  })

  it('DEMO_SUPABASE_DATABASE_URL_TEMPLATE fills {ref}, {host} and the URL-encoded {password}', async () => {
    const {databaseUrlFor} = await import('../../src/adapters/supabase/open.js')
    const project = {ref: 'abc', name: 'demo-x', status: 'ACTIVE_HEALTHY', organization: 'acme', databaseHost: 'db.host'}
    assert.equal(databaseUrlFor({})(project, 'p/w'), 'postgresql://postgres:p%2Fw@db.host:5432/postgres?sslmode=require')
    const template = 'postgresql://postgres:{password}@{host}:6543/db_{ref}'
    assert.equal(databaseUrlFor({DEMO_SUPABASE_DATABASE_URL_TEMPLATE: template})(project, 'p/w'), 'postgresql://postgres:p%2Fw@db.host:6543/db_abc')
  })
})
