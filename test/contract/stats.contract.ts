import assert from 'node:assert/strict'
import {after, beforeEach, describe, it} from 'node:test'
import type {DemoEvent, DemoStore, Stats, TypeOwnerUsage} from '../../src/core/ports.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS} from '../fakes/builders.js'

export interface StatsHandle {
  store: DemoStore
  stats: Stats
  /** Appends an event to the audit trail as it is (straight into the table, for the real stores). */
  addEvent(event: DemoEvent): Promise<void>
  close(): Promise<void>
}

const at = (iso: string) => new Date(`${iso}Z`)
const WINDOW = {since: at('2026-11-02T00:00:00'), until: at('2026-11-16T00:00:00')}

interface Life {
  owner: string
  type: string
  created: string
  expires?: string
  events?: Array<{type: DemoEvent['type']; at: string; actor?: string; data?: Record<string, unknown>}>
}

/**
 * A fortnight of demos (the window is 2 Nov to 16 Nov 2026, UTC), with what each contributes written beside it.
 * Peak: e, b and a are alive together at 05:30 on 2 Nov.
 */
const LIVES: Record<string, Life> = {
  // 2h, ready in 120 s, destroyed by hand.
  a: {
    owner: 'alice',
    type: 'agency',
    created: '2026-11-02T05:30:00',
    events: [
      {type: 'ready', at: '2026-11-02T05:32:00'},
      {type: 'destroyed', at: '2026-11-02T07:30:00'},
    ],
  },
  // 24h, ready in 240 s, destroyed by gc.
  b: {
    owner: 'bob',
    type: 'startup',
    created: '2026-11-02T05:00:00',
    events: [
      {type: 'ready', at: '2026-11-02T05:04:00'},
      {type: 'destroyed', at: '2026-11-03T05:00:00', actor: 'gc'},
    ],
  },
  // Failed after 5 min (timeout).
  c: {
    owner: 'alice',
    type: 'startup',
    created: '2026-11-09T09:00:00',
    events: [{type: 'failed', at: '2026-11-09T09:05:00', data: {reason: 'timeout'}}],
  },
  // Ready in 60 s, extended, still alive: 136 h to the window's end; committed to its expiry (168 h).
  d: {
    owner: 'carol',
    type: 'agency',
    created: '2026-11-10T08:00:00',
    expires: '2026-11-17T08:00:00',
    events: [
      {type: 'ready', at: '2026-11-10T08:01:00'},
      {type: 'extended', at: '2026-11-10T09:00:00'},
    ],
  },
  // Created before the window, destroyed by gc inside it: 6 h in the window, a lifetime of 78 h.
  e: {owner: 'dave', type: 'agency', created: '2026-10-30T00:00:00', events: [{type: 'destroyed', at: '2026-11-02T06:00:00', actor: 'gc'}]},
  // Entirely before the window.
  f: {owner: 'dave', type: 'agency', created: '2026-10-01T00:00:00', events: [{type: 'destroyed', at: '2026-10-02T00:00:00'}]},
  // Failed after 10 s (image pull).
  g: {
    owner: 'bob',
    type: 'startup',
    created: '2026-11-12T12:00:00',
    events: [{type: 'failed', at: '2026-11-12T12:00:10', data: {reason: 'image pull'}}],
  },
  // Failed after 60 s (timeout).
  i: {
    owner: 'carol',
    type: 'startup',
    created: '2026-11-13T10:00:00',
    events: [{type: 'failed', at: '2026-11-13T10:01:00', data: {reason: 'timeout'}}],
  },
  // 1 h before the window's end, ready only after it; committed to its expiry at 01:00 (2 h).
  h: {
    owner: 'alice',
    type: 'agency',
    created: '2026-11-15T23:00:00',
    expires: '2026-11-16T01:00:00',
    events: [{type: 'ready', at: '2026-11-16T00:30:00'}],
  },
}

async function record(handle: StatsHandle, lives: Record<string, Life>): Promise<void> {
  for (const life of Object.values(lives)) {
    const createdAt = at(life.created)
    const expiresAt = at(life.expires ?? new Date(createdAt.getTime() + 2 * 3_600_000).toISOString().slice(0, 19))
    const demo = aNewDemo({createdBy: life.owner, demoType: life.type, createdAt, expiresAt})
    const result = await handle.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    assert.ok('inserted' in result)
    for (const event of life.events ?? []) {
      await handle.addEvent({demoId: demo.id, type: event.type, at: at(event.at), actor: event.actor ?? life.owner, data: event.data ?? {}})
    }
  }
}

function approx(actual: TypeOwnerUsage[], expected: TypeOwnerUsage[]): void {
  assert.deepEqual(
    actual.map((u) => ({...u, hours: Math.round(u.hours * 1e6) / 1e6})),
    expected.map((u) => ({...u, hours: Math.round(u.hours * 1e6) / 1e6})),
  )
}

/** What every Stats adapter must answer; run on PostgreSQL, PGlite and the in-memory fake. */
export function statsContract(name: string, open: () => Promise<StatsHandle>): void {
  describe(`Stats contract: ${name}`, () => {
    let handle: StatsHandle
    beforeEach(async () => {
      await handle?.close()
      handle = await open()
    })
    after(async () => {
      await handle?.close()
    })

    it('answers zeros and nulls for a window without events', async () => {
      const usage = await handle.stats.usage(WINDOW)
      assert.deepEqual(usage, {
        created: 0,
        uniqueUsers: 0,
        ready: 0,
        failed: 0,
        failedByReason: [],
        destroyedByHand: 0,
        destroyedByGc: 0,
        extended: 0,
        timeToReady: {count: 0, p50Seconds: null, p95Seconds: null, withinGoal: 0},
        averageLifetimeSeconds: null,
        peakConcurrent: 0,
        byTypeAndOwner: [],
        weeks: [],
      })
    })

    it('counts the events of the window: created, users, ready, failed by reason, destroyed by hand and by gc, extended', async () => {
      await record(handle, LIVES)
      const usage = await handle.stats.usage(WINDOW)
      assert.equal(usage.created, 7)
      assert.equal(usage.uniqueUsers, 3)
      assert.equal(usage.ready, 3)
      assert.equal(usage.failed, 3)
      assert.deepEqual(usage.failedByReason, [
        {reason: 'timeout', count: 2},
        {reason: 'image pull', count: 1},
      ])
      assert.equal(usage.destroyedByHand, 1)
      assert.equal(usage.destroyedByGc, 2)
      assert.equal(usage.extended, 1)
    })

    it('measures time to ready (p50, p95 interpolated, within 3 minutes), average lifetime and peak concurrency', async () => {
      await record(handle, LIVES)
      const usage = await handle.stats.usage(WINDOW)
      // Ready after 60, 120 and 240 s; p95 = 120 + 0.9 × 120.
      assert.deepEqual(usage.timeToReady, {count: 3, p50Seconds: 120, p95Seconds: 228, withinGoal: 2})
      // a 2 h, b 24 h, c 5 min, e 78 h, g 10 s, i 60 s.
      assert.ok(usage.averageLifetimeSeconds !== null)
      assert.equal(Math.round(usage.averageLifetimeSeconds * 1000) / 1000, Math.round(((7200 + 86400 + 300 + 280800 + 10 + 60) / 6) * 1000) / 1000)
      assert.equal(usage.peakConcurrent, 3)
    })

    it('sums demo-hours inside the window per type and owner, a live demo up to the window’s end', async () => {
      await record(handle, LIVES)
      const usage = await handle.stats.usage(WINDOW)
      approx(usage.byTypeAndOwner, [
        {type: 'agency', owner: 'alice', created: 2, hours: 3},
        {type: 'agency', owner: 'carol', created: 1, hours: 136},
        {type: 'agency', owner: 'dave', created: 0, hours: 6},
        {type: 'startup', owner: 'alice', created: 1, hours: 5 / 60},
        {type: 'startup', owner: 'bob', created: 2, hours: 24 + 10 / 3600},
        {type: 'startup', owner: 'carol', created: 1, hours: 1 / 60},
      ])
    })

    it('counts demos created per ISO week (Monday, UTC)', async () => {
      await record(handle, LIVES)
      const usage = await handle.stats.usage(WINDOW)
      assert.deepEqual(usage.weeks, [
        {weekStart: '2026-11-02', created: 2},
        {weekStart: '2026-11-09', created: 5},
      ])
    })

    it('commits a live demo’s hours up to its expiry (or now, when later) for budgets', async () => {
      await record(handle, LIVES)
      const month = {since: at('2026-11-01T00:00:00'), until: at('2026-12-01T00:00:00')}
      approx(await handle.stats.committedHours(month, at('2026-11-16T00:00:00')), [
        {type: 'agency', owner: 'alice', created: 2, hours: 4},
        {type: 'agency', owner: 'carol', created: 1, hours: 168},
        {type: 'agency', owner: 'dave', created: 0, hours: 30},
        {type: 'startup', owner: 'alice', created: 1, hours: 5 / 60},
        {type: 'startup', owner: 'bob', created: 2, hours: 24 + 10 / 3600},
        {type: 'startup', owner: 'carol', created: 1, hours: 1 / 60},
      ])
      // Past its expiry and not yet collected, a demo goes on costing until now.
      const late = await handle.stats.committedHours(month, at('2026-11-20T08:00:00'))
      approx(
        late.filter((u) => u.owner === 'carol' && u.type === 'agency'),
        [{type: 'agency', owner: 'carol', created: 1, hours: 240}],
      )
    })
  })
}
