import assert from 'node:assert/strict'
import {test} from 'node:test'
import {byCodeUnit} from '../../src/core/order.js'

test('byCodeUnit orders demo ids, DNS labels and ISO timestamps as localeCompare does', () => {
  const names = ['web-2', 'web', 'api', 'web-10', 'a1', 'a-1', 'k3x9a2bq', 'portal', '0abc', 'web2', 'z', 'api-gateway']
  const times = ['2026-11-25T12:00:00.000Z', '2026-11-25T09:30:00.000Z', '2026-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']
  for (const values of [names, times]) {
    assert.deepEqual(
      [...values].sort(byCodeUnit),
      [...values].sort((a, b) => a.localeCompare(b)),
    )
  }
  assert.equal(byCodeUnit('same', 'same'), 0)
})
