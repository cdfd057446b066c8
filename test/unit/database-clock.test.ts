import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {DatabaseClock, machineClock} from '../../src/adapters/clock.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'

const MINUTE = 60_000

describe('DatabaseClock', () => {
  it("is the machine's clock until it has synced with the store", () => {
    const clock = new DatabaseClock({now: () => new Date('2026-11-25T12:00:00Z')})
    assert.equal(clock.now().toISOString(), '2026-11-25T12:00:00.000Z')
  })

  it("follows the store's clock after a sync, however far off the machine's is", async () => {
    let machine = new Date('2026-11-25T11:50:00Z').getTime()
    const clock = new DatabaseClock({now: () => new Date(machine)})
    const store = new MemoryDemoStore()
    store.clock = () => new Date('2026-11-25T12:00:00Z')
    await clock.sync(store)
    assert.equal(clock.now().toISOString(), '2026-11-25T12:00:00.000Z')
    machine += 5 * MINUTE
    assert.equal(clock.now().toISOString(), '2026-11-25T12:05:00.000Z')
  })
})

describe('machineClock', () => {
  it('is moved by DEMO_TEST_CLOCK_OFFSET_MS, and is the real clock without it', () => {
    const skewed = machineClock({DEMO_TEST_CLOCK_OFFSET_MS: String(-10 * MINUTE)})
      .now()
      .getTime()
    const real = machineClock({}).now().getTime()
    assert.ok(Math.abs(real - Date.now()) < 1_000)
    assert.ok(Math.abs(real - 10 * MINUTE - skewed) < 1_000)
  })
})
