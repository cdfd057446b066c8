import {estimateCost, type CostConfig} from './cost.js'
import {UsageError} from './errors.js'
import {READY_GOAL_SECONDS, type Clock, type Stats, type TimeWindow, type TypeOwnerUsage, type Usage} from './ports.js'

const DAY_MS = 86_400_000

/** `--period`: the last 7, 30 or 90 days up to now (rolling, not calendar: every period is a whole number of days). */
export const PERIOD_DAYS = {week: 7, month: 30, quarter: 90} as const
export type Period = keyof typeof PERIOD_DAYS

/** One group of the report (a type or an owner): demos created in the window, demo-hours and their estimated cost. */
export interface UsageGroup {
  created: number
  hours: number
  cost: number
}

/** `demo stats`: the --json contract. Durations in seconds, money in `cost.currency`. */
export interface UsageReport {
  since: string
  until: string
  /** `week`, `month`, `quarter`, or `since` when --since gave the start. */
  period: Period | 'since'
  created: number
  uniqueUsers: number
  ready: number
  failed: number
  failedByReason: Array<{reason: string; count: number}>
  destroyed: {byHand: number; byGc: number}
  extended: number
  timeToReady: {count: number; p50Seconds: number | null; p95Seconds: number | null; goalSeconds: number; shareWithinGoal: number | null}
  averageLifetimeSeconds: number | null
  peakConcurrent: number
  demoHours: number
  cost: {currency: string; amount: number}
  byType: Array<UsageGroup & {type: string}>
  byOwner: Array<UsageGroup & {owner: string}>
  /** Every ISO week (Monday, UTC) the window touches, empty ones too, oldest first. */
  weeks: Array<{weekStart: string; created: number}>
}

/**
 * The window of `demo stats`: the period up to now, or from `since` (a date, "2026-11-01", or a moment with a
 * time) up to now. UsageError for a date that does not parse or lies in the future.
 */
export function statsWindow(
  clock: Clock,
  options: {period?: Period | undefined; since?: string | undefined},
): {window: TimeWindow; period: Period | 'since'} {
  const until = clock.now()
  if (options.since === undefined) {
    const period = options.period ?? 'month'
    return {window: {since: new Date(until.getTime() - PERIOD_DAYS[period] * DAY_MS), until}, period}
  }
  const since = parseSince(options.since)
  if (since.getTime() > until.getTime()) {
    throw new UsageError(`--since ${options.since} is in the future (now is ${until.toISOString()}).`, {
      hint: 'Give a date in the past, e.g. `demo stats --since 2026-11-01`, or use --period week|month|quarter.',
    })
  }
  return {window: {since, until}, period: 'since'}
}

function parseSince(text: string): Date {
  const trimmed = text.trim()
  const isDate = /^\d{4}-\d{2}-\d{2}$/.test(trimmed)
  const isMoment = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(trimmed)
  // A date alone is midnight UTC (as Date parses it); a moment without a zone is UTC too, the same on every machine.
  const normalized = isMoment && !/(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) ? `${trimmed.replace(' ', 'T')}Z` : trimmed
  const parsed = isDate || isMoment ? new Date(normalized) : new Date(Number.NaN)
  if (Number.isNaN(parsed.getTime()) || (isDate && parsed.toISOString().slice(0, 10) !== trimmed)) {
    throw new UsageError(`Cannot parse --since "${text}" as a date.`, {
      hint: 'Use YYYY-MM-DD (UTC midnight) or an ISO 8601 moment, e.g. --since 2026-11-01 or --since 2026-11-01T09:00Z.',
    })
  }
  return parsed
}

function groupBy<K extends 'type' | 'owner'>(rows: TypeOwnerUsage[], key: K, costOf: (row: TypeOwnerUsage) => number) {
  const groups = new Map<string, UsageGroup>()
  for (const row of rows) {
    const group = groups.get(row[key]) ?? {created: 0, hours: 0, cost: 0}
    group.created += row.created
    group.hours += row.hours
    group.cost += costOf(row)
    groups.set(row[key], group)
  }
  return [...groups].map(([name, group]) => ({[key]: name, ...group}) as UsageGroup & Record<K, string>).sort((a, b) => b.hours - a.hours)
}

/** The Monday (UTC) of the week of `at`, as YYYY-MM-DD. */
export function weekStart(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7))
  return day.toISOString().slice(0, 10)
}

function everyWeek(window: TimeWindow, counted: Usage['weeks']): UsageReport['weeks'] {
  const created = new Map(counted.map((w) => [w.weekStart, w.created]))
  const weeks: UsageReport['weeks'] = []
  const last = weekStart(new Date(window.until.getTime() - 1))
  for (let day = new Date(`${weekStart(window.since)}T00:00:00Z`); ; day = new Date(day.getTime() + 7 * DAY_MS)) {
    const start = day.toISOString().slice(0, 10)
    weeks.push({weekStart: start, created: created.get(start) ?? 0})
    if (start >= last) return weeks
  }
}

/**
 * The usage of `window` with its estimated cost (each demo-hour priced by its type: core/cost.ts). Read-only.
 * Either dependency may still be on its way: the aggregate starts as soon as the store is open, while the config
 * loads (in the CLI that is ~100 ms of zod and js-yaml, the query runs meanwhile); a config error still wins.
 */
export async function reportUsage(
  deps: {stats: Stats | Promise<Stats>; config: CostConfig | Promise<CostConfig>},
  window: TimeWindow,
  period: Period | 'since',
): Promise<UsageReport> {
  const counting = Promise.resolve(deps.stats).then((stats) => stats.usage(window))
  counting.catch(() => {}) // awaited below, once the config is in
  const config = await deps.config
  return usageReport(await counting, config, window, period)
}

function usageReport(usage: Usage, config: CostConfig, window: TimeWindow, period: Period | 'since'): UsageReport {
  const costOf = (row: TypeOwnerUsage) => estimateCost(config, row.type, row.hours).amount
  const {timeToReady} = usage
  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    period,
    created: usage.created,
    uniqueUsers: usage.uniqueUsers,
    ready: usage.ready,
    failed: usage.failed,
    failedByReason: usage.failedByReason,
    destroyed: {byHand: usage.destroyedByHand, byGc: usage.destroyedByGc},
    extended: usage.extended,
    timeToReady: {
      count: timeToReady.count,
      p50Seconds: timeToReady.p50Seconds,
      p95Seconds: timeToReady.p95Seconds,
      goalSeconds: READY_GOAL_SECONDS,
      shareWithinGoal: timeToReady.count === 0 ? null : timeToReady.withinGoal / timeToReady.count,
    },
    averageLifetimeSeconds: usage.averageLifetimeSeconds,
    peakConcurrent: usage.peakConcurrent,
    demoHours: usage.byTypeAndOwner.reduce((sum, row) => sum + row.hours, 0),
    cost: {currency: config.cost.currency, amount: usage.byTypeAndOwner.reduce((sum, row) => sum + costOf(row), 0)},
    byType: groupBy(usage.byTypeAndOwner, 'type', costOf),
    byOwner: groupBy(usage.byTypeAndOwner, 'owner', costOf),
    weeks: everyWeek(window, usage.weeks),
  }
}
