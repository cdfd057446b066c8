import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {BUILT_IN_DEMO, mebibytes, millicores, nodesFor, shortfall} from '../../bench/lib/capacity.js'

describe('bench capacity check', () => {
  it('reads CPU and memory quantities', () => {
    assert.equal(millicores('100m'), 100)
    assert.equal(millicores('32'), 32_000)
    assert.equal(mebibytes('128Mi'), 128)
    assert.equal(mebibytes('256Gi'), 256 * 1024)
    assert.equal(mebibytes(String(2 ** 20)), 1)
  })

  it('says which resource is short for 200 demos on three fake nodes (330 pods)', () => {
    const missing = shortfall({pods: 330, cpuMillis: 96_000, memoryMiB: 3 * 256 * 1024}, 200, BUILT_IN_DEMO)
    assert.deepEqual(missing, ['1200 pods (room for 330)', '120 CPU requested (room for 96)'])
  })

  it('finds no shortfall when the demos fit', () => {
    assert.deepEqual(shortfall({pods: 1300, cpuMillis: 400_000, memoryMiB: 4e6}, 200, BUILT_IN_DEMO), [])
  })

  it('asks for enough 110-pod nodes for the demos and what runs already, plus one', () => {
    assert.equal(nodesFor(200, BUILT_IN_DEMO, 0), 12)
    assert.equal(nodesFor(50, BUILT_IN_DEMO, 100), 5)
  })
})
