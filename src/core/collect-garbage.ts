import {isExpired, isInCluster, mayHoldObjects, type ClusterIdentity, type Demo} from './demo.js'
import {formatDuration, formatUtc} from './duration.js'
import type {OwnedDatabase, OwnedNamespace} from './ports.js'

/*
 * What `demo gc` decides, and nothing else: given what it read of the state store and of the cluster, one
 * action per demo or object, each with its reason, or the safety brake. Pure (the time is an input), so every
 * rule is unit-tested with fake time (test/unit/collect-garbage.test.ts). run-gc.ts reads and acts.
 */

export type GcActionKind =
  /** A live demo whose lifetime is over (auto_cleanup on), or a create that died: destroy it (the path of `demo destroy`). */
  | 'destroy'
  /** A row `destroying`: a destroy that crashed or ran with --no-wait; finish it. */
  | 'finish-destroy'
  /** A `failed` row whose create left objects behind: remove them; the row stays `failed`, the cleanup recorded. */
  | 'clean-up'
  /** A live row whose namespace is gone: record it `destroyed` (dropping its database if any), saying it vanished outside demo. */
  | 'record-vanished'
  /** A namespace with both ownership marks and no live row, older than the grace period: delete it. */
  | 'delete-orphan'
  /** A per-demo database with no live row: drop it. */
  | 'drop-database'

export interface GcAction {
  kind: GcActionKind
  demoId: string
  /** The namespace acted on or expected (null for a database alone). */
  namespace: string | null
  reason: string
  /** The row as read, for row actions: its version is what gc claims by compare-and-set. */
  demo?: Demo
  /** The database, for drop-database. */
  database?: OwnedDatabase
  /** Whether the action deletes something (counted against gc.maxDeletions). */
  deletes: boolean
}

export interface GcSkip {
  demoId: string
  namespace: string | null
  reason: string
}

/** A demo with auto_cleanup off whose lifetime is over: reported, never destroyed by gc. */
export interface GcOverdue {
  demoId: string
  namespace: string
  createdBy: string
  expiresAt: Date
  overdueMs: number
}

/** A namespace with our marks whose demo has no live row. */
export interface GcOrphan {
  namespace: string
  demoId: string
  /** The status of its demo's row, or null when there is no row at all. */
  rowStatus: Demo['status'] | null
}

export interface GcPicture {
  now: Date
  cluster: ClusterIdentity
  /** The rows that may hold objects: live, and failed with leftovers (mayHoldObjects), of every cluster. */
  rows: readonly Demo[]
  /** Rows of the demos that owned namespaces and databases name but `rows` lacks (destroyed, failed), by id. */
  otherRows: readonly Demo[]
  namespaces: readonly OwnedNamespace[]
  databases: readonly OwnedDatabase[]
}

export interface GcPolicy {
  /** How long a create may be `creating` before gc takes it for dead: the wait timeout plus a grace period. */
  creatingTimeoutMs: number
  /** An orphan namespace younger than this is left alone (a create may be in flight; never race it). */
  orphanGraceMs: number
  /** A plan with more deletions than this deletes nothing (the brake). */
  maxDeletions: number
}

export interface GcPlan {
  actions: GcAction[]
  skipped: GcSkip[]
  overdue: GcOverdue[]
  orphans: GcOrphan[]
  /** Why nothing may be deleted, or null. */
  brake: string | null
}

interface Context {
  picture: GcPicture
  policy: GcPolicy
  namespaces: Map<string, OwnedNamespace>
  databases: Map<string, OwnedDatabase>
}

function ageOf(since: Date, now: Date): string {
  return formatDuration(now.getTime() - since.getTime())
}

/** The demo's namespace as listed, if it carries this demo's marks. */
function namespaceOf(demo: Demo, ctx: Context): OwnedNamespace | undefined {
  const found = ctx.namespaces.get(demo.namespace)
  return found?.demoId === demo.id ? found : undefined
}

function rowAction(demo: Demo, kind: GcActionKind, reason: string, ctx: Context): GcAction {
  const deletes = kind !== 'record-vanished' || ctx.databases.has(demo.id)
  return {kind, demoId: demo.id, namespace: demo.namespace, reason, demo, deletes}
}

function planFailed(demo: Demo, ctx: Context): GcAction | GcSkip | null {
  const {now} = ctx.picture
  // --keep-on-failure keeps the objects for debugging; the demo's lifetime still applies to them.
  if (demo.metadata.cleanup === 'kept' && !isExpired(demo, now)) return null
  const left = [namespaceOf(demo, ctx) ? `namespace ${demo.namespace}` : '', ctx.databases.get(demo.id)?.name ?? ''].filter(Boolean)
  const what = left.length > 0 ? `left ${left.join(' and ')} behind` : 'recorded leftovers, and none are left'
  return rowAction(demo, 'clean-up', `failed create ${what} (cleanup ${String(demo.metadata.cleanup)})`, ctx)
}

function planCreating(demo: Demo, ctx: Context): GcAction | GcSkip | null {
  const {now} = ctx.picture
  const age = now.getTime() - demo.createdAt.getTime()
  if (age <= ctx.policy.creatingTimeoutMs) return null
  const reason = `creating for ${ageOf(demo.createdAt, now)}, longer than the wait timeout plus grace (${formatDuration(ctx.policy.creatingTimeoutMs)}): a create that died`
  if (!demo.autoCleanup) return {demoId: demo.id, namespace: demo.namespace, reason: `${reason}; auto_cleanup is off, so gc leaves it`}
  return rowAction(demo, 'destroy', reason, ctx)
}

function planLive(demo: Demo, ctx: Context): GcAction | GcSkip | GcOverdue | null {
  const {now} = ctx.picture
  if (demo.status === 'creating') {
    const stuck = planCreating(demo, ctx)
    if (stuck) return stuck
    // A young create may not have made its namespace yet: nothing to say about it.
    if (!namespaceOf(demo, ctx)) return null
  }
  if (!namespaceOf(demo, ctx)) return rowAction(demo, 'record-vanished', `namespace ${demo.namespace} vanished outside demo`, ctx)
  if (!isExpired(demo, now)) return null
  if (!demo.autoCleanup) {
    const overdueMs = now.getTime() - demo.expiresAt.getTime()
    return {demoId: demo.id, namespace: demo.namespace, createdBy: demo.createdBy, expiresAt: demo.expiresAt, overdueMs}
  }
  return rowAction(demo, 'destroy', `expired at ${formatUtc(demo.expiresAt)} (${ageOf(demo.expiresAt, now)} ago)`, ctx)
}

function planRow(demo: Demo, ctx: Context): GcAction | GcSkip | GcOverdue | null {
  const here = isInCluster(demo, ctx.picture.cluster)
  if (here === null) return {demoId: demo.id, namespace: demo.namespace, reason: 'the row records no cluster (neither identity nor context)'}
  if (!here) {
    const where = demo.clusterId ? `cluster ${demo.clusterId}` : `context "${demo.kubeContext}"`
    return {demoId: demo.id, namespace: demo.namespace, reason: `lives in another cluster (${where}), not the one gc is connected to`}
  }
  if (demo.status === 'destroying') return rowAction(demo, 'finish-destroy', 'a destroy that did not finish (crashed, or ran with --no-wait)', ctx)
  if (demo.status === 'failed') return planFailed(demo, ctx)
  return planLive(demo, ctx)
}

function planOrphan(namespace: OwnedNamespace, owner: Demo | undefined, ctx: Context): {action?: GcAction; skip?: GcSkip; orphan?: GcOrphan} {
  const {now} = ctx.picture
  const skip = (reason: string) => ({skip: {demoId: namespace.demoId, namespace: namespace.name, reason}})
  if (owner && mayHoldObjects(owner)) {
    // Ours by its marks, but the live row of that demo names another namespace or cluster: never guess.
    return skip(
      `carries the marks of demo ${owner.id}, which is ${owner.status} with namespace ${owner.namespace}${owner.namespace === namespace.name ? ' in another cluster' : ''}`,
    )
  }
  const orphan: GcOrphan = {namespace: namespace.name, demoId: namespace.demoId, rowStatus: owner?.status ?? null}
  if (namespace.terminating) return {orphan, ...skip('orphan namespace already terminating')}
  if (!namespace.createdAt || now.getTime() - namespace.createdAt.getTime() < ctx.policy.orphanGraceMs) {
    return {
      orphan,
      ...skip(`orphan namespace younger than the grace period (${formatDuration(ctx.policy.orphanGraceMs)}); a create may be in flight`),
    }
  }
  const why = owner ? `its demo's row is ${owner.status}` : 'no row records its demo'
  const action: GcAction = {
    kind: 'delete-orphan',
    demoId: namespace.demoId,
    namespace: namespace.name,
    reason: `orphan namespace: ${why}`,
    deletes: true,
  }
  return {orphan, action}
}

function planDatabase(database: OwnedDatabase, owner: Demo | undefined): GcAction | null {
  // A row that may hold objects is handled (or left alone) through its row.
  if (owner && mayHoldObjects(owner)) return null
  const why = owner ? `its demo's row is ${owner.status}` : 'no row records its demo'
  return {
    kind: 'drop-database',
    demoId: database.demoId,
    namespace: null,
    reason: `orphan database ${database.name}: ${why}`,
    database,
    deletes: true,
  }
}

function isSkip(value: object): value is GcSkip {
  return 'reason' in value && !('kind' in value)
}

function isOverdue(value: object): value is GcOverdue {
  return 'overdueMs' in value
}

/** The implausible picture: live rows of this cluster say there must be namespaces, and the cluster lists none. */
function implausible(ctx: Context): string | null {
  if (ctx.picture.namespaces.length > 0) return null
  const expecting = ctx.picture.rows.filter((d) => (d.status === 'ready' || d.status === 'degraded') && isInCluster(d, ctx.picture.cluster))
  if (expecting.length === 0) return null
  return `the cluster lists no namespace with our marks, but ${expecting.length} live demo${expecting.length === 1 ? '' : 's'} of this cluster should have one (${expecting
    .slice(0, 5)
    .map((d) => d.id)
    .join(', ')}); a wrong cluster, a missing permission or a listing that lies is more likely than all of them vanishing`
}

function overCap(plan: GcPlan, ctx: Context): string | null {
  const deletions = plan.actions.filter((a) => a.deletes).length
  if (deletions <= ctx.policy.maxDeletions) return null
  return `the plan deletes ${deletions} objects, more than the allowed ${ctx.policy.maxDeletions} (gc.maxDeletions); review it with --dry-run, then run again with --max-deletions ${deletions}`
}

/**
 * Plans one gc run: an action, a skip or an overdue report per row of this cluster, per orphan namespace and
 * per orphan database, each with its reason; then the brake if the picture is implausible or the plan
 * deletes more than allowed (the actions stay in the plan, to report what was held back).
 */
export function planGarbage(picture: GcPicture, policy: GcPolicy): GcPlan {
  const ctx: Context = {
    picture,
    policy,
    namespaces: new Map(picture.namespaces.map((n) => [n.name, n])),
    databases: new Map(picture.databases.map((d) => [d.demoId, d])),
  }
  const plan: GcPlan = {actions: [], skipped: [], overdue: [], orphans: [], brake: null}
  planRows(plan, ctx)
  planOrphans(plan, ctx)
  plan.brake = implausible(ctx) ?? overCap(plan, ctx)
  return plan
}

function planRows(plan: GcPlan, ctx: Context): void {
  for (const demo of ctx.picture.rows) {
    const decided = planRow(demo, ctx)
    if (!decided) continue
    if (isOverdue(decided)) plan.overdue.push(decided)
    else if (isSkip(decided)) plan.skipped.push(decided)
    else plan.actions.push(decided)
  }
}

function planOrphans(plan: GcPlan, ctx: Context): void {
  const {picture} = ctx
  const rowsById = new Map([...picture.otherRows, ...picture.rows].map((d) => [d.id, d]))
  const rowNamespaces = new Set(picture.rows.filter((d) => isInCluster(d, picture.cluster)).map((d) => `${d.id}/${d.namespace}`))
  for (const namespace of picture.namespaces) {
    if (rowNamespaces.has(`${namespace.demoId}/${namespace.name}`)) continue
    const {action, skip, orphan} = planOrphan(namespace, rowsById.get(namespace.demoId), ctx)
    if (orphan) plan.orphans.push(orphan)
    if (action) plan.actions.push(action)
    if (skip) plan.skipped.push(skip)
  }
  for (const database of picture.databases) {
    const action = planDatabase(database, rowsById.get(database.demoId))
    if (action) plan.actions.push(action)
  }
}

/** How an overdue demo reads in the report ("2h 5m"). */
export function describeOverdue(overdue: GcOverdue): string {
  return formatDuration(overdue.overdueMs)
}
