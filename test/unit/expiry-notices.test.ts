import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {Demo} from '../../src/core/demo.js'
import {EXPIRY_NOTICE_MS, noticeCandidates, planExpiryNotices, wasNoticed} from '../../src/core/expiry-notices.js'
import type {DemoEvent} from '../../src/core/ports.js'
import {aDemo} from '../fakes/builders.js'

// Fake time: the state database's clock says 18:00.
const NOW = new Date('2026-11-25T18:00:00Z')
const HERE = {context: 'ci', clusterId: 'uid-here'}
const NONE = new Set<string>()
const IN_20_MIN = new Date('2026-11-25T18:20:00Z')
const IN_2_H = new Date('2026-11-25T20:00:00Z')

function aRow(overrides: Partial<Demo> = {}): Demo {
  return aDemo({status: 'ready', clusterId: HERE.clusterId, kubeContext: 'ci', createdAt: new Date('2026-11-25T16:00:00Z'), ...overrides})
}

function notice(demo: Pick<Demo, 'id'>, expiresAt: Date): DemoEvent {
  return {demoId: demo.id, type: 'expiry-notice', at: NOW, actor: 'gc', data: {expiresAt: expiresAt.toISOString()}}
}

function plan(rows: Demo[], trails: Record<string, DemoEvent[]> = {}, acted: ReadonlySet<string> = NONE) {
  const all = new Map(rows.map((d) => [d.id, trails[d.id] ?? []]))
  return planExpiryNotices({now: NOW, cluster: HERE, rows}, acted, all)
}

describe('planExpiryNotices (gc\u2019s "expiring soon" notices)', () => {
  it('notifies a demo expiring in 20 minutes, naming it, its owner, its expiry and the extend command', () => {
    const demo = aRow({expiresAt: IN_20_MIN, name: 'sales-call'})
    assert.deepEqual(plan([demo]), [
      {
        demoId: demo.id,
        name: 'sales-call',
        namespace: demo.namespace,
        owner: 'alice@example.com',
        expiresAt: IN_20_MIN,
        expiresInMs: 20 * 60_000,
        extendCommand: `demo extend ${demo.id} --by 1h`,
      },
    ])
  })

  it('leaves a demo expiring in 2 hours alone, and decides by the clock it is given', () => {
    const demo = aRow({expiresAt: IN_2_H})
    assert.deepEqual(plan([demo]), [])
    const later = new Date(IN_2_H.getTime() - EXPIRY_NOTICE_MS)
    assert.equal(planExpiryNotices({now: later, cluster: HERE, rows: [demo]}, NONE, new Map([[demo.id, []]])).length, 1, 'at 30 minutes before')
    const justBefore = new Date(later.getTime() - 1)
    assert.equal(planExpiryNotices({now: justBefore, cluster: HERE, rows: [demo]}, NONE, new Map([[demo.id, []]])).length, 0)
  })

  it('sends none when the trail already has a notice about this expiry (the second run)', () => {
    const demo = aRow({expiresAt: IN_20_MIN})
    assert.deepEqual(plan([demo], {[demo.id]: [notice(demo, IN_20_MIN)]}), [])
  })

  it('sends a new one when the demo was extended after its notice and nears its new expiry', () => {
    const demo = aRow({expiresAt: IN_20_MIN})
    const earlier = new Date('2026-11-25T17:10:00Z')
    assert.equal(plan([demo], {[demo.id]: [notice(demo, earlier)]}).length, 1)
    assert.ok(!wasNoticed([notice(demo, earlier)], IN_20_MIN))
  })

  it('leaves out expired demos, demos of another cluster, auto_cleanup off, not ready or degraded, and those gc acts on', () => {
    const expired = aRow({expiresAt: new Date('2026-11-25T17:59:00Z')})
    const elsewhere = aRow({expiresAt: IN_20_MIN, clusterId: 'uid-prod', kubeContext: 'prod'})
    const noContext = aRow({expiresAt: IN_20_MIN, clusterId: null, kubeContext: null})
    const kept = aRow({expiresAt: IN_20_MIN, autoCleanup: false})
    const creating = aRow({expiresAt: IN_20_MIN, status: 'creating'})
    const destroying = aRow({expiresAt: IN_20_MIN, status: 'destroying'})
    const failed = aRow({expiresAt: IN_20_MIN, status: 'failed'})
    const vanished = aRow({expiresAt: IN_20_MIN})
    const degraded = aRow({expiresAt: IN_20_MIN, status: 'degraded'})
    const rows = [expired, elsewhere, noContext, kept, creating, destroying, failed, vanished, degraded]
    assert.deepEqual(
      plan(rows, {}, new Set([vanished.id])).map((n) => n.demoId),
      [degraded.id],
    )
  })

  it('matches a demo created through another context of the same cluster by its identity', () => {
    const demo = aRow({expiresAt: IN_20_MIN, kubeContext: 'laptop'})
    assert.equal(plan([demo]).length, 1)
  })

  it('sends none for a candidate whose trail could not be read (absent from the map)', () => {
    const demo = aRow({expiresAt: IN_20_MIN})
    assert.deepEqual(noticeCandidates({now: NOW, cluster: HERE, rows: [demo]}, NONE), [demo])
    assert.deepEqual(planExpiryNotices({now: NOW, cluster: HERE, rows: [demo]}, NONE, new Map()), [])
  })
})
