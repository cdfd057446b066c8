import {allowedPredecessors, LEFTOVER_CLEANUPS, LIVE_STATUSES, type Demo, type DemoDatabase} from '../../core/demo.js'
import {DuplicateError, NotFoundError, StateTransitionError, StoreError, VersionConflictError} from '../../core/errors.js'
import type {DemoEvent, DemoFilter, DemoPage, DemoPatch, DemoStore, InsertResult, LiveCaps, NewDemo, Page} from '../../core/ports.js'
import {MAX_REFERENCE_CANDIDATES, MIN_ID_PREFIX} from '../../core/naming.js'
import type {Db} from './db.js'

const T = 'demo_orchestrator.demo_instances'
/** The advisory lock key (SQL) insert counts and inserts under; lock-holders.ts names its holder on a lock timeout. */
export const INSERT_LOCK_KEY = "hashtextextended('demo_orchestrator:insert', 0)"

const E = 'demo_orchestrator.demo_events'
/**
 * Failed rows whose create kept its objects or could not remove them all: the rule is core/demo.ts
 * (mayHoldObjects, LEFTOVER_CLEANUPS), passed in as the parameter `$n`.
 */
function failedWithLeftovers(n: number): string {
  return `(status = 'failed' AND metadata->>'cleanup' = ANY($${n}))`
}

/** Column of each Demo field but `database` (DATABASE_COLUMNS); with them, the single mapping between the table and the domain. */
const COLUMNS = {
  id: 'id',
  name: 'name',
  namespace: 'namespace',
  demoType: 'demo_type',
  status: 'status',
  portalUrl: 'portal_url',
  candidateUrl: 'candidate_url',
  seedValue: 'seed_value',
  kubeContext: 'kube_context',
  clusterId: 'cluster_id',
  createdBy: 'created_by',
  authenticatedAs: 'authenticated_as',
  autoCleanup: 'auto_cleanup',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  expiresAt: 'expires_at',
  readyAt: 'ready_at',
  destroyedAt: 'destroyed_at',
  extensionCount: 'extension_count',
  lastError: 'last_error',
  phaseTimings: 'phase_timings',
  metadata: 'metadata',
  version: 'version',
} as const satisfies Record<Exclude<keyof Demo, 'database'>, string>

type Row = Record<string, unknown>

/**
 * The columns that hold a demo's database (Demo.database, a union keyed by mode). The table kept the columns it
 * had before the union (no destructive migration): which of them a mode uses is decided here, in
 * databaseColumns and toDatabase, and nowhere else.
 */
const DATABASE_COLUMNS = ['database_mode', 'database_schema', 'supabase_project_id', 'supabase_url', 'supabase_anon_key'] as const
type DatabaseColumns = Record<(typeof DATABASE_COLUMNS)[number], string | null>

function databaseColumns(database: DemoDatabase): DatabaseColumns {
  const empty = {database_mode: database.mode, database_schema: null, supabase_project_id: null, supabase_url: null, supabase_anon_key: null}
  switch (database.mode) {
    case 'none':
      return empty
    case 'shared-schema': {
      const {supabase} = database
      return {
        ...empty,
        database_schema: database.schema,
        supabase_project_id: supabase?.projectRef ?? null,
        supabase_url: supabase?.url ?? null,
        supabase_anon_key: supabase?.anonKey ?? null,
      }
    }
    case 'supabase-project':
      return {...empty, supabase_project_id: database.projectRef, supabase_url: database.url, supabase_anon_key: database.anonKey}
  }
}

function textColumn(row: Row, column: (typeof DATABASE_COLUMNS)[number]): string | null {
  const value = row[column]
  return typeof value === 'string' ? value : null
}

/** A row whose database columns do not fit its mode was written outside demo (or by another version): refused, never guessed at. */
function misfit(row: Row, problem: string): StoreError {
  return new StoreError(
    `The state store's row of demo "${String(row.id)}" does not fit its database mode "${String(row.database_mode)}": ${problem}.`,
    {
      hint: 'The row was changed outside demo, or by another version of it; fix its database columns (mode none: all empty; shared-schema: database_schema set) or use that version.',
    },
  )
}

function setColumns(row: Row, columns: ReadonlyArray<(typeof DATABASE_COLUMNS)[number]>): string[] {
  return columns.filter((column) => textColumn(row, column) !== null)
}

function toSharedSchema(row: Row): DemoDatabase {
  const schema = textColumn(row, 'database_schema')
  if (schema === null) throw misfit(row, 'database_schema is empty')
  const [projectRef, url, anonKey] = [textColumn(row, 'supabase_project_id'), textColumn(row, 'supabase_url'), textColumn(row, 'supabase_anon_key')]
  if (projectRef === null && url === null && anonKey === null) return {mode: 'shared-schema', schema, supabase: null}
  if (projectRef === null || url === null || anonKey === null)
    throw misfit(row, 'supabase_project_id, supabase_url and supabase_anon_key must be all set or all empty')
  return {mode: 'shared-schema', schema, supabase: {projectRef, url, anonKey}}
}

function toSupabaseProject(row: Row): DemoDatabase {
  if (textColumn(row, 'database_schema') !== null) throw misfit(row, 'database_schema is set')
  const [projectRef, url, anonKey] = [textColumn(row, 'supabase_project_id'), textColumn(row, 'supabase_url'), textColumn(row, 'supabase_anon_key')]
  if (projectRef === null && (url !== null || anonKey !== null))
    throw misfit(row, 'supabase_url or supabase_anon_key is set without supabase_project_id')
  return {mode: 'supabase-project', projectRef, url, anonKey}
}

function toDatabase(row: Row): DemoDatabase {
  switch (row.database_mode) {
    case 'none': {
      const set = setColumns(row, DATABASE_COLUMNS.slice(1))
      if (set.length > 0) throw misfit(row, `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set`)
      return {mode: 'none'}
    }
    case 'shared-schema':
      return toSharedSchema(row)
    case 'supabase-project':
      return toSupabaseProject(row)
    default:
      throw misfit(row, 'this version of demo knows no such mode')
  }
}

/** The columns and values of some Demo fields, `database` spread over its columns. */
function columnValues(fields: Partial<Record<keyof Demo, unknown>>): Array<[column: string, value: unknown]> {
  return Object.entries(fields).flatMap(([field, value]): Array<[string, unknown]> => {
    if (field === 'database') return Object.entries(databaseColumns(value as DemoDatabase))
    return [[COLUMNS[field as keyof typeof COLUMNS], toParam(field, value)]]
  })
}

const JSON_FIELDS = new Set<string>(['phaseTimings', 'metadata'])

function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value))
}

function toDemo(row: Row): Demo {
  const demo: Record<string, unknown> = {}
  for (const [field, column] of Object.entries(COLUMNS)) demo[field] = row[column]
  demo.database = toDatabase(row)
  for (const field of ['createdAt', 'updatedAt', 'expiresAt'] as const) demo[field] = asDate(demo[field])
  for (const field of ['readyAt', 'destroyedAt'] as const) demo[field] = demo[field] === null ? null : asDate(demo[field])
  demo.version = Number(demo.version)
  demo.extensionCount = Number(demo.extensionCount)
  demo.seedValue = demo.seedValue === null || demo.seedValue === undefined ? null : Number(demo.seedValue)
  return demo as unknown as Demo
}

function toParam(field: string, value: unknown): unknown {
  return JSON_FIELDS.has(field) ? JSON.stringify(value) : value
}

function whereOf(filter: DemoFilter): {sql: string; params: unknown[]} {
  const clauses: string[] = []
  const params: unknown[] = []
  if (filter.statuses && filter.statuses.length > 0) {
    params.push(filter.statuses)
    const inStatuses = `status = ANY($${params.length})`
    if (filter.includeFailedWithLeftovers) params.push([...LEFTOVER_CLEANUPS])
    clauses.push(filter.includeFailedWithLeftovers ? `(${inStatuses} OR ${failedWithLeftovers(params.length)})` : inStatuses)
  }
  if (filter.createdBy) {
    params.push(filter.createdBy)
    clauses.push(`created_by = $${params.length}`)
  }
  if (filter.demoType) {
    params.push(filter.demoType)
    clauses.push(`demo_type = $${params.length}`)
  }
  return {sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params}
}

/** Adds `value` to a statement's parameters; its placeholder ($n). */
function bind(params: unknown[], value: unknown): string {
  params.push(value)
  return `$${params.length}`
}

/** A data-modifying CTE body: appends `event` to the audit trail once for each row of the CTE `from` (none: no event). */
function eventFrom(from: string, event: DemoEvent, params: unknown[]): string {
  const values = [
    `${bind(params, event.demoId)}::text`,
    `${bind(params, event.type)}::text`,
    `${bind(params, event.at)}::timestamptz`,
    `${bind(params, event.actor)}::text`,
    `${bind(params, JSON.stringify(event.data))}::jsonb`,
  ]
  return `INSERT INTO ${E} (demo_id, type, at, actor, data) SELECT ${values.join(', ')} FROM ${from}`
}

/** The id or the namespace (both unique) is taken: a retried insert, or an id picked twice. */
function duplicateDemo(demo: Pick<NewDemo, 'id' | 'namespace'>, cause?: unknown): DuplicateError {
  return new DuplicateError(`Cannot record demo "${demo.id}": the state store already has a demo with that id or namespace "${demo.namespace}".`, {
    cause,
    hint: `Run \`demo get ${demo.id}\` to see it; a new \`demo create\` picks a new id.`,
  })
}

/** The DemoStore on PostgreSQL or PGlite: all SQL of the state store lives here. */
export class PostgresDemoStore implements DemoStore {
  constructor(
    private readonly db: Db,
    private readonly where: string,
  ) {}

  describe(): string {
    return this.where
  }

  async now(): Promise<Date> {
    // clock_timestamp(), not now(): now() is the start of the transaction, and this may run inside one.
    const {rows} = await this.db.query<{now: unknown}>('SELECT clock_timestamp() AS now')
    return asDate(rows[0]?.now)
  }

  async insert(demo: NewDemo, caps: LiveCaps, event: DemoEvent): Promise<InsertResult> {
    try {
      return await this.insertUnderLock(demo, caps, event)
    } catch (error) {
      if (!(error instanceof DuplicateError)) throw error
      throw duplicateDemo(demo, error)
    }
  }

  /**
   * Under a transaction-scoped advisory lock, one statement counts the live demos and inserts the row and its event
   * only when both caps allow: BEGIN, the lock, that statement, COMMIT (four round trips; a count, an insert and
   * an event each had their own before). The statement after the lock, not with it: a statement sees the rows
   * committed when it starts, and only once the lock is held are those all the rows a concurrent create committed.
   * A refusal reads what it names (the owner's live demos, the oldest live ones) in the same transaction.
   */
  private async insertUnderLock(demo: NewDemo, caps: LiveCaps, event: DemoEvent): Promise<InsertResult> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${INSERT_LOCK_KEY})`)
      // The live statuses are core's list (LIVE_STATUSES), passed as a parameter: no second copy in SQL.
      const live = [...LIVE_STATUSES]
      const pairs = columnValues(demo)
      const params: unknown[] = [...pairs.map(([, value]) => value), demo.createdAt]
      const placeholders = params.map((_, i) => `$${i + 1}`)
      const counted = `SELECT count(*) FILTER (WHERE created_by = ${bind(params, demo.createdBy)})::int AS mine, count(*)::int AS total
        FROM ${T} WHERE status = ANY(${bind(params, live)})`
      const {rows} = await tx.query<Row & {cap_mine: number}>(
        `WITH counts AS (${counted}),
          inserted AS (INSERT INTO ${T} (${pairs.map(([column]) => column).join(', ')}, updated_at)
            SELECT ${placeholders.join(', ')} FROM counts
            WHERE counts.mine < ${bind(params, caps.perOwner)} AND counts.total < ${bind(params, caps.global)} RETURNING *),
          appended AS (${eventFrom('inserted', event, params)})
        SELECT counts.mine AS cap_mine, inserted.* FROM counts LEFT JOIN inserted ON true`,
        params,
      )
      const row = rows[0]
      if (row?.id) return {inserted: toDemo(row)}
      if ((row?.cap_mine ?? 0) >= caps.perOwner) {
        const mine = await tx.query<Row>(`SELECT * FROM ${T} WHERE status = ANY($1) AND created_by = $2 ORDER BY expires_at`, [live, demo.createdBy])
        return {refused: 'owner', live: mine.rows.map(toDemo)}
      }
      const oldest = await tx.query<Row>(`SELECT * FROM ${T} WHERE status = ANY($1) ORDER BY expires_at LIMIT 10`, [live])
      return {refused: 'global', live: oldest.rows.map(toDemo)}
    })
  }

  async get(id: string): Promise<Demo | undefined> {
    const {rows} = await this.db.query<Row>(`SELECT * FROM ${T} WHERE id = $1`, [id])
    return rows[0] ? toDemo(rows[0]) : undefined
  }

  async findByReference(ref: string): Promise<Demo[]> {
    // LIKE treats "_" and "%" as wildcards; escaped, the prefix matches literally. Without a long enough
    // prefix the pattern is NULL and matches nothing.
    const prefix = ref.length >= MIN_ID_PREFIX ? `${ref.replaceAll(/[\\%_]/g, '\\$&')}%` : null
    const {rows} = await this.db.query<Row>(
      `SELECT * FROM ${T}
        WHERE id = $1 OR namespace = $1 OR name = $1 OR id LIKE $2 ESCAPE '\\'
        ORDER BY id = $1 DESC, namespace = $1 DESC, (status = ANY($4) OR ${failedWithLeftovers(5)}) DESC, created_at DESC, id
        LIMIT $3`,
      [ref, prefix, MAX_REFERENCE_CANDIDATES, [...LIVE_STATUSES], [...LEFTOVER_CLEANUPS]],
    )
    return rows.map(toDemo)
  }

  async list(filter: DemoFilter, page: Page): Promise<DemoPage> {
    const where = whereOf(filter)
    const n = where.params.length
    // The page alone: ORDER BY … LIMIT walks the created_at index and stops. (A count(*) OVER () here made
    // Postgres read and sort every matching row first.) The total needs its own count only when the page
    // does not already tell it: a full page, or an empty page past the start.
    const {rows} = await this.db.query<Row>(`SELECT * FROM ${T} ${where.sql} ORDER BY created_at DESC, id LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...where.params,
      page.limit,
      page.offset,
    ])
    const pageTellsTotal = rows.length > 0 && rows.length < page.limit
    let total = page.offset + rows.length
    if (!pageTellsTotal && !(rows.length === 0 && page.offset === 0)) {
      const count = await this.db.query<{n: number}>(`SELECT count(*)::int AS n FROM ${T} ${where.sql}`, where.params)
      total = count.rows[0]?.n ?? 0
    }
    return {items: rows.map(toDemo), total}
  }

  /**
   * One statement, so one round trip to a remote database instead of four (BEGIN, UPDATE, INSERT, COMMIT): the
   * event is inserted by a data-modifying CTE from the updated row, so it exists exactly when the update happened.
   * A refused update is explained by a second read (which a concurrent writer may have moved on since, as before).
   */
  async update(id: string, expectedVersion: number, patch: DemoPatch, event?: DemoEvent): Promise<Demo> {
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined))
    const params: unknown[] = [id, expectedVersion]
    const sets = columnValues(defined).map(([column, value]) => `${column} = ${bind(params, value)}`)
    const guard = patch.status ? ` AND status = ANY(${bind(params, allowedPredecessors(patch.status))})` : ''
    const update = `UPDATE ${T} SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
      WHERE id = $1 AND version = $2${guard} RETURNING *`
    const sql = event ? `WITH updated AS (${update}), appended AS (${eventFrom('updated', event, params)}) SELECT * FROM updated` : update
    const {rows} = await this.db.query<Row>(sql, params)
    if (rows[0]) return toDemo(rows[0])
    throw await this.explainRefusal(this.db, id, expectedVersion, patch)
  }

  private async explainRefusal(tx: Db, id: string, expectedVersion: number, patch: DemoPatch): Promise<Error> {
    const {rows} = await tx.query<Row>(`SELECT status, version FROM ${T} WHERE id = $1`, [id])
    const current = rows[0]
    if (!current) return new NotFoundError(`No demo with id "${id}".`, {hint: 'Run `demo list` to see the demos.'})
    if (Number(current.version) !== expectedVersion) {
      return new VersionConflictError(`Demo "${id}" was changed by another process.`, {hint: `Run \`demo get ${id}\` and retry.`})
    }
    return new StateTransitionError(`Demo "${id}" cannot go from ${String(current.status)} to ${String(patch.status)}.`, {
      hint: `Run \`demo get ${id}\` to see its current state.`,
    })
  }

  async events(demoId: string): Promise<DemoEvent[]> {
    const {rows} = await this.db.query<Row>(`SELECT demo_id, type, at, actor, data FROM ${E} WHERE demo_id = $1 ORDER BY id`, [demoId])
    return rows.map((r) => ({
      demoId: String(r.demo_id),
      type: r.type as DemoEvent['type'],
      at: asDate(r.at),
      actor: String(r.actor),
      data: (r.data ?? {}) as Record<string, unknown>,
    }))
  }
}
