import {isExpired, isInCluster, type ClusterIdentity, type Demo} from './demo.js'
import {EXPIRY_WARNING_MS} from './expiry-warnings.js'
import type {DemoEvent, ExpiryNotice} from './ports.js'

/*
 * Which demos `demo gc` sends an "expiring soon" notice for (issue 9), and nothing else: pure, the time an input
 * (the state database's clock), unit-tested with fake time (test/unit/expiry-notices.test.ts). run-gc.ts reads
 * the trails, sends and records.
 *
 * Decisions:
 * - One notice per demo *and expiry time*: the `expiry-notice` event records the expiry it was about, so a demo
 *   extended after its notice gets a new one when it nears its new expiry, and never two for the same expiry.
 * - Only demos gc would destroy at expiry: live (`ready`, `degraded`), of the cluster gc is connected to, with
 *   auto_cleanup on, not yet expired, and no gc action planned for them in this run. A demo with auto_cleanup off
 *   is not destroyed at expiry (gc reports it overdue), so there is nothing to warn about; a `creating` demo gets
 *   its notice once ready, if still within the window.
 * - The window is the one `list` and `get` warn in: 30 minutes.
 */

/** How close to its expiry a demo gets gc's notice (the same window as the warnings of `list` and `get`). */
export const EXPIRY_NOTICE_MS = EXPIRY_WARNING_MS

/** What the planner needs of a gc run's picture. */
export interface NoticePicture {
  now: Date
  cluster: ClusterIdentity
  rows: readonly Demo[]
}

/** The demos that may get a notice now (their trails decide which do): see the decisions above. `acted`: ids gc acts on in this run. */
export function noticeCandidates(picture: NoticePicture, acted: ReadonlySet<string>): Demo[] {
  const {now} = picture
  return picture.rows.filter(
    (d) =>
      (d.status === 'ready' || d.status === 'degraded') &&
      d.autoCleanup &&
      isInCluster(d, picture.cluster) === true &&
      !acted.has(d.id) &&
      !isExpired(d, now) &&
      d.expiresAt.getTime() - now.getTime() <= EXPIRY_NOTICE_MS,
  )
}

/** Whether the demo's trail already has a notice about this expiry time. */
export function wasNoticed(trail: readonly DemoEvent[], expiresAt: Date): boolean {
  const at = expiresAt.toISOString()
  return trail.some((e) => e.type === 'expiry-notice' && e.data.expiresAt === at)
}

/** The notice of one demo, as sent. */
export function noticeOf(demo: Demo, now: Date): ExpiryNotice {
  return {
    demoId: demo.id,
    name: demo.name,
    namespace: demo.namespace,
    owner: demo.createdBy,
    expiresAt: demo.expiresAt,
    expiresInMs: demo.expiresAt.getTime() - now.getTime(),
    extendCommand: `demo extend ${demo.id} --by 1h`,
  }
}

/**
 * The notices one gc run sends: one per candidate (noticeCandidates) whose trail (`trails`, by demo id) has no
 * notice about its current expiry. A candidate without a trail in `trails` gets none (its trail could not be read).
 */
export function planExpiryNotices(
  picture: NoticePicture,
  acted: ReadonlySet<string>,
  trails: ReadonlyMap<string, readonly DemoEvent[]>,
): ExpiryNotice[] {
  return noticeCandidates(picture, acted)
    .filter((d) => {
      const trail = trails.get(d.id)
      return trail !== undefined && !wasNoticed(trail, d.expiresAt)
    })
    .map((d) => noticeOf(d, picture.now))
}
