import {awaitNamespaceGone} from './await-ready.js'
import {planGarbage, type GcAction, type GcActionKind, type GcPicture, type GcPlan, type GcPolicy} from './collect-garbage.js'
import {DATABASE_MODES, LIVE_STATUSES, type DatabaseMode, type Demo} from './demo.js'
import {claimForDestroy, databasesOf, runDestroySteps, type DestroyStepDeps} from './destroy-demo.js'
import {formatDuration} from './duration.js'
import {Lanes} from './lanes.js'
import {ConflictError, DemoError, StateTransitionError, VersionConflictError} from './errors.js'
import {noticeCandidates, noticeOf, planExpiryNotices} from './expiry-notices.js'
import type {Cluster, DatabasesFor, DemoEvent, DemoStore, ExpiryNotice, Notifier, OwnedDatabase} from './ports.js'
import {byCodeUnit} from './order.js'

/** The actor of every event gc records. */
export const GC_ACTOR = 'gc'

export interface GcDeps extends DestroyStepDeps {
  store: DemoStore
  /** The cluster gc is connected to; it acts only on demos of this cluster. */
  cluster: Cluster
  databasesFor: DatabasesFor
  /** Where "expiring soon" notices go (the alert webhook); absent: none are planned, sent or recorded. */
  notifier?: Notifier | undefined
}

export interface GcRequest {
  dryRun: boolean
  policy: GcPolicy
  /** Actions run at once (each independent: one failure never stops the others). */
  concurrency: number
  /** How long a destroy waits for its namespace to be gone. */
  destroyTimeoutMs: number
  /** The configured database mode; its databases are listed even when no row uses it. */
  configuredMode: DatabaseMode
  /** Names this run in the rows it claims (metadata.gcRun). */
  runId: string
}

export interface GcEntry {
  action: GcActionKind
  demoId: string
  namespace: string | null
  reason: string
}

/** What became of one "expiring soon" notice. */
export type GcNoticeOutcome =
  /** --dry-run: it would be sent. */
  | 'would-send'
  /** Sent, and an `expiry-notice` event records it. */
  | 'sent'
  /** The POST (or a read before it) failed: nothing recorded, so the next run tries again while the demo is in the window. */
  | 'not-sent'
  /** Sent, but the event could not be written: the next run may send it again. */
  | 'not-recorded'
  /** Extended, destroyed or otherwise changed since gc read it: not sent. */
  | 'skipped'

export interface GcNotice {
  demoId: string
  namespace: string
  owner: string
  expiresAt: string
  expiresIn: string
  command: string
  outcome: GcNoticeOutcome
  detail: string
}

export interface GcReport {
  dryRun: boolean
  cluster: {id: string; context: string} | null
  startedAt: string
  durationMs: number
  maxDeletions: number
  /** Why nothing was deleted; null when the brake did not engage. */
  brake: {reason: string} | null
  planned: GcEntry[]
  done: Array<GcEntry & {result: string}>
  failed: Array<GcEntry & {error: {code: string; message: string}}>
  skipped: Array<{demoId: string; namespace: string | null; reason: string}>
  overdue: Array<{demoId: string; namespace: string; createdBy: string; expiresAt: string; overdueMs: number; overdue: string}>
  orphans: Array<{namespace: string; demoId: string; rowStatus: string | null}>
  /** "Expiring soon" notices: empty without a webhook and when the brake engaged. */
  notices: GcNotice[]
}

const PAGE = 500

async function readRows(store: DemoStore): Promise<Demo[]> {
  const rows: Demo[] = []
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.list({statuses: [...LIVE_STATUSES], includeFailedWithLeftovers: true}, {limit: PAGE, offset})
    rows.push(...page.items)
    if (page.items.length < PAGE) return rows
  }
}

/** Every database of every mode in use (the configured one, and those rows record); mode none owns nothing. */
async function readDatabases(deps: GcDeps, rows: readonly Demo[], configured: DatabaseMode): Promise<OwnedDatabase[]> {
  const modes = DATABASE_MODES.filter((mode) => mode !== 'none' && (mode === configured || rows.some((d) => d.database.mode === mode)))
  const owned = await Promise.all(modes.map(async (mode) => (await deps.databasesFor(mode)).owned()))
  return owned.flat()
}

/** The rows of demos that namespaces and databases name but the live rows lack. */
async function readOtherRows(store: DemoStore, rows: readonly Demo[], ids: readonly string[]): Promise<Demo[]> {
  const known = new Set(rows.map((d) => d.id))
  const missing = [...new Set(ids)].filter((id) => !known.has(id))
  const found = await Promise.all(missing.map((id) => store.get(id)))
  return found.filter((d): d is Demo => d !== undefined)
}

/** Reads both sides before anything is decided. Any failure throws: gc never acts on a partial picture. */
export async function readPicture(deps: GcDeps, request: GcRequest): Promise<GcPicture> {
  const [rows, namespaces, clusterId] = await Promise.all([readRows(deps.store), deps.cluster.ownedNamespaces(), deps.cluster.identity()])
  const databases = await readDatabases(deps, rows, request.configuredMode)
  const ids = [...namespaces.map((n) => n.demoId), ...databases.map((d) => d.demoId)]
  const otherRows = await readOtherRows(deps.store, rows, ids)
  return {now: deps.clock.now(), cluster: {context: deps.cluster.contextName(), clusterId}, rows, otherRows, namespaces, databases}
}

function entryOf(action: GcAction): GcEntry {
  return {action: action.kind, demoId: action.demoId, namespace: action.namespace, reason: action.reason}
}

/** Someone else wrote the row after gc read it: another gc run, a `demo destroy`, an extend. */
class ClaimLost extends Error {}

function isLostRace(error: unknown): boolean {
  return error instanceof VersionConflictError || error instanceof StateTransitionError
}

/** Claims a row without changing its status (a `destroying` or `failed` one): compare-and-set on the version gc read. */
async function claimRow(deps: GcDeps, demo: Demo, runId: string): Promise<Demo> {
  try {
    return await deps.store.update(demo.id, demo.version, {metadata: {...demo.metadata, gcRun: runId}})
  } catch (error) {
    if (isLostRace(error)) throw new ClaimLost(`demo ${demo.id} was changed by another process after gc read it`)
    throw error
  }
}

async function claimDestroy(deps: GcDeps, action: GcAction, demo: Demo, runId: string): Promise<Demo> {
  if (demo.status === 'destroying') return claimRow(deps, demo, runId)
  try {
    return await claimForDestroy(deps, demo, {actor: GC_ACTOR, reason: action.reason})
  } catch (error) {
    if (isLostRace(error)) throw new ClaimLost(`demo ${demo.id} was changed by another process after gc read it`)
    throw error
  }
}

/** What every action of one run shares: the request, the run's id, and its lanes (waits on Kubernetes give theirs up). */
interface ActContext {
  request: GcRequest
  runId: string
  lanes: Lanes
}

/** destroy, finish-destroy and record-vanished: the path of `demo destroy`, after a compare-and-set claim of the row. */
async function destroyRow(deps: GcDeps, action: GcAction, demo: Demo, context: ActContext): Promise<string> {
  const databases = await databasesOf(deps, demo)
  const claimed = await claimDestroy(deps, action, demo, context.runId)
  const request = {
    id: demo.id,
    actor: GC_ACTOR,
    admins: [],
    trustedIdentities: [],
    wait: true,
    timeoutMs: context.request.destroyTimeoutMs,
    reason: action.reason,
  }
  const outcome = await runDestroySteps(deps, request, {cluster: deps.cluster, databases, demo: claimed}, {idle: (work) => context.lanes.idle(work)})
  if (outcome.kind === 'already-destroyed') throw new ClaimLost(`demo ${demo.id} was destroyed by another process meanwhile`)
  if (outcome.kind !== 'destroyed') return 'deletion accepted'
  return outcome.namespaceDeleted ? `destroyed; namespace ${demo.namespace} deleted` : `destroyed; namespace ${demo.namespace} was already gone`
}

/** A failed row's leftovers removed; the row stays `failed`, with the cleanup in its metadata and a `cleaned-up` event. */
async function cleanUpFailed(deps: GcDeps, action: GcAction, demo: Demo, context: ActContext): Promise<string> {
  const databases = await databasesOf(deps, demo)
  const claimed = await claimRow(deps, demo, context.runId)
  const deleted = await deps.cluster.deleteNamespace({demoId: demo.id, namespace: demo.namespace})
  await context.lanes.idle(() => awaitNamespaceGone(deps, {namespace: demo.namespace, timeoutMs: context.request.destroyTimeoutMs}))
  await databases.drop(demo)
  const now = deps.clock.now()
  const metadata = Object.fromEntries(Object.entries(claimed.metadata).filter(([key]) => key !== 'gcRun'))
  await deps.store.update(
    demo.id,
    claimed.version,
    {metadata: {...metadata, cleanup: 'done', cleanedUpBy: GC_ACTOR, cleanedUpAt: now.toISOString()}},
    {demoId: demo.id, type: 'cleaned-up', at: now, actor: GC_ACTOR, data: {reason: action.reason, namespaceDeleted: deleted}},
  )
  return deleted ? `cleaned up; namespace ${demo.namespace} deleted` : 'cleaned up; nothing was left in the cluster'
}

/** An orphan is deleted only if, read again just before, no row that may hold objects claims it. */
async function assertStillOrphan(deps: GcDeps, demoId: string): Promise<void> {
  const row = await deps.store.get(demoId)
  if (row && (row.status === 'creating' || LIVE_STATUSES.includes(row.status))) throw new ClaimLost(`demo ${demoId} has a ${row.status} row now`)
}

async function deleteOrphan(deps: GcDeps, action: GcAction): Promise<string> {
  await assertStillOrphan(deps, action.demoId)
  const deleted = await deps.cluster.deleteNamespace({demoId: action.demoId, namespace: action.namespace ?? ''})
  return deleted ? `namespace ${action.namespace} deletion accepted` : `namespace ${action.namespace} was already gone`
}

async function dropDatabase(deps: GcDeps, database: OwnedDatabase): Promise<string> {
  await assertStillOrphan(deps, database.demoId)
  const databases = await deps.databasesFor(database.database.mode, database.database)
  await databases.drop({id: database.demoId, database: database.database})
  return `dropped ${database.name}`
}

async function perform(deps: GcDeps, action: GcAction, context: ActContext): Promise<string> {
  switch (action.kind) {
    case 'destroy':
    case 'finish-destroy':
    case 'record-vanished':
      return destroyRow(deps, action, action.demo as Demo, context)
    case 'clean-up':
      return cleanUpFailed(deps, action, action.demo as Demo, context)
    case 'delete-orphan':
      return deleteOrphan(deps, action)
    case 'drop-database':
      return dropDatabase(deps, action.database as OwnedDatabase)
  }
}

/** Runs `worker` over every item, each in a lane of `lanes`. */
async function eachAt<T>(items: readonly T[], lanes: Lanes, worker: (item: T) => Promise<void>): Promise<void> {
  await Promise.all(items.map((item) => lanes.run(() => worker(item))))
}

/** Runs `worker` over `items`, at most `limit` at once. */
async function eachWithConcurrency<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await worker(item)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, lane))
}

function errorOf(error: unknown): {code: string; message: string} {
  if (error instanceof DemoError) return {code: error.code, message: error.message}
  return {code: 'E_UNEXPECTED', message: error instanceof Error ? error.message : String(error)}
}

/**
 * Every action, independent of the others: a failure is recorded and the run goes on (as kube-janitor does). At
 * most `concurrency` actions work at once; one waiting for its namespace to go gives its lane up meanwhile (Lanes).
 */
async function act(deps: GcDeps, plan: GcPlan, request: GcRequest, report: GcReport): Promise<void> {
  const lanes = new Lanes(request.concurrency)
  const context: ActContext = {request, runId: request.runId, lanes}
  await eachAt(plan.actions, lanes, async (action) => {
    try {
      const result = await perform(deps, action, context)
      report.done.push({...entryOf(action), result})
    } catch (error) {
      if (error instanceof ClaimLost || (error instanceof ConflictError && isLostRace(error))) {
        report.skipped.push({demoId: action.demoId, namespace: action.namespace, reason: `${error.message}; left to it`})
      } else {
        report.failed.push({...entryOf(action), error: errorOf(error)})
      }
    }
  })
}

/** A report with nothing planned or done yet (and no brake), started at `startedAt`. */
export function emptyReport(request: GcRequest, startedAt: Date): GcReport {
  return {
    dryRun: request.dryRun,
    cluster: null,
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    maxDeletions: request.policy.maxDeletions,
    brake: null,
    planned: [],
    done: [],
    failed: [],
    skipped: [],
    overdue: [],
    orphans: [],
    notices: [],
  }
}

function fillPlan(report: GcReport, plan: GcPlan, picture: GcPicture): void {
  report.cluster = {id: picture.cluster.clusterId, context: picture.cluster.context}
  report.planned = plan.actions.map(entryOf)
  report.skipped = [...plan.skipped]
  report.orphans = plan.orphans.map((o) => ({...o}))
  report.overdue = plan.overdue.map((o) => ({...o, expiresAt: o.expiresAt.toISOString(), overdue: formatDuration(o.overdueMs)}))
  report.brake = plan.brake === null ? null : {reason: plan.brake}
}

function noticeEntry(notice: ExpiryNotice, outcome: GcNoticeOutcome, detail: string): GcNotice {
  return {
    demoId: notice.demoId,
    namespace: notice.namespace,
    owner: notice.owner,
    expiresAt: notice.expiresAt.toISOString(),
    expiresIn: formatDuration(notice.expiresInMs),
    command: notice.extendCommand,
    outcome,
    detail,
  }
}

type NoticeDeps = GcDeps & {notifier: Notifier}

/** The trails of the candidates; one that cannot be read is reported not-sent (its demo gets no notice this run). */
async function readTrails(deps: GcDeps, candidates: readonly Demo[], now: Date, report: GcReport): Promise<Map<string, DemoEvent[]>> {
  const trails = new Map<string, DemoEvent[]>()
  await Promise.all(
    candidates.map(async (demo) => {
      try {
        trails.set(demo.id, await deps.store.events(demo.id))
      } catch (error) {
        report.notices.push(
          noticeEntry(noticeOf(demo, now), 'not-sent', `could not read its events: ${errorOf(error).message}; the next run tries again`),
        )
      }
    }),
  )
  return trails
}

/** Appends the `expiry-notice` event (compare-and-set on the version; re-read and retried when someone wrote first). */
async function recordNotice(deps: GcDeps, demo: Demo, notice: ExpiryNotice, detail: string): Promise<void> {
  const event: DemoEvent = {
    demoId: demo.id,
    type: 'expiry-notice',
    at: deps.clock.now(),
    actor: GC_ACTOR,
    data: {expiresAt: notice.expiresAt.toISOString(), via: detail},
  }
  let row = demo
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.store.update(row.id, row.version, {}, event)
      return
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 3) throw error
      row = (await deps.store.get(row.id)) ?? row
    }
  }
}

/** Read again just before sending: a demo extended or ended since gc read it gets no notice about its old expiry. */
async function sendNotice(deps: NoticeDeps, notice: ExpiryNotice): Promise<GcNotice> {
  let current: Demo | undefined
  try {
    current = await deps.store.get(notice.demoId)
  } catch (error) {
    return noticeEntry(notice, 'not-sent', `could not read its row: ${errorOf(error).message}; the next run tries again`)
  }
  const due = current && (current.status === 'ready' || current.status === 'degraded') && current.expiresAt.getTime() === notice.expiresAt.getTime()
  if (!current || !due) return noticeEntry(notice, 'skipped', 'extended, destroyed or changed since gc read it')
  const sent = await deps.notifier.send(notice)
  if (!sent.ok) return noticeEntry(notice, 'not-sent', `${sent.detail}; the next run tries again`)
  try {
    await recordNotice(deps, current, notice, sent.detail)
  } catch (error) {
    return noticeEntry(
      notice,
      'not-recorded',
      `${sent.detail}, but its event could not be recorded (${errorOf(error).message}); the next run may send it again`,
    )
  }
  return noticeEntry(notice, 'sent', sent.detail)
}

/**
 * The "expiring soon" notices of a run without the brake (expiry-notices.ts decides which): listed under
 * --dry-run, else each sent, then recorded as an `expiry-notice` event. A notice that fails never fails the run.
 */
async function notify(deps: NoticeDeps, run: {picture: GcPicture; plan: GcPlan; request: GcRequest; report: GcReport}): Promise<void> {
  const {picture, request, report} = run
  const acted = new Set(run.plan.actions.map((a) => a.demoId))
  const trails = await readTrails(deps, noticeCandidates(picture, acted), picture.now, report)
  const notices = planExpiryNotices(picture, acted, trails)
  if (request.dryRun) {
    report.notices.push(...notices.map((n) => noticeEntry(n, 'would-send', 'dry run: not sent')))
    return
  }
  await eachWithConcurrency(notices, request.concurrency, async (notice) => {
    report.notices.push(await sendNotice(deps, notice))
  })
  report.notices.sort((a, b) => byCodeUnit(a.expiresAt, b.expiresAt) || byCodeUnit(a.demoId, b.demoId))
}

/**
 * One gc run: read both sides (a read that fails engages the brake), plan (planGarbage), then, unless the
 * brake engaged or it is a dry run, act with bounded concurrency, each row claimed by compare-and-set so two
 * runs (or a run and a `demo destroy`) act on a demo once; the loser reports it skipped. Never throws for a
 * demo's failure: the report says what was planned, done, failed, skipped, overdue and orphaned. Then, without the
 * brake and with a notifier, the "expiring soon" notices (listed only, under --dry-run).
 */
export async function runGc(deps: GcDeps, request: GcRequest): Promise<GcReport> {
  const startedAt = deps.clock.now()
  const report = emptyReport(request, startedAt)
  const finish = (): GcReport => ({...report, durationMs: deps.clock.now().getTime() - startedAt.getTime()})
  let picture: GcPicture
  try {
    picture = await readPicture(deps, request)
  } catch (error) {
    report.brake = {reason: `could not read what gc must read before deleting anything: ${errorOf(error).message}`}
    return finish()
  }
  const plan = planGarbage(picture, request.policy)
  fillPlan(report, plan, picture)
  if (plan.brake === null && !request.dryRun) await act(deps, plan, request, report)
  if (plan.brake === null && deps.notifier) await notify({...deps, notifier: deps.notifier}, {picture, plan, request, report})
  return finish()
}
