import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {Demo} from '../../src/core/demo.js'
import {eventLine, localTime, MASK, table, toDemoView} from '../../src/render.js'
import {aNewDemo} from '../fakes/builders.js'

function aDemo(overrides: Partial<Demo> = {}): Demo {
  return {
    ...aNewDemo({id: 'k3x9a2bq', createdAt: new Date('2026-11-25T12:00:00Z')}),
    updatedAt: new Date('2026-11-25T12:00:00Z'),
    readyAt: null,
    destroyedAt: null,
    extensionCount: 0,
    lastError: null,
    phaseTimings: {},
    version: 1,
    ...overrides,
  }
}

const NOW = new Date('2026-11-25T13:00:00Z')

describe('toDemoView', () => {
  it('masks the anon key unless secrets are asked for', () => {
    const demo = aDemo({
      database: {mode: 'supabase-project', projectRef: 'abc', anonKey: 'eyJhbGciOiJIUzI1NiJ9.secret', url: 'https://abc.supabase.co'},
    })
    const masked = toDemoView(demo, NOW)
    assert.equal(masked.database.supabaseAnonKey, MASK)
    assert.doesNotMatch(JSON.stringify(masked), /eyJhbGciOiJIUzI1NiJ9/)
    assert.equal(masked.database.supabaseUrl, 'https://abc.supabase.co')
    assert.equal(toDemoView(demo, NOW, {showSecrets: false}).database.supabaseAnonKey, MASK)
    assert.equal(toDemoView(demo, NOW, {showSecrets: true}).database.supabaseAnonKey, 'eyJhbGciOiJIUzI1NiJ9.secret')
  })

  it('shows no mask where there is no secret', () => {
    assert.equal(
      toDemoView(aDemo({database: {mode: 'supabase-project', projectRef: 'abc', url: null, anonKey: null}}), NOW).database.supabaseAnonKey,
      null,
    )
  })

  it('shows every mode with the same database keys, null where the mode has no such thing', () => {
    const view = (database: Demo['database']) => toDemoView(aDemo({database}), NOW).database
    assert.deepEqual(view({mode: 'none'}), {mode: 'none', schema: null, supabaseProjectId: null, supabaseUrl: null, supabaseAnonKey: null})
    assert.deepEqual(view({mode: 'shared-schema', schema: 'demo_k3x9a2bq', supabase: null}), {
      mode: 'shared-schema',
      schema: 'demo_k3x9a2bq',
      supabaseProjectId: null,
      supabaseUrl: null,
      supabaseAnonKey: null,
    })
    assert.deepEqual(
      view({mode: 'shared-schema', schema: 'demo_k3x9a2bq', supabase: {projectRef: 'abc', url: 'https://abc.supabase.co', anonKey: 'eyJ.secret'}}),
      {
        mode: 'shared-schema',
        schema: 'demo_k3x9a2bq',
        supabaseProjectId: 'abc',
        supabaseUrl: 'https://abc.supabase.co',
        supabaseAnonKey: MASK,
      },
    )
    assert.deepEqual(view({mode: 'supabase-project', projectRef: 'abc', url: 'https://abc.supabase.co', anonKey: 'eyJ.secret'}), {
      mode: 'supabase-project',
      schema: null,
      supabaseProjectId: 'abc',
      supabaseUrl: 'https://abc.supabase.co',
      supabaseAnonKey: MASK,
    })
  })

  it('says how long a live demo has left', () => {
    const view = toDemoView(aDemo({status: 'ready'}), NOW)
    assert.equal(view.expiresIn, '1h 00m')
    assert.equal(view.expiresInSeconds, 3600)
    assert.equal(view.expiresAt, '2026-11-25T14:00:00.000Z')
  })

  it('says how long ago an overdue demo expired', () => {
    const view = toDemoView(aDemo({status: 'ready'}), new Date('2026-11-25T14:12:00Z'))
    assert.equal(view.expiresIn, 'expired 12m ago')
    assert.equal(view.expiresInSeconds, -720)
  })

  it('shows no countdown for a destroyed demo', () => {
    const view = toDemoView(aDemo({status: 'destroyed', destroyedAt: new Date('2026-11-25T12:30:00Z')}), NOW)
    assert.equal(view.expiresIn, '-')
    assert.equal(view.expiresInSeconds, 0)
    assert.equal(view.destroyedAt, '2026-11-25T12:30:00.000Z')
  })

  it("renames demoType to type and keeps the --json contract's fields", () => {
    const view = toDemoView(aDemo({demoType: 'startup'}), NOW)
    assert.equal(view.type, 'startup')
    assert.deepEqual(Object.keys(view).sort(), [
      'autoCleanup',
      'candidateUrl',
      'createdAt',
      'createdBy',
      'database',
      'destroyedAt',
      'expiresAt',
      'expiresIn',
      'expiresInSeconds',
      'extensionCount',
      'id',
      'kubeContext',
      'lastError',
      'name',
      'namespace',
      'phaseTimings',
      'portalUrl',
      'readyAt',
      'seedValue',
      'status',
      'type',
    ])
  })
})

describe('table', () => {
  it('pads every column to its widest cell and trims line ends', () => {
    assert.equal(
      table(
        ['ID', 'NAME'],
        [
          ['a', 'longer'],
          ['bbbb', ''],
        ],
      ),
      ['ID    NAME', 'a     longer', 'bbbb'].join('\n'),
    )
  })
})

describe('eventLine', () => {
  it('shows time, type, actor and data', () => {
    assert.equal(
      eventLine({demoId: 'k3x9a2bq', type: 'extended', at: new Date('2026-11-25T12:00:00Z'), actor: 'alice', data: {hours: 2}}),
      `${localTime(new Date('2026-11-25T12:00:00Z'))}  extended    alice {"hours":2}`,
    )
    assert.equal(
      eventLine({demoId: 'k3x9a2bq', type: 'created', at: new Date('2026-11-25T12:00:00Z'), actor: 'alice', data: {}}),
      `${localTime(new Date('2026-11-25T12:00:00Z'))}  created     alice`,
    )
  })
})

describe('localTime', () => {
  it('shows the minute and the zone, for people (ISO stays in --json)', () => {
    const at = new Date('2026-11-25T12:34:56.789Z')
    assert.equal(localTime(at, 'UTC'), '2026-11-25 12:34 UTC')
    assert.equal(localTime(at, 'America/New_York'), '2026-11-25 07:34 EST')
  })
})

it('a table cuts its last column to the width it is given, so no row wraps', () => {
  const text = table(['ID', 'URL'], [['a', 'https://a-very-long-url.example.com/path']], {width: 20})
  for (const line of text.split('\n')) assert.ok(line.length <= 19, line)
  assert.equal(text.split('\n')[1], 'a   https://a-very…')
})
