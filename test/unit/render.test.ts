import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {Demo} from '../../src/core/demo.js'
import type {DemoEvent} from '../../src/core/ports.js'
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
  const at = new Date('2026-11-25T12:00:00Z')
  const line = (type: DemoEvent['type'], data: Record<string, unknown>, actor = 'alice@example.com') =>
    eventLine({demoId: 'k3x9a2bq', type, at, actor, data})

  it('tells each event as a sentence after the local time', () => {
    assert.equal(line('extended', {hours: 1}), `${localTime(at)}  extended by 1h by alice@example.com`)
    assert.equal(line('created', {type: 'startup', ttlHours: 2}), `${localTime(at)}  created as startup for 2h by alice@example.com`)
    assert.equal(line('created', {}), `${localTime(at)}  created by alice@example.com`)
    assert.equal(line('ready', {seconds: 42.5}), `${localTime(at)}  became ready after 42.5s`)
    assert.equal(line('destroyed', {namespaceDeleted: false}, 'gc'), `${localTime(at)}  destroyed by gc (its namespace was already gone)`)
    assert.equal(
      line('rolled-back', {reason: 'quota', cleanup: 'done'}),
      `${localTime(at)}  failed and was rolled back: quota; recorded by alice@example.com`,
    )
  })

  it('says what health found and what recovered', () => {
    assert.equal(
      line('degraded', {result: 'unhealthy', problems: ['deployment web: unhealthy: 0/1 available']}, 'health'),
      `${localTime(at)}  became degraded (unhealthy), found by health: deployment web: unhealthy: 0/1 available`,
    )
    assert.equal(
      line('recovered', {resolved: ['deployment web: unhealthy: 0/1 available'], degradedSeconds: 5400}, 'health'),
      `${localTime(at)}  recovered after 1h 30m degraded, found by health; resolved: deployment web: unhealthy: 0/1 available`,
    )
  })

  it('shows the data of an event type it does not know', () => {
    const unknown = {demoId: 'k3x9a2bq', type: 'expiring-soon' as DemoEvent['type'], at, actor: 'gc', data: {minutes: 30}}
    assert.equal(eventLine(unknown), `${localTime(at)}  expiring-soon by gc {"minutes":30}`)
  })
})

describe('table', () => {
  it('pads coloured cells by what shows, not by their escape codes', () => {
    const red = '\u001B[31mfailed\u001B[39m'
    const lines = table(
      ['STATUS', 'ID'],
      [
        [red, 'a'],
        ['ready', 'b'],
      ],
    ).split('\n')
    assert.equal(lines[1], `${red}  a`)
    assert.equal(lines[2], 'ready   b')
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
