import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  allowedPredecessors,
  assertModifiable,
  assertTransition,
  canTransition,
  DEMO_STATUSES,
  expiryFor,
  isExpired,
  isLive,
  type DemoStatus,
} from '../../src/core/demo.js'
import {ConflictError, StateTransitionError} from '../../src/core/errors.js'

/** The legal moves, written out independently of the implementation's table. */
const LEGAL: ReadonlyArray<[DemoStatus, DemoStatus]> = [
  ['creating', 'ready'],
  ['creating', 'failed'],
  ['creating', 'destroying'],
  ['ready', 'degraded'],
  ['ready', 'destroying'],
  ['degraded', 'ready'],
  ['degraded', 'destroying'],
  ['destroying', 'destroyed'],
  ['destroying', 'failed'],
  ['failed', 'destroying'],
]

function isLegal(from: DemoStatus, to: DemoStatus): boolean {
  return from === to || LEGAL.some(([f, t]) => f === from && t === to)
}

describe('the status state machine', () => {
  for (const from of DEMO_STATUSES) {
    for (const to of DEMO_STATUSES) {
      const legal = isLegal(from, to)
      it(`${legal ? 'allows' : 'refuses'} ${from} → ${to}`, () => {
        assert.equal(canTransition(from, to), legal)
        if (legal) {
          assert.doesNotThrow(() => assertTransition({id: 'k3x9a2bq', status: from}, to))
        } else {
          assert.throws(
            () => assertTransition({id: 'k3x9a2bq', status: from}, to),
            (error: unknown) =>
              error instanceof StateTransitionError &&
              error.message === `Demo "k3x9a2bq" cannot go from ${from} to ${to}.` &&
              error.hint === 'Run `demo get k3x9a2bq` to see its current state.' &&
              error.exitCode === 1,
          )
        }
      })
    }
  }

  it('lets nothing leave destroyed', () => {
    assert.deepEqual(
      DEMO_STATUSES.filter((to) => to !== 'destroyed' && canTransition('destroyed', to)),
      [],
    )
  })

  it("lists the predecessors of each status for the store's conditional update", () => {
    assert.deepEqual(allowedPredecessors('ready').sort(), ['creating', 'degraded', 'ready'])
    assert.deepEqual(allowedPredecessors('destroyed').sort(), ['destroyed', 'destroying'])
    assert.deepEqual(allowedPredecessors('destroying').sort(), ['creating', 'degraded', 'destroying', 'failed', 'ready'])
    assert.deepEqual(allowedPredecessors('failed').sort(), ['creating', 'destroying', 'failed'])
    assert.deepEqual(allowedPredecessors('creating'), ['creating'])
  })
})

describe('live statuses', () => {
  it('counts creating, ready, degraded and destroying as live, and not failed or destroyed', () => {
    assert.deepEqual(DEMO_STATUSES.filter(isLive), ['creating', 'ready', 'degraded', 'destroying'])
  })
})

describe('expiry', () => {
  const created = new Date('2026-11-25T12:00:00Z')

  it('computes the expiry from creation and a span', () => {
    assert.equal(expiryFor(created, 2 * 3_600_000).toISOString(), '2026-11-25T14:00:00.000Z')
  })

  it('treats a demo as expired from its expiry instant on', () => {
    const demo = {expiresAt: new Date('2026-11-25T14:00:00Z')}
    assert.equal(isExpired(demo, new Date('2026-11-25T13:59:59.999Z')), false)
    assert.equal(isExpired(demo, new Date('2026-11-25T14:00:00Z')), true)
    assert.equal(isExpired(demo, new Date('2026-11-25T15:00:00Z')), true)
  })
})

describe('assertModifiable', () => {
  for (const status of ['creating', 'ready', 'degraded'] as const) {
    it(`allows changes to a ${status} demo`, () => {
      assert.doesNotThrow(() => assertModifiable({id: 'k3x9a2bq', status}, 'extend'))
    })
  }
  for (const status of ['destroying', 'destroyed', 'failed'] as const) {
    it(`refuses changes to a ${status} demo with a conflict naming the status`, () => {
      assert.throws(
        () => assertModifiable({id: 'k3x9a2bq', status}, 'extend'),
        (error: unknown) =>
          error instanceof ConflictError &&
          error.message === `Cannot extend demo "k3x9a2bq": it is ${status}.` &&
          /demo (destroy|create)/.test(error.hint ?? ''),
      )
    })
  }
})
