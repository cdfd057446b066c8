import {assertDemoCluster, connectDemoCluster} from './cluster-match.js'
import {assertModifiable, isExpired, type Demo, type LifetimePolicy} from './demo.js'
import {formatDuration, formatUtc, hours} from './duration.js'
import {authorizeCaller} from './authorize.js'
import {DemoExpiredError, LimitError, UsageError, VersionConflictError} from './errors.js'
import {findDemo} from './find-demo.js'
import type {Checkpoint, Clock, Cluster, DemoStore} from './ports.js'

export interface ExtendRequest {
  /** The demo's id, a unique id prefix, its name or its namespace (find-demo.ts). */
  id: string
  hours: number
  actor: string
  admins: readonly string[]
  /** Authenticated identities that may extend anyone's demo (CI's, gc's ServiceAccount). */
  trustedIdentities: readonly string[]
  /** --context was given: it must be the demo's own context, and reachable, before anything is written. */
  explicitContext: boolean
}

export interface ExtendDeps {
  store: DemoStore
  clock: Clock
  policy: LifetimePolicy
  /** The cluster of --context, else of the demo's own context; connected only when needed. */
  cluster: (demoContext: string | null) => Promise<Cluster>
  /** Passed once as `decided`, after the new expiry is decided and before it is written (test hook, signals.ts). */
  checkpoint?: Checkpoint
}

/** What happened to the namespace's expiry annotations (the row is the truth; they are for kube-janitor). */
export type NamespaceExpiry = {kind: 'moved'} | {kind: 'namespace-gone'} | {kind: 'not-updated'; reason: string}

export interface ExtendResult {
  demo: Demo
  namespaceExpiry: NamespaceExpiry
}

const MAX_ATTEMPTS = 5

function decideNewExpiry(demo: Demo, request: ExtendRequest, policy: LifetimePolicy, now: Date): Date {
  assertModifiable(demo, 'extend')
  if (isExpired(demo, now)) {
    throw new DemoExpiredError(`Cannot extend demo "${demo.id}": it expired at ${formatUtc(demo.expiresAt)}.`, {
      hint: 'Create a new demo with `demo create`.',
    })
  }
  if (demo.extensionCount >= policy.maxExtensions) {
    throw new LimitError(
      `Cannot extend demo "${demo.id}": it was already extended ${demo.extensionCount} times, and lifetime.maxExtensions is ${policy.maxExtensions}.`,
      {
        hint: 'Create a new demo, or raise lifetime.maxExtensions in demo.config.yaml.',
      },
    )
  }
  const latest = demo.createdAt.getTime() + hours(policy.maxLifetimeHours)
  const wanted = demo.expiresAt.getTime() + hours(request.hours)
  if (wanted > latest) {
    const left = latest - demo.expiresAt.getTime()
    throw new LimitError(
      `Cannot extend demo "${demo.id}" by ${request.hours}h: it may live at most ${policy.maxLifetimeHours}h in all (until ${formatUtc(new Date(latest))}).`,
      {hint: left >= 60_000 ? `Extend by at most ${formatDuration(left)}.` : 'Create a new demo with `demo create`.'},
    )
  }
  return new Date(wanted)
}

function assertHours(request: ExtendRequest, policy: LifetimePolicy): void {
  if (!Number.isFinite(request.hours) || request.hours < policy.minExtendHours || request.hours > policy.maxExtendHours) {
    throw new UsageError(
      `--by must be between ${policy.minExtendHours}h and ${policy.maxExtendHours}h, got ${Number.isFinite(request.hours) ? formatDuration(hours(request.hours)) : String(request.hours)}.`,
      {
        hint: `Run \`demo extend ${request.id} --by 2h\`.`,
      },
    )
  }
}

/** An explicit --context is checked before anything is written: unknown or not the demo's own is a usage error. */
async function checkedCluster(deps: ExtendDeps, demo: Demo, request: ExtendRequest): Promise<Cluster | undefined> {
  if (!request.explicitContext) return undefined
  const cluster = await connectDemoCluster(deps.cluster, demo)
  await assertDemoCluster(cluster, demo, `demo extend ${demo.id} --by ${request.hours}h`)
  return cluster
}

/** Compare-and-set of the new expiry; re-read and re-decided when someone else wrote first. */
async function writeExpiry(deps: ExtendDeps, request: ExtendRequest): Promise<{demo: Demo; cluster: Cluster | undefined}> {
  let cluster: Cluster | undefined
  // Resolved once; a retry re-reads the same demo by its exact id, whatever else has come to match the reference.
  let ref = request.id
  for (let attempt = 1; ; attempt++) {
    const demo = await findDemo(deps.store, ref, (id) => `demo extend ${id} --by ${request.hours}h`)
    ref = demo.id
    // Who may extend is decided once: a re-read row has the same creator.
    if (attempt === 1) cluster = await authorizeCaller(demo, {...request, verb: 'extend'}, () => connectDemoCluster(deps.cluster, demo))
    const now = deps.clock.now()
    const expiresAt = decideNewExpiry(demo, request, deps.policy, now)
    if (attempt === 1) {
      cluster = (await checkedCluster(deps, demo, request)) ?? cluster
      deps.checkpoint?.('decided', demo.id)
    }
    try {
      const updated = await deps.store.update(
        demo.id,
        demo.version,
        {expiresAt, extensionCount: demo.extensionCount + 1},
        {
          demoId: demo.id,
          type: 'extended',
          at: now,
          actor: request.actor,
          data: {hours: request.hours, from: demo.expiresAt.toISOString(), to: expiresAt.toISOString()},
        },
      )
      return {demo: updated, cluster}
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error
    }
  }
}

/** Moves the namespace's expiry annotations; a cluster that does not answer does not undo the extend. */
async function moveNamespaceExpiry(deps: ExtendDeps, demo: Demo, connected: Cluster | undefined, request: ExtendRequest): Promise<NamespaceExpiry> {
  try {
    let cluster = connected
    if (!cluster) {
      cluster = await connectDemoCluster(deps.cluster, demo)
      // A kubeconfig that points at another cluster must not move a namespace of the same name there.
      await assertDemoCluster(cluster, demo, `demo extend ${demo.id} --by ${request.hours}h`)
    }
    const moved = await cluster.setExpiry({demoId: demo.id, namespace: demo.namespace}, demo.expiresAt)
    return moved ? {kind: 'moved'} : {kind: 'namespace-gone'}
  } catch (error) {
    return {kind: 'not-updated', reason: error instanceof Error ? error.message : String(error)}
  }
}

/**
 * Adds hours to a live demo's expiry, within the policy, then moves the namespace's expiry annotations.
 * Concurrent extends never lose an update: each is a compare-and-set on the row's version, re-read and
 * re-decided on conflict, so both count or the later one is refused by the policy. An explicit --context
 * that is unknown or not the demo's own is refused before anything is written (UsageError). Refusals:
 * PermissionError, ConflictError (the demo is gone or going), DemoExpiredError, LimitError (extensions or
 * lifetime used up), VersionConflictError (five lost races).
 */
export async function extendDemo(deps: ExtendDeps, request: ExtendRequest): Promise<ExtendResult> {
  assertHours(request, deps.policy)
  const {demo, cluster} = await writeExpiry(deps, request)
  return {demo, namespaceExpiry: await moveNamespaceExpiry(deps, demo, cluster, request)}
}
