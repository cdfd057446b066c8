// demo stats in process against the memory store and its Stats fake (held to the same contract as the SQL):
// the window, pricing, rendering and refusals. The SQL itself: test/integration/store/stats.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import StatsCommand from '../../../src/commands/stats.js'
import type {UsageReport} from '../../../src/core/usage-report.js'
import {runInProcess, said, World} from '../../support/in-process.js'

const HOUR = 3_600_000
/** 2 CPU × 0.5 + 4 GiB × 0.25 = 2 an hour; a startup costs 1 an hour. */
const PRICED = {quota: {'requests.cpu': '2', 'requests.memory': '4Gi'}, cost: {currency: 'EUR', cpuHour: 0.5, gibHour: 0.25, typeHour: {startup: 1}}}

/** The world's clock says 2026-11-25 12:00 UTC: a month back is 26 Oct 12:00. */
async function aMonthOfDemos(world: World): Promise<void> {
  const at = (iso: string) => new Date(iso)
  const a = await world.aStoredDemo({createdBy: 'alice', demoType: 'recruiting-agency', createdAt: at('2026-11-23T10:00:00Z')})
  world.store.log.push({demoId: a.id, type: 'ready', at: at('2026-11-23T10:02:00Z'), actor: 'alice', data: {}})
  world.store.log.push({demoId: a.id, type: 'destroyed', at: at('2026-11-23T14:00:00Z'), actor: 'gc', data: {}})
  const b = await world.aStoredDemo({createdBy: 'bob', demoType: 'startup', createdAt: at('2026-11-10T09:00:00Z')})
  world.store.log.push({demoId: b.id, type: 'failed', at: at('2026-11-10T11:00:00Z'), actor: 'bob', data: {reason: 'timeout'}})
  const old = await world.aStoredDemo({createdBy: 'carol', createdAt: at('2026-09-01T09:00:00Z')})
  world.store.log.push({demoId: old.id, type: 'destroyed', at: at('2026-09-01T10:00:00Z'), actor: 'carol', data: {}})
}

describe('demo stats (in process)', () => {
  it('reports the last 30 days by default, priced by the config (--json)', async () => {
    const world = new World(PRICED)
    await aMonthOfDemos(world)
    const run = await runInProcess<UsageReport>(StatsCommand, ['--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    const report = JSON.parse(run.stdout) as UsageReport
    assert.equal(report.period, 'month')
    assert.equal(report.since, '2026-10-26T12:00:00.000Z')
    assert.equal(report.until, '2026-11-25T12:00:00.000Z')
    assert.equal(report.created, 2)
    assert.equal(report.uniqueUsers, 2)
    assert.deepEqual(report.destroyed, {byHand: 0, byGc: 1})
    assert.deepEqual(report.failedByReason, [{reason: 'timeout', count: 1}])
    assert.deepEqual(report.timeToReady, {count: 1, p50Seconds: 120, p95Seconds: 120, goalSeconds: 180, shareWithinGoal: 1})
    // alice 4 h of recruiting-agency at 2 an hour; bob 2 h of startup at 1 an hour.
    assert.equal(report.demoHours, 6)
    assert.deepEqual(report.cost, {currency: 'EUR', amount: 10})
    assert.deepEqual(report.byOwner, [
      {owner: 'alice', created: 1, hours: 4, cost: 8},
      {owner: 'bob', created: 1, hours: 2, cost: 2},
    ])
    assert.deepEqual(
      report.byType.map((t) => t.type),
      ['recruiting-agency', 'startup'],
    )
    assert.equal(report.weeks.length, 5)
    assert.deepEqual(report.weeks.at(-1), {weekStart: '2026-11-23', created: 1})
    assert.deepEqual(report.weeks.at(-3), {weekStart: '2026-11-09', created: 1})
  })

  it('prints a table, the groups and a week-by-week bar chart for people', async () => {
    const world = new World(PRICED)
    await aMonthOfDemos(world)
    const run = await runInProcess(StatsCommand, ['--period', 'week'], world)
    assert.equal(run.exitCode, 0, said(run))
    assert.match(run.stdout, /^Demo usage, .* \(last 7 days\)$/m)
    assert.match(run.stdout, /^Demos created +1 +by 1 person$/m)
    assert.match(run.stdout, /^Destroyed +1 +by hand 0, by gc 1$/m)
    assert.match(run.stdout, /^Time to ready +p50 2m +p95 2m; 100% within 3 minutes$/m)
    assert.match(run.stdout, /^Estimated cost +€8\.00/m)
    assert.match(run.stdout, /^OWNER +CREATED +HOURS +COST\nalice +1 +4\.0 +€8\.00$/m)
    assert.match(run.stdout, /^2026-11-23 +█{30} +1$/m)
    assert.match(run.stdout, /^2026-11-16 +0$/m)
  })

  it('takes --since as a UTC date', async () => {
    const world = new World(PRICED)
    await aMonthOfDemos(world)
    const run = await runInProcess<UsageReport>(StatsCommand, ['--since', '2026-09-01', '--json'], world)
    assert.equal(run.exitCode, 0, said(run))
    const report = JSON.parse(run.stdout) as UsageReport
    assert.equal(report.period, 'since')
    assert.equal(report.since, '2026-09-01T00:00:00.000Z')
    assert.equal(report.created, 3)
    assert.equal(report.destroyed.byHand, 1)
    assert.equal(report.averageLifetimeSeconds, ((HOUR / 1000) * (1 + 4 + 2)) / 3)
  })

  const refusals: Array<[string, string[], RegExp]> = [
    ['an unknown --period', ['--period', 'fortnight'], /Expected --period=fortnight to be one of: week, month, quarter/],
    ['a --since in the future', ['--since', '2026-12-01'], /^Error: --since 2026-12-01 is in the future .*\nHint: Give a date in the past/],
    ['an unparseable --since', ['--since', 'last tuesday'], /^Error: Cannot parse --since "last tuesday" as a date\.\nHint: Use YYYY-MM-DD/],
    ['an impossible date', ['--since', '2026-02-30'], /^Error: Cannot parse --since "2026-02-30"/],
    ['--since with --period', ['--since', '2026-11-01', '--period', 'week'], /cannot also be provided when using/],
  ]
  for (const [what, argv, message] of refusals) {
    it(`refuses ${what} with exit 2 before it opens the state store`, async () => {
      const world = new World(PRICED)
      const run = await runInProcess(StatsCommand, argv, world)
      assert.equal(run.exitCode, 2, said(run))
      assert.match(`${run.stderr}${run.error?.message ?? ''}`, message)
      assert.equal(world.storeOpened, false)
    })
  }
})
