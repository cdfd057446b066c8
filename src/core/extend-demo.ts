import {assertModifiable, isExpired, type Demo, type LifetimePolicy} from './demo.js'
import {formatDuration, hours} from './duration.js'
import {DemoExpiredError, LimitError, PermissionError, UsageError, VersionConflictError} from './errors.js'
import {findDemo} from './find-demo.js'
import {mayManage} from './identity.js'
import type {Clock, DemoStore} from './ports.js'

export interface ExtendRequest {
  id: string
  hours: number
  actor: string
  admins: readonly string[]
}

const MAX_ATTEMPTS = 5

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

function decideNewExpiry(demo: Demo, request: ExtendRequest, policy: LifetimePolicy, now: Date): Date {
  if (!mayManage(request.actor, demo, request.admins)) {
    throw new PermissionError(`Cannot extend demo "${demo.id}": it belongs to ${demo.createdBy}, and you are ${request.actor}.`, {
      hint: 'Ask its owner, or an admin listed under `admins` in demo.config.yaml.',
    })
  }
  assertModifiable(demo, 'extend')
  if (isExpired(demo, now)) {
    throw new DemoExpiredError(`Cannot extend demo "${demo.id}": it expired at ${utc(demo.expiresAt)}.`, {hint: 'Create a new demo with `demo create`.'})
  }
  if (demo.extensionCount >= policy.maxExtensions) {
    throw new LimitError(`Cannot extend demo "${demo.id}": it was already extended ${demo.extensionCount} times (the maximum).`, {
      hint: 'Create a new demo, or raise lifetime.maxExtensions in demo.config.yaml.',
    })
  }
  const latest = demo.createdAt.getTime() + hours(policy.maxLifetimeHours)
  const wanted = demo.expiresAt.getTime() + hours(request.hours)
  if (wanted > latest) {
    const left = latest - demo.expiresAt.getTime()
    throw new LimitError(
      `Cannot extend demo "${demo.id}" by ${request.hours}h: it may live at most ${policy.maxLifetimeHours}h in all (until ${utc(new Date(latest))}).`,
      {hint: left >= 60_000 ? `Extend by at most ${formatDuration(left)}.` : 'Create a new demo with `demo create`.'},
    )
  }
  return new Date(wanted)
}

/**
 * Adds hours to a live demo's expiry, within the policy. Concurrent extends never lose an update:
 * each is a compare-and-set on the row's version, re-read and re-decided on conflict, so both count
 * or the later one is refused by the policy. Refusals: PermissionError, ConflictError (the demo is gone or
 * going), DemoExpiredError, LimitError (extensions or lifetime used up), VersionConflictError (five lost races).
 */
export async function extendDemo(deps: {store: DemoStore; clock: Clock; policy: LifetimePolicy}, request: ExtendRequest): Promise<Demo> {
  const {policy} = deps
  if (!Number.isFinite(request.hours) || request.hours < policy.minExtendHours || request.hours > policy.maxExtendHours) {
    throw new UsageError(`--hours must be between ${policy.minExtendHours} and ${policy.maxExtendHours}, got ${request.hours}.`, {
      hint: `Run \`demo extend ${request.id} --hours 2\`.`,
    })
  }
  for (let attempt = 1; ; attempt++) {
    const demo = await findDemo(deps.store, request.id)
    const now = deps.clock.now()
    const expiresAt = decideNewExpiry(demo, request, policy, now)
    try {
      return await deps.store.update(
        demo.id,
        demo.version,
        {expiresAt, extensionCount: demo.extensionCount + 1},
        {demoId: demo.id, type: 'extended', at: now, actor: request.actor, data: {hours: request.hours, from: demo.expiresAt.toISOString(), to: expiresAt.toISOString()}},
      )
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error
    }
  }
}
