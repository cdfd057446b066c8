import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {money} from '../core/cost.js'
import {formatDuration} from '../core/duration.js'
import type {ProjectConfig} from '../core/project-config.js'
import {PERIOD_DAYS, reportUsage, statsWindow, type Period, type UsageReport} from '../core/usage-report.js'
import {localTime, table} from '../render.js'

const BAR_WIDTH = 30

export default class Stats extends BaseCommand<typeof Stats> {
  static override summary = 'Usage of the demos: created, ready, failed, destroyed, time to ready, concurrency, demo-hours and estimated cost.'
  static override description = `Aggregated in the state database from the audit trail (demo_orchestrator.demo_events); read-only. A demo counts from its creation to its first destroyed or failed event; demo-hours inside the window are priced by \`cost\` in demo.config.yaml (an estimate, not a bill). Periods are rolling: the last 7, 30 or 90 days up to now.`
  static override examples = [
    '<%= config.bin %> stats',
    '<%= config.bin %> stats --period quarter',
    '<%= config.bin %> stats --since 2026-11-01 --json',
  ]

  static override flags = {
    period: Flags.option({
      options: Object.keys(PERIOD_DAYS) as Period[],
      description: 'The last week (7 days), month (30 days) or quarter (90 days) up to now. [default: month]',
      exclusive: ['since'],
    })(),
    since: Flags.string({description: 'From this date (YYYY-MM-DD, UTC) or ISO 8601 moment up to now, instead of --period.'}),
  }

  async run(): Promise<UsageReport> {
    const {deps, flags} = this
    const {window, period} = statsWindow(deps.clock, {period: flags.period, since: flags.since})
    // The aggregate is the long pole (~100-250 ms in the server): the store opens first, and the config (zod and
    // js-yaml: ~60-100 ms of CPU that would hold up sending the query) loads once the query is on its way. A bad
    // config still fails the command.
    const stats = deps.stats()
    const config = stats.then(afterPendingIo, afterPendingIo).then(async () => (await deps.config()).project)
    const report = await reportUsage({stats, config}, window, period)
    // Rendering the table costs ~30 ms (Intl date formatting); --json prints only the report.
    if (!this.jsonEnabled()) this.log(renderReport(report, await config))
    return report
  }
}

/** Resolves after the callbacks already queued (the query reportUsage sends once the store is open) have run. */
function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function seconds(value: number | null): string {
  return value === null ? '-' : formatDuration(value * 1000)
}

function percent(share: number | null): string {
  return share === null ? '-' : `${Math.round(share * 100)}%`
}

function hoursText(hours: number): string {
  return hours.toFixed(1)
}

function summary(report: UsageReport, config: ProjectConfig): string[][] {
  const {timeToReady: ready} = report
  const reasons = report.failedByReason.map((r) => `${r.reason} ${r.count}`).join('; ')
  return [
    ['Demos created', String(report.created), `by ${report.uniqueUsers} ${report.uniqueUsers === 1 ? 'person' : 'people'}`],
    ['Ready', String(report.ready), ''],
    ['Failed', String(report.failed), reasons],
    ['Destroyed', String(report.destroyed.byHand + report.destroyed.byGc), `by hand ${report.destroyed.byHand}, by gc ${report.destroyed.byGc}`],
    ['Extended', String(report.extended), ''],
    [
      'Time to ready',
      `p50 ${seconds(ready.p50Seconds)}`,
      `p95 ${seconds(ready.p95Seconds)}; ${percent(ready.shareWithinGoal)} within ${ready.goalSeconds / 60} minutes`,
    ],
    ['Average lifetime', seconds(report.averageLifetimeSeconds), ''],
    ['Peak concurrent', String(report.peakConcurrent), ''],
    ['Demo-hours', hoursText(report.demoHours), ''],
    ['Estimated cost', money(report.cost.amount, config), 'priced by `cost` in demo.config.yaml'],
  ]
}

/** One bar per week, scaled to the busiest week. */
function chart(weeks: UsageReport['weeks']): string {
  const most = Math.max(1, ...weeks.map((w) => w.created))
  return weeks.map((w) => `${w.weekStart}  ${'█'.repeat(Math.round((w.created / most) * BAR_WIDTH)).padEnd(BAR_WIDTH)}  ${w.created}`).join('\n')
}

/** The report for people: the summary, by type, by owner, and demos created per week as bars. */
export function renderReport(report: UsageReport, config: ProjectConfig): string {
  const range = `${localTime(new Date(report.since))} to ${localTime(new Date(report.until))}`
  const groupRow = (name: string, g: {created: number; hours: number; cost: number}) => [
    name,
    String(g.created),
    hoursText(g.hours),
    money(g.cost, config),
  ]
  return [
    `Demo usage, ${range}${report.period === 'since' ? '' : ` (last ${PERIOD_DAYS[report.period]} days)`}`,
    '',
    table(['', '', ''], summary(report, config)).split('\n').slice(1).join('\n'),
    '',
    'By type',
    table(
      ['TYPE', 'CREATED', 'HOURS', 'COST'],
      report.byType.map((g) => groupRow(g.type, g)),
    ),
    '',
    'By owner',
    table(
      ['OWNER', 'CREATED', 'HOURS', 'COST'],
      report.byOwner.map((g) => groupRow(g.owner, g)),
    ),
    '',
    'Created per week (weeks from Monday, UTC)',
    chart(report.weeks),
  ].join('\n')
}
