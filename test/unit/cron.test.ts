import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {cronProblem, parseCronSchedule} from '../../src/core/cron.js'
import {UsageError} from '../../src/core/errors.js'

describe('cron schedules (as a CronJob takes them)', () => {
  for (const schedule of [
    '*/15 * * * *',
    '0 3 * * *',
    '0 9-17 * * MON-FRI',
    '5,35 */2 1-15 JAN,jul ?',
    '0 0 * * 7',
    '@hourly',
    '@daily',
    ' 1 2 3 4 5 ',
  ]) {
    it(`accepts "${schedule}"`, () => assert.equal(cronProblem(schedule), undefined))
  }

  const bad: Array<[string, RegExp]> = [
    ['* * * *', /4 field\(s\); a schedule has 5/],
    ['* * * * * *', /6 field\(s\)/],
    ['61 * * * *', /minute field: "61" is not a minute \(0-59\)/],
    ['* 24 * * *', /hour field/],
    ['* * 0 * *', /day of month field/],
    ['* * * 13 *', /month field/],
    ['* * * * 8', /day of week field/],
    ['*/0 * * * *', /bad step/],
    ['10-5 * * * *', /ends before it starts/],
    ['? * * * *', /minute field/],
    ['every 15 minutes', /5 field|field/],
    ['@every 1h', /is not one of @yearly/],
    ['TZ=UTC 0 * * * *', /time zone prefix/],
    ['', /field/],
  ]
  for (const [schedule, reason] of bad) {
    it(`refuses "${schedule}"`, () => assert.match(cronProblem(schedule) ?? '', reason))
  }

  it('parseCronSchedule names the flag in a usage error (exit 2)', () => {
    assert.throws(
      () => parseCronSchedule('61 * * * *', '--schedule'),
      (error: unknown) =>
        error instanceof UsageError &&
        error.exitCode === 2 &&
        /--schedule "61 \* \* \* \*"/.test(error.message) &&
        /--schedule "\*\/15/.test(error.hint ?? ''),
    )
  })
})
