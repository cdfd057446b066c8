import {READY_GOAL_SECONDS, type DemoEvent, type Stats, type TimeWindow, type TypeOwnerUsage, type Usage} from '../../src/core/ports.js'
import type {Demo} from '../../src/core/demo.js'
import type {MemoryDemoStore} from './memory-store.js'

const HOUR = 3_600_000

/** percentile_cont: linear interpolation between the two nearest ranks. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  const position = p * (sorted.length - 1)
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower)
}

function weekStart(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7))
  return day.toISOString().slice(0, 10)
}

function countBy<K>(items: K[], key: (item: K) => string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

interface Span {
  demo: Demo
  ended: Date | undefined
}

/** The Stats port over the memory store's rows and event log, with the same contract as the SQL (test/contract/stats.contract.ts). */
export class MemoryStats implements Stats {
  constructor(private readonly store: MemoryDemoStore) {}

  private inWindow(window: TimeWindow): DemoEvent[] {
    return this.store.log.filter((e) => e.at >= window.since && e.at < window.until)
  }

  private ended(demoId: string): Date | undefined {
    const ends = this.store.log.filter((e) => e.demoId === demoId && (e.type === 'destroyed' || e.type === 'failed')).map((e) => +e.at)
    return ends.length > 0 ? new Date(Math.min(...ends)) : undefined
  }

  private spans(window: TimeWindow): Span[] {
    return [...this.store.rows.values()]
      .map((demo) => ({demo, ended: this.ended(demo.id)}))
      .filter(({demo, ended}) => demo.createdAt < window.until && (ended === undefined || ended > window.since))
  }

  async usage(window: TimeWindow): Promise<Usage> {
    const events = this.inWindow(window)
    const of = (type: DemoEvent['type']) => events.filter((e) => e.type === type)
    const destroyed = of('destroyed')
    const readySeconds = of('ready')
      .map((e) => (+e.at - +this.store.rows.get(e.demoId)!.createdAt) / 1000)
      .sort((a, b) => a - b)
    const reasons = countBy(of('failed'), (e) => (typeof e.data.reason === 'string' ? e.data.reason : 'unknown'))
    const weeks = countBy(of('created'), (e) => weekStart(e.at))
    return {
      created: of('created').length,
      uniqueUsers: new Set(of('created').map((e) => e.actor)).size,
      ready: of('ready').length,
      failed: of('failed').length,
      failedByReason: [...reasons].map(([reason, count]) => ({reason, count})).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
      destroyedByHand: destroyed.filter((e) => e.actor !== 'gc').length,
      destroyedByGc: destroyed.filter((e) => e.actor === 'gc').length,
      extended: of('extended').length,
      timeToReady: {
        count: readySeconds.length,
        p50Seconds: percentile(readySeconds, 0.5),
        p95Seconds: percentile(readySeconds, 0.95),
        withinGoal: readySeconds.filter((s) => s <= READY_GOAL_SECONDS).length,
      },
      averageLifetimeSeconds: this.averageLifetime(window),
      peakConcurrent: this.peak(window),
      byTypeAndOwner: this.byTypeAndOwner(this.spans(window), window, () => window.until),
      weeks: [...weeks].map(([weekStart, created]) => ({weekStart, created})).sort((a, b) => (a.weekStart < b.weekStart ? -1 : 1)),
    }
  }

  async committedHours(window: TimeWindow, now: Date): Promise<TypeOwnerUsage[]> {
    return this.byTypeAndOwner(this.spans(window), window, (demo) => new Date(Math.max(+demo.expiresAt, +now)))
  }

  private averageLifetime(window: TimeWindow): number | null {
    const lifetimes = [...this.store.rows.values()].flatMap((demo) => {
      const ended = this.ended(demo.id)
      return ended && ended >= window.since && ended < window.until ? [(+ended - +demo.createdAt) / 1000] : []
    })
    return lifetimes.length === 0 ? null : lifetimes.reduce((a, b) => a + b, 0) / lifetimes.length
  }

  private peak(window: TimeWindow): number {
    const points = this.spans(window).flatMap(({demo, ended}) => [
      {t: Math.max(+demo.createdAt, +window.since), d: 1},
      ...(ended && ended < window.until ? [{t: +ended, d: -1}] : []),
    ])
    points.sort((a, b) => a.t - b.t || a.d - b.d)
    let alive = 0
    let peak = 0
    for (const point of points) {
      alive += point.d
      peak = Math.max(peak, alive)
    }
    return peak
  }

  private byTypeAndOwner(spans: Span[], window: TimeWindow, openEnd: (demo: Demo) => Date): TypeOwnerUsage[] {
    const groups = new Map<string, TypeOwnerUsage>()
    for (const {demo, ended} of spans) {
      const key = `${demo.demoType}\u0000${demo.createdBy}`
      const group = groups.get(key) ?? {type: demo.demoType, owner: demo.createdBy, created: 0, hours: 0}
      const stopped = Math.min(+(ended ?? openEnd(demo)), +window.until)
      group.hours += Math.max(stopped - Math.max(+demo.createdAt, +window.since), 0) / HOUR
      if (demo.createdAt >= window.since) group.created += 1
      groups.set(key, group)
    }
    return [...groups.values()].sort((a, b) => (a.type === b.type ? (a.owner < b.owner ? -1 : 1) : a.type < b.type ? -1 : 1))
  }
}
