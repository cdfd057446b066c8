import {formatDuration} from './duration.js'
import {isLive, type Demo} from './demo.js'

/** How close to its expiry a demo of yours gets a warning from `list` and `get`. */
export const EXPIRY_WARNING_MS = 30 * 60_000

/**
 * Warnings for `user`'s live demos that expire within EXPIRY_WARNING_MS (and have not expired yet), each with
 * the exact command that extends it. Other people's demos are theirs to hear about.
 */
export function expiryWarnings(demos: readonly Demo[], user: string, now: Date): string[] {
  return demos
    .filter((d) => d.createdBy === user && isLive(d.status) && d.status !== 'destroying')
    .filter((d) => {
      const left = d.expiresAt.getTime() - now.getTime()
      return left > 0 && left <= EXPIRY_WARNING_MS
    })
    .map(
      (d) =>
        `Your demo ${d.id}${d.name ? ` (${d.name})` : ''} expires in ${formatDuration(d.expiresAt.getTime() - now.getTime())}; keep it with \`demo extend ${d.id} --by 1h\`.`,
    )
}
