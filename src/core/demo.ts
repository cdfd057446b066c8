import {ConflictError, StateTransitionError, UsageError, WrongClusterError} from './errors.js'
import {byCodeUnit} from './order.js'

export const DEMO_STATUSES = ['creating', 'ready', 'degraded', 'destroying', 'destroyed', 'failed'] as const
export type DemoStatus = (typeof DEMO_STATUSES)[number]

export const DATABASE_MODES = ['none', 'shared-schema', 'supabase-project'] as const
export type DatabaseMode = (typeof DATABASE_MODES)[number]

/**
 * A demo's own database, as the row records it, keyed by the mode the demo was created with: destroy, rollback
 * and gc act on this, never on the mode configured now. Decided from issues 10 and 11:
 * - `none`: no database of its own.
 * - `shared-schema`: schema `demo_<id>` in the shared Postgres (naming.ts schemaFor) and a login role of the
 *   same name (so the role needs no field of its own). Recorded before it is created, so a killed create leaves
 *   something destroy and gc can find. `supabase` when the shared database is a Supabase project whose Data API
 *   exposes the schema (destroy removes it from that project's exposed schemas, so its ref is kept).
 * - `supabase-project`: a Supabase project per demo. `projectRef` is null until `POST /v1/projects` answered
 *   (gc then finds the project by its name, `demo-<id>`); `url` and `anonKey` once it is healthy.
 * The anon key is public by Supabase's design but still shown masked unless --show-secrets; passwords and the
 * service-role key never reach the row.
 */
export type DemoDatabase =
  | {mode: 'none'}
  | {mode: 'shared-schema'; schema: string; supabase: SupabaseApi | null}
  | {mode: 'supabase-project'; projectRef: string | null; url: string | null; anonKey: string | null}

/** A Supabase project's Data API as a demo's services reach it. */
export interface SupabaseApi {
  projectRef: string
  url: string
  anonKey: string
}

/** Whether two records of a demo's database say the same, whatever the order of their fields. */
export function isSameDatabase(a: DemoDatabase, b: DemoDatabase): boolean {
  return canonicalJson(a) === canonicalJson(b)
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => byCodeUnit(x, y))) : v,
  )
}

/** Seconds each create step took, by step name ("namespace", "apply", "wait" ...). */
export type PhaseTimings = Record<string, number>

/** One demo environment as the state store records it. */
export interface Demo {
  id: string
  name: string | null
  namespace: string
  demoType: string
  status: DemoStatus
  portalUrl: string
  candidateUrl: string
  database: DemoDatabase
  /**
   * The value the demo's data was generated from (faker's seed): the same type and seed value give the same rows,
   * so a bug seen in one demo can be reproduced in another. Null on rows written before it was recorded.
   */
  seedValue: number | null
  kubeContext: string | null
  /**
   * The identity of the cluster the demo was created in (the UID of its kube-system namespace), stable across
   * kubeconfigs: a laptop, CI and the gc CronJob name the same cluster differently. Null on rows created before
   * it was recorded; those are matched by `kubeContext`.
   */
  clusterId: string | null
  /** Who the creator said they are (--owner, DEMO_USER, the CI's pull request author, git): a label, proof of nothing. */
  createdBy: string
  /**
   * Who the cluster authenticated the creator as (SelfSubjectReview, `kubectl auth whoami`), e.g.
   * "system:serviceaccount:ci:deployer"; null when the cluster could not tell (or the row predates it).
   * When set, destroy and extend need this same identity, an admin or a trusted identity (core/authorize.ts).
   */
  authenticatedAs: string | null
  autoCleanup: boolean
  createdAt: Date
  updatedAt: Date
  expiresAt: Date
  readyAt: Date | null
  destroyedAt: Date | null
  extensionCount: number
  lastError: string | null
  phaseTimings: PhaseTimings
  metadata: Record<string, unknown>
  /** Bumped on every update; writers compare-and-set on it so no update is ever lost. */
  version: number
}

/**
 * The status state machine, the only place it is written down:
 * creating → ready ⇄ degraded → destroying → destroyed; creating/destroying → failed; failed → destroying.
 */
const TRANSITIONS: Record<DemoStatus, readonly DemoStatus[]> = {
  creating: ['ready', 'failed', 'destroying'],
  ready: ['degraded', 'destroying'],
  degraded: ['ready', 'destroying'],
  destroying: ['destroyed', 'failed'],
  failed: ['destroying'],
  destroyed: [],
}

export function canTransition(from: DemoStatus, to: DemoStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to)
}

/** The statuses a demo may be in for a change to `to` to be legal (used by the store's conditional update). */
export function allowedPredecessors(to: DemoStatus): DemoStatus[] {
  return DEMO_STATUSES.filter((from) => canTransition(from, to))
}

export function assertTransition(demo: Pick<Demo, 'id' | 'status'>, to: DemoStatus): void {
  if (!canTransition(demo.status, to)) {
    throw new StateTransitionError(`Demo "${demo.id}" cannot go from ${demo.status} to ${to}.`, {
      hint: `Run \`demo get ${demo.id}\` to see its current state.`,
    })
  }
}

/** Statuses that hold (or may hold) resources in the cluster and count against the caps. */
export const LIVE_STATUSES: readonly DemoStatus[] = ['creating', 'ready', 'degraded', 'destroying']

export function isLive(status: DemoStatus): boolean {
  return LIVE_STATUSES.includes(status)
}

/** How a failed create left its objects (roll-back.ts records it as `metadata.cleanup`): kept on purpose, or not all removed. */
export const LEFTOVER_CLEANUPS = ['kept', 'incomplete'] as const

/**
 * Whether the demo may still hold objects in the cluster: a live status, or `failed` with leftovers from a
 * create run with --keep-on-failure or a rollback that did not finish. What `demo list` shows by default.
 */
export function mayHoldObjects(demo: Pick<Demo, 'status' | 'metadata'>): boolean {
  if (isLive(demo.status)) return true
  return demo.status === 'failed' && (LEFTOVER_CLEANUPS as readonly unknown[]).includes(demo.metadata.cleanup)
}

export function isExpired(demo: Pick<Demo, 'expiresAt'>, now: Date): boolean {
  return demo.expiresAt.getTime() <= now.getTime()
}

export interface LifetimePolicy {
  minHours: number
  maxHours: number
  defaultHours: number
  /** Longest a demo may live from creation, extensions included. */
  maxLifetimeHours: number
  maxExtensions: number
  minExtendHours: number
  maxExtendHours: number
}

export function expiryFor(createdAt: Date, ttlMs: number): Date {
  return new Date(createdAt.getTime() + ttlMs)
}

/** Refuses a change on a demo that is gone or going. */
export function assertModifiable(demo: Pick<Demo, 'id' | 'status'>, action: string): void {
  if (demo.status === 'destroyed' || demo.status === 'destroying' || demo.status === 'failed') {
    throw new ConflictError(`Cannot ${action} demo "${demo.id}": it is ${demo.status}.`, {
      hint: demo.status === 'failed' ? `Destroy it with \`demo destroy ${demo.id}\` and create a new one.` : 'Create a new demo with `demo create`.',
    })
  }
}

/** What a connected cluster says of itself: its kubeconfig context name and its stable identity. */
export interface ClusterIdentity {
  context: string
  clusterId: string
}

/**
 * Whether a demo lives in the connected cluster: by identity when the row has one (the context name is only a
 * hint then), else by context name (rows created before identities were recorded); null when the row records
 * neither and the question cannot be answered.
 */
export function isInCluster(demo: Pick<Demo, 'kubeContext' | 'clusterId'>, current: ClusterIdentity): boolean | null {
  if (demo.clusterId) return demo.clusterId === current.clusterId
  if (demo.kubeContext) return demo.kubeContext === current.context
  return null
}

/**
 * Refuses to act on a demo through a kubeconfig that points at another cluster (WrongClusterError), by identity
 * when the row has one, else by context name as before (assertSameContext).
 */
export function assertSameCluster(demo: Pick<Demo, 'id' | 'kubeContext' | 'clusterId'>, current: ClusterIdentity, rerun: string): void {
  if (!demo.clusterId) {
    assertSameContext(demo, current.context, rerun)
    return
  }
  if (demo.clusterId === current.clusterId) return
  const hint = demo.kubeContext && demo.kubeContext !== current.context ? ` (it was created in context "${demo.kubeContext}")` : ''
  throw new WrongClusterError(
    `Demo "${demo.id}" lives in another cluster than the one kubeconfig context "${current.context}" points at${hint}: cluster ${demo.clusterId}, not ${current.clusterId}.`,
    {hint: `Point your kubeconfig at the demo's cluster and run \`${rerun} --context <context>\`.`},
  )
}

/**
 * A demo lives in the cluster of the context it was created in; acting on it through another context would
 * miss it (or hit a namespace of the same name elsewhere). `rerun` is the command to suggest with the right one.
 */
export function assertSameContext(demo: Pick<Demo, 'id' | 'kubeContext'>, current: string, rerun: string): void {
  if (demo.kubeContext && current && demo.kubeContext !== current) {
    throw new UsageError(`Demo "${demo.id}" was created in kubeconfig context "${demo.kubeContext}", not "${current}".`, {
      hint: `Run \`${rerun} --context ${demo.kubeContext}\`, or leave --context out.`,
    })
  }
}
