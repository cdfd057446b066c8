import {READY_GOAL_SECONDS, type Stats, type TimeWindow, type TypeOwnerUsage, type Usage} from '../../core/ports.js'
import type {Db} from './db.js'

const T = 'demo_orchestrator.demo_instances'
const E = 'demo_orchestrator.demo_events'

/** The end of each demo's life: its first `destroyed` or `failed` event (idx_demo_events_ends, migration 0005). */
const ENDS = `SELECT demo_id, min(at) AS ended FROM ${E} WHERE type IN ('destroyed', 'failed') GROUP BY demo_id`

/**
 * The demos alive at some moment of [$1, $2): created before $2, and not ended by $1. `open_end` is where a demo
 * that has not ended stops counting (the window's end, or its expiry for committed hours).
 */
function spans(openEnd: string): string {
  return `ends AS (${ENDS}),
  spans AS (
    SELECT i.demo_type, i.created_by, i.created_at AS started, ends.ended, least(coalesce(ends.ended, ${openEnd}), $2::timestamptz) AS stopped
      FROM ${T} i LEFT JOIN ends ON ends.demo_id = i.id
     WHERE i.created_at < $2::timestamptz AND (ends.ended IS NULL OR ends.ended > $1::timestamptz)
  )`
}

const BY_TYPE_AND_OWNER = `SELECT demo_type AS type, created_by AS owner, count(*) FILTER (WHERE started >= $1::timestamptz)::int AS created,
         coalesce(sum(greatest(extract(epoch FROM stopped - greatest(started, $1::timestamptz)), 0)), 0)::float8 / 3600 AS hours
    FROM spans GROUP BY demo_type, created_by`

const COUNTS = `SELECT count(*) FILTER (WHERE type = 'created')::int AS created,
       count(DISTINCT actor) FILTER (WHERE type = 'created')::int AS unique_users,
       count(*) FILTER (WHERE type = 'ready')::int AS ready,
       count(*) FILTER (WHERE type = 'failed')::int AS failed,
       count(*) FILTER (WHERE type = 'destroyed' AND actor <> 'gc')::int AS destroyed_by_hand,
       count(*) FILTER (WHERE type = 'destroyed' AND actor = 'gc')::int AS destroyed_by_gc,
       count(*) FILTER (WHERE type = 'extended')::int AS extended
  FROM ${E} WHERE at >= $1::timestamptz AND at < $2::timestamptz`

const FAILED_BY_REASON = `SELECT coalesce(data->>'reason', 'unknown') AS reason, count(*)::int AS count
  FROM ${E} WHERE type = 'failed' AND at >= $1::timestamptz AND at < $2::timestamptz
 GROUP BY 1`

const TIME_TO_READY = `SELECT count(*)::int AS count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95,
       count(*) FILTER (WHERE seconds <= $3)::int AS within_goal
  FROM (SELECT extract(epoch FROM e.at - i.created_at)::float8 AS seconds
          FROM ${E} e JOIN ${T} i ON i.id = e.demo_id
         WHERE e.type = 'ready' AND e.at >= $1::timestamptz AND e.at < $2::timestamptz) r`

const AVERAGE_LIFETIME = `WITH ends AS (${ENDS})
SELECT avg(extract(epoch FROM ends.ended - i.created_at))::float8 AS seconds
  FROM ends JOIN ${T} i ON i.id = ends.demo_id
 WHERE ends.ended >= $1::timestamptz AND ends.ended < $2::timestamptz`

// Starts are clamped to the window's start; at one moment an end sorts before a start (d -1 before +1).
const PEAK = `WITH ${spans('$2::timestamptz')},
  points AS (SELECT greatest(started, $1::timestamptz) AS t, 1 AS d FROM spans
             UNION ALL SELECT ended, -1 FROM spans WHERE ended < $2::timestamptz)
SELECT coalesce(max(alive), 0)::int AS peak FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS alive FROM points) p`

const WEEKS = `SELECT to_char(date_trunc('week', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS week_start, count(*)::int AS created
  FROM ${E} WHERE type = 'created' AND at >= $1::timestamptz AND at < $2::timestamptz
 GROUP BY 1 ORDER BY 1`

/** Every statement `usage` runs, in order ($1 since, $2 until, $3 the goal in seconds): for the benchmark's psql peer. */
export const USAGE_STATEMENTS: readonly string[] = [
  COUNTS,
  FAILED_BY_REASON,
  TIME_TO_READY,
  AVERAGE_LIFETIME,
  PEAK,
  `WITH ${spans('$2::timestamptz')} ${BY_TYPE_AND_OWNER}`,
  WEEKS,
]

type Row = Record<string, unknown>

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

/** Code-point order, the same on every server whatever its collation. */
function byText<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
}

function typeOwners(rows: Row[]): TypeOwnerUsage[] {
  return rows
    .map(toTypeOwner)
    .sort(byText((u) => u.owner))
    .sort(byText((u) => u.type))
}

function toTypeOwner(row: Row): TypeOwnerUsage {
  return {type: String(row.type), owner: String(row.owner), created: Number(row.created), hours: Number(row.hours)}
}

function toCounts(row: Row): Pick<Usage, 'created' | 'uniqueUsers' | 'ready' | 'failed' | 'destroyedByHand' | 'destroyedByGc' | 'extended'> {
  return {
    created: Number(row.created),
    uniqueUsers: Number(row.unique_users),
    ready: Number(row.ready),
    failed: Number(row.failed),
    destroyedByHand: Number(row.destroyed_by_hand),
    destroyedByGc: Number(row.destroyed_by_gc),
    extended: Number(row.extended),
  }
}

/** The Stats port on PostgreSQL or PGlite: every aggregate is one SQL statement over the events and rows. */
export class PostgresStats implements Stats {
  constructor(private readonly db: Db) {}

  async usage(window: TimeWindow): Promise<Usage> {
    const params = [window.since.toISOString(), window.until.toISOString()]
    // One read-only snapshot, so the numbers agree with each other while creates go on.
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY')
      const first = async (sql: string, extra: unknown[] = []): Promise<Row> => (await tx.query<Row>(sql, [...params, ...extra])).rows[0] ?? {}
      const counts = await first(COUNTS)
      const ready = await first(TIME_TO_READY, [READY_GOAL_SECONDS])
      const lifetime = await first(AVERAGE_LIFETIME)
      const peak = await first(PEAK)
      const reasons = await tx.query<Row>(FAILED_BY_REASON, params)
      const byTypeAndOwner = await tx.query<Row>(`WITH ${spans('$2::timestamptz')} ${BY_TYPE_AND_OWNER}`, params)
      const weeks = await tx.query<Row>(WEEKS, params)
      return {
        ...toCounts(counts),
        failedByReason: reasons.rows
          .map((r) => ({reason: String(r.reason), count: Number(r.count)}))
          .sort(byText((r) => r.reason))
          .sort((a, b) => b.count - a.count),
        timeToReady: {
          count: Number(ready.count),
          p50Seconds: numberOrNull(ready.p50),
          p95Seconds: numberOrNull(ready.p95),
          withinGoal: Number(ready.within_goal),
        },
        averageLifetimeSeconds: numberOrNull(lifetime.seconds),
        peakConcurrent: Number(peak.peak),
        byTypeAndOwner: typeOwners(byTypeAndOwner.rows),
        weeks: weeks.rows.map((r) => ({weekStart: String(r.week_start), created: Number(r.created)})),
      }
    })
  }

  async committedHours(window: TimeWindow, now: Date): Promise<TypeOwnerUsage[]> {
    const sql = `WITH ${spans('greatest(i.expires_at, $3::timestamptz)')} ${BY_TYPE_AND_OWNER}`
    const {rows} = await this.db.query<Row>(sql, [window.since.toISOString(), window.until.toISOString(), now.toISOString()])
    return typeOwners(rows)
  }
}
