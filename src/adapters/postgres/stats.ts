import {READY_GOAL_SECONDS, type Stats, type TimeWindow, type TypeOwnerUsage, type Usage} from '../../core/ports.js'
import type {Db} from './db.js'

const T = 'demo_orchestrator.demo_instances'
const E = 'demo_orchestrator.demo_events'

/** The end of each demo's life: its first `destroyed` or `failed` event (an index-only scan of idx_demo_events_ends, migration 0005). */
const ENDS = `SELECT demo_id, min(at) AS ended FROM ${E} WHERE type IN ('destroyed', 'failed') GROUP BY demo_id`

/** ENDS as the first row of each demo in idx_demo_events_ends (demo_id, at): read in order, no hashing (half the time of min()). */
const FIRST_ENDS = `SELECT DISTINCT ON (demo_id) demo_id, at AS ended FROM ${E} WHERE type IN ('destroyed', 'failed') ORDER BY demo_id, at`

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

const IN_WINDOW = `at >= $1::timestamptz AND at < $2::timestamptz`
/** Of `lives`: alive at some moment of the window (the spans of `spans()`). */
const ALIVE = `started < $2::timestamptz AND (ended IS NULL OR ended > $1::timestamptz)`

/**
 * Everything `usage` answers, in one statement (so one snapshot, one round trip), each event read once where it
 * can be: the window's events by type and time through idx_demo_events_type_at (migration 0006, which carries
 * demo_id and actor, so those reads are index-only), each demo's end once (ENDS), and the demos alive in the
 * window (`lives`, a superset: also the demos that ended in the window, for the average lifetime) once. Small
 * lists come back as JSON. $1 since, $2 until, $3 the ready goal in seconds.
 */
export const USAGE = `WITH
created AS (
  SELECT week, actor, count(*)::int AS n
    FROM (SELECT date_trunc('week', at AT TIME ZONE 'UTC') AS week, actor FROM ${E} WHERE type = 'created' AND ${IN_WINDOW}) c
   GROUP BY GROUPING SETS ((week), (actor))
),
others AS (
  SELECT t.type, c.n, c.by_gc
    FROM unnest(ARRAY['ready', 'failed', 'destroyed', 'extended']) AS t(type),
         LATERAL (SELECT count(*)::int AS n, count(*) FILTER (WHERE actor = 'gc')::int AS by_gc FROM ${E} e WHERE e.type = t.type AND ${IN_WINDOW}) c
),
reasons AS (
  SELECT coalesce(data->>'reason', 'unknown') AS reason, count(*)::int AS count FROM ${E} WHERE type = 'failed' AND ${IN_WINDOW} GROUP BY 1
),
-- date_part gives the float8 that extract(...)::float8 gives (both the exact seconds, rounded once), without numeric.
ready AS (
  SELECT count(*)::int AS count,
         percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY seconds) AS percentiles,
         count(*) FILTER (WHERE seconds <= $3)::int AS within_goal
    FROM (SELECT date_part('epoch', e.at - i.created_at) AS seconds
            FROM ${E} e JOIN ${T} i ON i.id = e.demo_id
           WHERE e.type = 'ready' AND e.at >= $1::timestamptz AND e.at < $2::timestamptz) r
),
ends AS (${FIRST_ENDS}),
lives AS (
  SELECT i.demo_type, i.created_by, i.created_at AS started, ends.ended
    FROM ${T} i LEFT JOIN ends ON ends.demo_id = i.id
   WHERE (i.created_at < $2::timestamptz AND (ends.ended IS NULL OR ends.ended > $1::timestamptz))
      OR (ends.ended >= $1::timestamptz AND ends.ended < $2::timestamptz)
),
-- Per type and owner (the spans: alive in the window), and the average lifetime of the demos that ended in the window (the () set).
per_owner AS (
  SELECT demo_type AS type, created_by AS owner,
         count(*) FILTER (WHERE ${ALIVE} AND started >= $1::timestamptz)::int AS created,
         count(*) FILTER (WHERE ${ALIVE})::int AS alive,
         coalesce(sum(greatest(extract(epoch FROM least(coalesce(ended, $2::timestamptz), $2::timestamptz) - greatest(started, $1::timestamptz)), 0))
                  FILTER (WHERE ${ALIVE}), 0)::float8 / 3600 AS hours,
         avg(extract(epoch FROM ended - started)) FILTER (WHERE ended >= $1::timestamptz AND ended < $2::timestamptz)::float8 AS lifetime
    FROM lives GROUP BY GROUPING SETS ((demo_type, created_by), ())
),
-- The peak is reached at a start: after the last start at moment t, the demos alive are the starts up to t less the
-- ends up to t (an end at the moment another starts does not overlap it). width_bucket counts those by binary search
-- in the sorted starts and ends: two sorts and no window over every point. Starts are clamped to the window's start.
bounds AS (
  SELECT array_agg(greatest(started, $1::timestamptz) ORDER BY greatest(started, $1::timestamptz)) AS starts,
         coalesce(array_agg(ended ORDER BY ended) FILTER (WHERE ended < $2::timestamptz), '{}') AS ends
    FROM lives WHERE ${ALIVE}
)
SELECT (SELECT coalesce(sum(n), 0)::int FROM created WHERE week IS NOT NULL) AS created,
       (SELECT count(*)::int FROM created WHERE actor IS NOT NULL) AS unique_users,
       coalesce((SELECT n FROM others WHERE type = 'ready'), 0) AS ready,
       coalesce((SELECT n FROM others WHERE type = 'failed'), 0) AS failed,
       coalesce((SELECT n - by_gc FROM others WHERE type = 'destroyed'), 0) AS destroyed_by_hand,
       coalesce((SELECT by_gc FROM others WHERE type = 'destroyed'), 0) AS destroyed_by_gc,
       coalesce((SELECT n FROM others WHERE type = 'extended'), 0) AS extended,
       (SELECT json_agg(json_build_object('reason', reason, 'count', count)) FROM reasons) AS failed_by_reason,
       ready.count AS ready_count, ready.percentiles[1] AS p50, ready.percentiles[2] AS p95, ready.within_goal,
       (SELECT lifetime FROM per_owner WHERE type IS NULL) AS lifetime,
       (SELECT coalesce(max(width_bucket(t, bounds.starts) - width_bucket(t, bounds.ends)), 0)::int FROM bounds, unnest(bounds.starts) AS t) AS peak,
       (SELECT json_agg(json_build_object('type', type, 'owner', owner, 'created', created, 'hours', hours)) FROM per_owner WHERE type IS NOT NULL AND alive > 0) AS by_type_and_owner,
       (SELECT json_agg(json_build_object('week_start', to_char(week, 'YYYY-MM-DD'), 'created', n) ORDER BY week) FROM created WHERE week IS NOT NULL) AS weeks
  FROM ready`

export const USAGE_STATEMENTS: readonly string[] = [USAGE]

type Row = Record<string, unknown>

/** A JSON array of objects from json_agg (null when it aggregated nothing); a string when the driver left JSON unparsed. */
function list(value: unknown): Row[] {
  if (value === null || value === undefined) return []
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value
  if (!Array.isArray(parsed)) throw new TypeError(`Expected a JSON array from the stats query, got ${typeof parsed}`)
  return parsed as Row[]
}

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

/** The Stats port on PostgreSQL or PGlite: aggregated in SQL over the events and rows, never by loading them. */
export class PostgresStats implements Stats {
  constructor(private readonly db: Db) {}

  async usage(window: TimeWindow): Promise<Usage> {
    // One statement, so one snapshot: the numbers agree with each other while creates go on.
    const {rows} = await this.db.query<Row>(USAGE, [window.since.toISOString(), window.until.toISOString(), READY_GOAL_SECONDS])
    const row = rows[0] ?? {}
    return {
      ...toCounts(row),
      failedByReason: list(row.failed_by_reason)
        .map((r) => ({reason: String(r.reason), count: Number(r.count)}))
        .sort(byText((r) => r.reason))
        .sort((a, b) => b.count - a.count),
      timeToReady: {
        count: Number(row.ready_count),
        p50Seconds: numberOrNull(row.p50),
        p95Seconds: numberOrNull(row.p95),
        withinGoal: Number(row.within_goal),
      },
      averageLifetimeSeconds: numberOrNull(row.lifetime),
      peakConcurrent: Number(row.peak),
      byTypeAndOwner: typeOwners(list(row.by_type_and_owner)),
      weeks: list(row.weeks).map((r) => ({weekStart: String(r.week_start), created: Number(r.created)})),
    }
  }

  async committedHours(window: TimeWindow, now: Date): Promise<TypeOwnerUsage[]> {
    const sql = `WITH ${spans('greatest(i.expires_at, $3::timestamptz)')} ${BY_TYPE_AND_OWNER}`
    const {rows} = await this.db.query<Row>(sql, [window.since.toISOString(), window.until.toISOString(), now.toISOString()])
    return typeOwners(rows)
  }
}
