import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Lanes} from '../../src/core/lanes.js'

/** A promise resolved from outside, to step tasks by hand (no timers). */
function gate(): {promise: Promise<void>; open: () => void} {
  let open = () => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return {promise, open}
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('Lanes', () => {
  it('runs at most `limit` tasks at once', async () => {
    const lanes = new Lanes(2)
    let working = 0
    let peak = 0
    const gates = [gate(), gate(), gate(), gate()]
    const all = Promise.all(
      gates.map((g) =>
        lanes.run(async () => {
          working += 1
          peak = Math.max(peak, working)
          await g.promise
          working -= 1
        }),
      ),
    )
    await settle()
    assert.equal(working, 2)
    for (const g of gates) g.open()
    await all
    assert.equal(peak, 2)
  })

  it('a task waiting in idle() gives its lane to a task not started, and gets one back before later ones start', async () => {
    const lanes = new Lanes(1)
    const order: string[] = []
    const wait = gate()
    const second = gate()
    const first = lanes.run(async () => {
      order.push('first: delete')
      await lanes.idle(() => wait.promise)
      order.push('first: mark destroyed')
    })
    const secondRun = lanes.run(async () => {
      order.push('second: delete')
      await second.promise
      order.push('second: done')
    })
    const third = lanes.run(async () => {
      order.push('third: delete')
    })
    await settle()
    assert.deepEqual(order, ['first: delete', 'second: delete'])
    wait.open()
    await settle()
    second.open()
    await Promise.all([first, secondRun, third])
    assert.deepEqual(order, ['first: delete', 'second: delete', 'second: done', 'first: mark destroyed', 'third: delete'])
  })

  it('gives the lane back when the idle work throws', async () => {
    const lanes = new Lanes(1)
    await assert.rejects(
      lanes.run(() => lanes.idle(() => Promise.reject(new Error('timed out')))),
      /timed out/,
    )
    assert.equal(await lanes.run(() => Promise.resolve('next')), 'next')
  })
})

describe('Lanes: waits', () => {
  it('lets every task wait at once, even with one lane: waits are not capped', async () => {
    const lanes = new Lanes(1)
    let waiting = 0
    const gates = Array.from({length: 50}, () => gate())
    const all = Promise.all(
      gates.map((g) =>
        lanes.run(() =>
          lanes.idle(async () => {
            waiting += 1
            await g.promise
            waiting -= 1
          }),
        ),
      ),
    )
    await settle()
    assert.equal(waiting, 50)
    for (const g of gates) g.open()
    await all
    assert.equal(waiting, 0)
  })
})
