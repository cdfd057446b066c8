import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {formatDuration, hours, parseDuration} from '../../src/core/duration.js'
import {UsageError} from '../../src/core/errors.js'

const MINUTE = 60_000
const HOUR = 3_600_000

describe('parseDuration', () => {
  const accepted: Array<[string, number]> = [
    ['2h', 2 * HOUR],
    ['90m', 90 * MINUTE],
    ['1h30m', 90 * MINUTE],
    ['1.5h', 90 * MINUTE],
    ['3', 3 * HOUR],
    ['0.5', 30 * MINUTE],
    ['1d', 24 * HOUR],
    ['  2H ', 2 * HOUR],
    ['1d2h15m', 26 * HOUR + 15 * MINUTE],
  ]
  for (const [text, ms] of accepted) {
    it(`reads "${text}" as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms)
    })
  }

  for (const text of ['', 'abc', '2x', 'h', '-2h', '2h 30m', '2 h', '1h30', 'two hours', '1e3']) {
    it(`refuses "${text}" with a usage error (exit 2) and a hint naming the accepted forms`, () => {
      assert.throws(
        () => parseDuration(text),
        (error: unknown) => {
          assert.ok(error instanceof UsageError)
          assert.equal(error.exitCode, 2)
          assert.equal(error.code, 'E_USAGE')
          assert.match(error.message, /Cannot parse duration/)
          assert.match(error.hint ?? '', /2h, 90m/)
          return true
        },
      )
    })
  }

  it('names what it was parsing in the message', () => {
    assert.throws(() => parseDuration('soon', '--duration'), /Cannot parse --duration "soon"/)
  })
})

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [45_000, '45s'],
    [59_999, '59s'],
    [MINUTE, '1m'],
    [12 * MINUTE, '12m'],
    [HOUR + 5 * MINUTE, '1h 05m'],
    [2 * HOUR, '2h 00m'],
    [47 * HOUR + 59 * MINUTE, '47h 59m'],
    [48 * HOUR, '2d 0h'],
    [50 * HOUR + 30 * MINUTE, '2d 2h'],
    [-12 * MINUTE, '-12m'],
    [-(HOUR + 5 * MINUTE), '-1h 05m'],
    [-30_000, '-30s'],
  ]
  for (const [ms, text] of cases) {
    it(`formats ${ms} ms as "${text}"`, () => {
      assert.equal(formatDuration(ms), text)
    })
  }
})

describe('hours', () => {
  it('converts hours to milliseconds, fractions included', () => {
    assert.equal(hours(2), 2 * HOUR)
    assert.equal(hours(0.25), 15 * MINUTE)
  })
})

describe('parseDuration with bare numbers refused (timeouts)', () => {
  it('refuses "300" for a timeout with a hint to add a unit, rather than reading 300 hours', () => {
    assert.throws(
      () => parseDuration('300', '--wait-timeout', {bareNumber: 'refuse'}),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.message, '--wait-timeout "300" needs a unit.')
        assert.equal(error.hint, 'Write e.g. 300s or 300m (s, m, h).')
        return true
      },
    )
  })

  it('still takes a number with a unit', () => {
    assert.equal(parseDuration('300s', '--wait-timeout', {bareNumber: 'refuse'}), 300_000)
  })
})
