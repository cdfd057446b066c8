import {estimateCost, money, type CostConfig, type CostEstimate} from './cost.js'
import {formatDuration} from './duration.js'
import {LimitError} from './errors.js'
import type {Clock, Stats, TimeWindow} from './ports.js'
import type {ProjectConfig} from './project-config.js'

const HOUR_MS = 3_600_000
/** How many of the biggest spenders a refusal names. */
const NAMED_SPENDERS = 5

export type BudgetConfig = CostConfig & Pick<ProjectConfig, 'limits'>

/** The calendar month (UTC) of `at`. */
export function monthOf(at: Date): TimeWindow {
  return {
    since: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)),
    until: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)),
  }
}

/** What a demo of `demoType` living `ttlMs` is estimated to cost (create prints it). */
export function estimateDemoCost(config: CostConfig, demoType: string, ttlMs: number): CostEstimate {
  return estimateCost(config, demoType, ttlMs / HOUR_MS)
}

/** "$1.00 (2h × $0.50/h)". */
export function describeEstimate(estimate: CostEstimate, config: CostConfig): string {
  return `${money(estimate.amount, config)} (${formatDuration(estimate.hours * HOUR_MS)} × ${money(estimate.perHour, config)}/h: ${estimate.basis})`
}

/**
 * Refuses a create that would take this month's cost over `limits.monthlyBudget` (no budget: nothing to check).
 * The month's cost is what its demos are committed to (Stats.committedHours: a live demo counted to its expiry),
 * plus the part of the new demo's lifetime inside the month. LimitError names the numbers and the biggest spenders.
 * Read-only; not under the insert's lock, so two creates at the same moment may both pass (a budget, not a cap).
 */
export async function checkMonthlyBudget(
  deps: {stats: Stats; config: BudgetConfig; clock: Clock},
  request: {demoType: string; ttlMs: number},
): Promise<void> {
  const budget = deps.config.limits.monthlyBudget
  if (budget === undefined) return
  const now = deps.clock.now()
  const month = monthOf(now)
  const committed = await deps.stats.committedHours(month, now)
  const byOwner = new Map<string, number>()
  for (const row of committed) byOwner.set(row.owner, (byOwner.get(row.owner) ?? 0) + estimateCost(deps.config, row.type, row.hours).amount)
  const spent = [...byOwner.values()].reduce((sum, amount) => sum + amount, 0)
  const inMonthMs = Math.min(request.ttlMs, month.until.getTime() - now.getTime())
  const added = estimateDemoCost(deps.config, request.demoType, inMonthMs)
  if (spent + added.amount <= budget) return
  const fmt = (amount: number) => money(amount, deps.config)
  const spenders = [...byOwner]
    .sort((a, b) => b[1] - a[1])
    .slice(0, NAMED_SPENDERS)
    .map(([owner, amount]) => `${owner} ${fmt(amount)}`)
  const monthName = now.toISOString().slice(0, 7)
  throw new LimitError(
    `Cannot create a demo: it would take ${monthName} (UTC) over limits.monthlyBudget of ${fmt(budget)}: ${fmt(spent)} is committed` +
      `${spenders.length > 0 ? ` (${spenders.join(', ')}${byOwner.size > NAMED_SPENDERS ? ', …' : ''})` : ''}` +
      ` and this demo adds ${describeEstimate(added, deps.config)}, ${fmt(spent + added.amount)} in all.`,
    {
      hint: 'Destroy demos nobody uses (`demo list`), ask for a shorter one (--duration), or raise limits.monthlyBudget in demo.config.yaml. `demo stats` shows the spending.',
    },
  )
}
